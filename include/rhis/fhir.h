/*
 * fhir.h - shared pieces of the HL7 FHIR R4 facade: search paging, Bundles,
 * instants, and a WHERE builder that binds every value.
 *
 * Why: each module maps its typed tables to FHIR resources; the search
 * grammar (prefixes, _count, paging links) and the Bundle shape are the same
 * for all of them and must not be re-implemented per resource.
 */
#ifndef RHIS_FHIR_H
#define RHIS_FHIR_H

#include <json-c/json.h>
#include <stdint.h>

#include "rhis/db.h"
#include "rhis/http.h"

#define RHIS_FHIR_MAX_COUNT 1000
#define RHIS_SQL_MAX_TERMS  32

typedef struct rhis_fhir_search {
    int count;         /* _count, 1..RHIS_FHIR_MAX_COUNT */
    int64_t offset;    /* _offset (our paging cursor) */
    int summary_count; /* _summary=count */
} rhis_fhir_search;

/* Reads _count, _offset and _summary; errors are recorded on req. */
rhis_status
rhis_fhir_search_init(rhis_req *req, rhis_fhir_search *s, int default_count);
/* True for parameters every search accepts (_count, _offset, ...). */
int rhis_fhir_is_control_param(const char *key);
/* Parses a positive integer id named `what`; 400 on anything else. */
rhis_status rhis_fhir_parse_id(rhis_req *req,
                               const char *what,
                               const char *v,
                               int64_t *out);

/*
 * A conjunction of fixed SQL terms from the code (never from input), each
 * with at most one bound value.  Values are copied by reference: they must
 * outlive the query (request arena).
 */
typedef struct rhis_sql_where {
    int n;
    const char *term[RHIS_SQL_MAX_TERMS];
    char type[RHIS_SQL_MAX_TERMS]; /* 'i', 's', 'd', 'S' (two) or 0 */
    int64_t ival[RHIS_SQL_MAX_TERMS];
    double dval[RHIS_SQL_MAX_TERMS];
    const char *sval[RHIS_SQL_MAX_TERMS];
    const char *sval2[RHIS_SQL_MAX_TERMS];
    int64_t ival2[RHIS_SQL_MAX_TERMS];
} rhis_sql_where;

void rhis_sql_where_init(rhis_sql_where *w);
/* Adds "AND term"; type is 'i' (ival), 's' (sval) or 0. */
void rhis_sql_where_add(rhis_sql_where *w,
                        const char *term,
                        char type,
                        int64_t ival,
                        const char *sval);
/* Adds a term with two text values (two '?', bound in order). */
void rhis_sql_where_add2(rhis_sql_where *w,
                         const char *term,
                         const char *s1,
                         const char *s2);
/* Adds a term with two integer values ('I'). */
void rhis_sql_where_add_ii(rhis_sql_where *w,
                           const char *term,
                           int64_t i1,
                           int64_t i2);
void rhis_sql_where_add_double(rhis_sql_where *w, const char *term, double v);
/* SELECT COUNT(*) FROM table WHERE ... */
rhis_status rhis_sql_where_count(rhis_db *db,
                                 const rhis_sql_where *w,
                                 const char *table,
                                 int64_t *out);
/* select_sql WHERE ... order LIMIT count OFFSET offset; *out ready. */
rhis_status rhis_sql_where_select(rhis_db *db,
                                  const rhis_sql_where *w,
                                  const char *select_sql,
                                  const char *order,
                                  int count,
                                  int64_t offset,
                                  rhis_stmt **out);

/* Maps the current row of a search to a new FHIR resource. */
typedef json_object *(*rhis_fhir_row_fn)(rhis_stmt *st);

/*
 * Runs a search and answers with a searchset Bundle: counts the rows of
 * `from` matching w, selects `columns` of the page given by s (none for
 * _summary=count) in `order`, maps each row with fn.  from, columns and
 * order are SQL literals of the caller.  Errors are recorded on req.
 */
rhis_status rhis_fhir_search_respond(rhis_req *req,
                                     rhis_resp *resp,
                                     const rhis_fhir_search *s,
                                     const rhis_sql_where *w,
                                     const char *from,
                                     const char *columns,
                                     const char *order,
                                     const char *type,
                                     rhis_fhir_row_fn fn);

/* FHIR date search value with optional prefix (eq ge le gt lt) on a column
 * holding unix milliseconds / seconds / ISO date text. */
rhis_status rhis_fhir_where_date_ms(rhis_req *req,
                                    rhis_sql_where *w,
                                    const char *column,
                                    const char *value);

/* The same without a request: terms allocated from a, a message in err
 * (RHIS_EINVAL) for a malformed value or prefix. */
rhis_status rhis_fhir_where_date(rhis_arena *a,
                                 rhis_sql_where *w,
                                 const char *column,
                                 const char *value,
                                 char *err,
                                 size_t errlen);

/* Formats unix milliseconds as a FHIR instant (UTC). */
void rhis_fhir_instant_ms(int64_t ms, char *out, size_t len);
void rhis_fhir_instant(int64_t sec, char *out, size_t len);

/* A searchset Bundle with total and self/next/previous links built from
 * the request's own query. */
json_object *
rhis_fhir_bundle_new(rhis_req *req, const rhis_fhir_search *s, int64_t total);
/* Takes ownership of resource. */
void rhis_fhir_bundle_add(rhis_req *req,
                          json_object *bundle,
                          json_object *resource,
                          const char *type);
/* Answers with Content-Type application/fhir+json. */
void rhis_fhir_respond(rhis_resp *resp, int status, json_object *obj);

/* Sets ETag W/"version" and Last-Modified-ish meta headers. */
void rhis_fhir_set_version(rhis_req *req, rhis_resp *resp, int64_t version);
/* Checks If-Match against version: RHIS_EPRECOND (recorded) on mismatch,
 * RHIS_EINVAL on a malformed header, RHIS_OK when absent or equal. */
rhis_status rhis_fhir_check_if_match(rhis_req *req, int64_t version);

#endif

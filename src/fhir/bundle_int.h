/*
 * bundle_int.h - private to src/fhir: running a FHIR read inside another
 * request, shared by batch/transaction Bundles (their GET entries) and
 * Patient/$everything (the Organizations and Practitioners it includes).
 *
 * Why: a GET entry of a Bundle may name any read or search RHIS serves,
 * including the registry's resources that the versioned store does not
 * hold.  Sending it through the route table runs the very handler, role
 * check and audit a plain GET would, so a Bundle can never read more than
 * its caller could read one request at a time.
 */
#ifndef RHIS_FHIR_BUNDLE_INT_H
#define RHIS_FHIR_BUNDLE_INT_H

#include <json-c/json.h>

#include "rhis/http.h"

/* The outcome of one local GET. */
typedef struct rhis_fhir_local {
    int status;        /* HTTP status of the answer */
    rhis_status rc;    /* RHIS_OK, or why it failed */
    json_object *body; /* the answer (new; caller puts it), NULL on error */
    const char *etag;  /* ETag header (arena), NULL if none */
    const char *text;  /* error message (arena), NULL on success */
    const char *expr;  /* element at fault (arena), NULL if none */
} rhis_fhir_local;

/* Flags of rhis_fhir_local_get. */
enum {
    /* a refusal is an answer, not an event: no "forbidden" audit (for
     * optional extras such as the Practitioners $everything includes) */
    RHIS_FHIR_LOCAL_QUIET = 1u << 0,
};

/*
 * Runs "GET /fhir/<url>" (url relative to the FHIR base, percent-encoded,
 * with an optional query) as the caller of req, on req's connection and
 * arena, through the route table: role check, handler and the audit of
 * ROUTE_AUDIT routes and refusals as in a plain request.  req must already
 * hold its connection (rhis_req_db).  Fills *out; the return value is
 * out->rc.
 */
rhis_status rhis_fhir_local_get(rhis_req *req,
                                const char *url,
                                unsigned flags,
                                rhis_fhir_local *out);

/*
 * Calls fn for every object of res (recursively) that has a string
 * "reference", with the holder object, the reference and the holder's path
 * (root, e.g. "Observation", followed by ".subject", ".performer[0]").  fn
 * may replace the holder's "reference".
 */
void rhis_fhir_walk_refs(json_object *res,
                         const char *root,
                         void (*fn)(void *arg,
                                    json_object *holder,
                                    const char *ref,
                                    const char *path),
                         void *arg);

#endif

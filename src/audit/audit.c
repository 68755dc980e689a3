/*
 * audit.c - appends audit events and answers FHIR AuditEvent searches.
 *
 * Why: the plans open records "to the resident and to authorised
 * institutions"; that promise is only checkable if every access leaves a
 * trace nobody can edit.  The table refuses UPDATE and DELETE by trigger.
 */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "rhis/audit.h"
#include "rhis/fhir.h"
#include "rhis/handlers.h"
#include "rhis/http.h"

rhis_status
rhis_audit_write(rhis_db *db, const rhis_audit_event *ev)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    int64_t ts = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    return rhis_db_run(
        db,
        "INSERT INTO audit_event (ts, user_id, username, role, action,"
        " operation, resource_type, resource_id, patient_id, outcome,"
        " address, request_id, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "iisssssssisss", ts, ev->user_id, ev->username, ev->role,
        ev->action != NULL ? ev->action : "E",
        ev->operation != NULL ? ev->operation : "unknown", ev->resource_type,
        ev->resource_id, ev->patient_id, (int64_t)ev->outcome, ev->address,
        ev->request_id, ev->detail);
}

static json_object *
coding(const char *system, const char *code, const char *display)
{
    json_object *c = json_object_new_object();
    json_object_object_add(c, "system", json_object_new_string(system));
    json_object_object_add(c, "code", json_object_new_string(code));
    if (display != NULL)
        json_object_object_add(c, "display", json_object_new_string(display));
    return c;
}

/* Maps one audit_event row (columns as selected below) to FHIR. */
static json_object *
to_fhir(rhis_stmt *st)
{
    char id[32], when[40];
    snprintf(id, sizeof(id), "%lld", (long long)rhis_db_column_int64(st, 0));
    rhis_fhir_instant_ms(rhis_db_column_int64(st, 1), when, sizeof(when));
    json_object *ae = json_object_new_object();
    json_object_object_add(ae, "resourceType",
                           json_object_new_string("AuditEvent"));
    json_object_object_add(ae, "id", json_object_new_string(id));
    const char *op = rhis_db_column_text(st, 6);
    json_object_object_add(
        ae, "type",
        coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest",
               "RESTful Operation"));
    json_object *sub = json_object_new_array();
    json_object_array_add(
        sub, coding("urn:rhis:operation", op != NULL ? op : "unknown", NULL));
    json_object_object_add(ae, "subtype", sub);
    json_object_object_add(ae, "action",
                           json_object_new_string(rhis_db_column_text(st, 5)));
    json_object_object_add(ae, "recorded", json_object_new_string(when));
    int outcome = (int)rhis_db_column_int64(st, 10);
    /* 0 success, 4 minor failure (refused), 8 serious failure */
    json_object_object_add(ae, "outcome",
                           json_object_new_string(outcome < 400   ? "0"
                                                  : outcome < 500 ? "4"
                                                                  : "8"));
    char desc[32];
    snprintf(desc, sizeof(desc), "HTTP %d", outcome);
    json_object_object_add(ae, "outcomeDesc", json_object_new_string(desc));

    json_object *agent = json_object_new_object();
    json_object *who = json_object_new_object();
    if (!rhis_db_column_is_null(st, 2)) {
        char ref[48];
        snprintf(ref, sizeof(ref), "urn:rhis:user:%lld",
                 (long long)rhis_db_column_int64(st, 2));
        json_object *ident = json_object_new_object();
        json_object_object_add(ident, "system",
                               json_object_new_string("urn:rhis:user"));
        json_object_object_add(ident, "value",
                               json_object_new_string(ref + 14));
        json_object_object_add(who, "identifier", ident);
    }
    const char *uname = rhis_db_column_text(st, 3);
    json_object_object_add(
        who, "display",
        json_object_new_string(uname != NULL ? uname : "anonymous"));
    json_object_object_add(agent, "who", who);
    const char *role = rhis_db_column_text(st, 4);
    if (role != NULL) {
        json_object *roles = json_object_new_array();
        json_object *cc = json_object_new_object();
        json_object *codings = json_object_new_array();
        json_object_array_add(codings, coding("urn:rhis:role", role, NULL));
        json_object_object_add(cc, "coding", codings);
        json_object_array_add(roles, cc);
        json_object_object_add(agent, "role", roles);
    }
    json_object_object_add(agent, "requestor", json_object_new_boolean(1));
    const char *addr = rhis_db_column_text(st, 11);
    if (addr != NULL) {
        json_object *net = json_object_new_object();
        json_object_object_add(net, "address", json_object_new_string(addr));
        json_object_object_add(net, "type", json_object_new_string("2"));
        json_object_object_add(agent, "network", net);
    }
    json_object *agents = json_object_new_array();
    json_object_array_add(agents, agent);
    json_object_object_add(ae, "agent", agents);

    json_object *src = json_object_new_object();
    json_object *obs = json_object_new_object();
    json_object_object_add(obs, "display", json_object_new_string("RHIS"));
    json_object_object_add(src, "observer", obs);
    json_object_object_add(ae, "source", src);

    const char *rtype = rhis_db_column_text(st, 7);
    const char *rid = rhis_db_column_text(st, 8);
    const char *patient = rhis_db_column_text(st, 9);
    json_object *entities = json_object_new_array();
    if (rtype != NULL) {
        json_object *ent = json_object_new_object();
        json_object *what = json_object_new_object();
        char ref[160];
        if (rid != NULL)
            snprintf(ref, sizeof(ref), "%s/%s", rtype, rid);
        else
            snprintf(ref, sizeof(ref), "%s", rtype);
        json_object_object_add(what, "reference", json_object_new_string(ref));
        json_object_object_add(ent, "what", what);
        json_object_array_add(entities, ent);
    }
    if (patient != NULL) {
        json_object *ent = json_object_new_object();
        json_object *what = json_object_new_object();
        char ref[96];
        snprintf(ref, sizeof(ref), "Patient/%s", patient);
        json_object_object_add(what, "reference", json_object_new_string(ref));
        json_object_object_add(ent, "what", what);
        json_object_object_add(
            ent, "type",
            coding("http://terminology.hl7.org/CodeSystem/audit-entity-type",
                   "1", "Person"));
        json_object_array_add(entities, ent);
    }
    const char *rq = rhis_db_column_text(st, 12);
    if (rq != NULL) {
        json_object *ent = json_object_new_object();
        json_object *what = json_object_new_object();
        json_object *ident = json_object_new_object();
        json_object_object_add(ident, "system",
                               json_object_new_string("urn:rhis:request-id"));
        json_object_object_add(ident, "value", json_object_new_string(rq));
        json_object_object_add(what, "identifier", ident);
        json_object_object_add(ent, "what", what);
        const char *detail = rhis_db_column_text(st, 13);
        if (detail != NULL)
            json_object_object_add(ent, "description",
                                   json_object_new_string(detail));
        json_object_array_add(entities, ent);
    }
    json_object_object_add(ae, "entity", entities);
    return ae;
}

/*
 * GET /fhir/AuditEvent - search parameters: date (ge/le/gt/lt, repeatable),
 * agent (user id), entity-type, entity (Type/id), patient, action,
 * outcome, _count, _offset.  Admins see everything in their scope; the
 * newest events come first.
 */
rhis_status
api_auditevent_search(rhis_req *req, rhis_resp *resp)
{
    rhis_fhir_search s;
    rhis_status rc = rhis_fhir_search_init(req, &s, 50);
    if (rc != RHIS_OK)
        return rc;
    rhis_sql_where w;
    rhis_sql_where_init(&w);
    for (int i = 0; i < req->query.n; i++) {
        const char *k = req->query.kv[i].key, *v = req->query.kv[i].value;
        if (strcmp(k, "date") == 0) {
            rc = rhis_fhir_where_date_ms(req, &w, "ts", v);
        } else if (strcmp(k, "agent") == 0 || strcmp(k, "user") == 0) {
            int64_t uid;
            rc = rhis_fhir_parse_id(req, k, v, &uid);
            if (rc == RHIS_OK)
                rhis_sql_where_add(&w, "user_id = ?", 'i', uid, NULL);
        } else if (strcmp(k, "entity-type") == 0) {
            rhis_sql_where_add(&w, "resource_type = ?", 's', 0, v);
        } else if (strcmp(k, "entity") == 0) {
            const char *slash = strchr(v, '/');
            if (slash == NULL)
                rc =
                    rhis_req_errorf(req, RHIS_EINVAL, "entity must be Type/id");
            else {
                rhis_sql_where_add(
                    &w, "resource_type = ?", 's', 0,
                    rhis_arena_strndup(req->arena, v, (size_t)(slash - v)));
                rhis_sql_where_add(&w, "resource_id = ?", 's', 0, slash + 1);
            }
        } else if (strcmp(k, "patient") == 0) {
            const char *id = strncmp(v, "Patient/", 8) == 0 ? v + 8 : v;
            rhis_sql_where_add(&w, "patient_id = ?", 's', 0, id);
        } else if (strcmp(k, "action") == 0) {
            if (strlen(v) != 1 || strchr("CRUDE", v[0]) == NULL)
                rc = rhis_req_errorf(req, RHIS_EINVAL,
                                     "action must be one of C R U D E");
            else
                rhis_sql_where_add(&w, "action = ?", 's', 0, v);
        } else if (strcmp(k, "outcome") == 0) {
            if (strcmp(v, "0") == 0)
                rhis_sql_where_add(&w, "outcome < 400", 0, 0, NULL);
            else if (strcmp(v, "4") == 0)
                rhis_sql_where_add(&w, "outcome >= 400 AND outcome < 500", 0, 0,
                                   NULL);
            else if (strcmp(v, "8") == 0)
                rhis_sql_where_add(&w, "outcome >= 500", 0, 0, NULL);
            else
                rc = rhis_req_errorf(req, RHIS_EINVAL,
                                     "outcome must be 0, 4 or 8");
        } else if (!rhis_fhir_is_control_param(k)) {
            rc = rhis_req_errorf(req, RHIS_EINVAL,
                                 "unknown search parameter '%s' for "
                                 "AuditEvent",
                                 k);
        }
        if (rc != RHIS_OK)
            return rc;
    }
    return rhis_fhir_search_respond(
        req, resp, &s, &w, "audit_event",
        "id, ts, user_id, username, role, action, operation, resource_type,"
        " resource_id, patient_id, outcome, address, request_id, detail",
        "ORDER BY ts DESC, id DESC", "AuditEvent", to_fhir);
}

/*
 * respond.c - the one place that maps a status to an HTTP code and writes
 * error bodies as FHIR OperationOutcome.
 *
 * Why: integrators (FHIR clients) and the web UI both read one error shape;
 * keeping the mapping here means a handler can never answer 200 with an
 * error or 500 for bad input.
 */
#include <string.h>

#include "rhis/http.h"
#include "rhis/json.h"

int
rhis_http_code(rhis_status st)
{
    switch (st) {
    case RHIS_OK:
    case RHIS_ROW:
    case RHIS_DONE:
        return 200;
    case RHIS_EINVAL:
        return 400;
    case RHIS_EUNAUTH:
        return 401;
    case RHIS_EFORBIDDEN:
        return 403;
    case RHIS_ENOTFOUND:
        return 404;
    case RHIS_EMETHOD:
        return 405;
    case RHIS_ECONFLICT:
        return 409;
    case RHIS_EPRECOND:
        return 412;
    case RHIS_EGONE:
        return 410;
    case RHIS_ETOOBIG:
        return 413;
    case RHIS_EUNSUPPORTED:
        return 415;
    case RHIS_ERATE:
        return 429;
    case RHIS_EIO:
    case RHIS_EBUSY:
        return 503;
    case RHIS_EINTERNAL:
        return 500;
    }
    return 500;
}

const char *
rhis_fhir_issue_code(rhis_status st)
{
    /* http://hl7.org/fhir/R4/valueset-issue-type.html */
    switch (st) {
    case RHIS_EINVAL:
        return "invalid";
    case RHIS_EUNAUTH:
        return "login";
    case RHIS_EFORBIDDEN:
        return "forbidden";
    case RHIS_ENOTFOUND:
        return "not-found";
    case RHIS_EGONE:
        return "deleted";
    case RHIS_EMETHOD:
        return "not-supported";
    case RHIS_ECONFLICT:
        return "conflict";
    case RHIS_EPRECOND:
        return "conflict";
    case RHIS_ETOOBIG:
        return "too-costly";
    case RHIS_EUNSUPPORTED:
        return "not-supported";
    case RHIS_ERATE:
        return "throttled";
    case RHIS_EIO:
    case RHIS_EBUSY:
        return "transient";
    default:
        return "exception";
    }
}

void
rhis_resp_text(rhis_resp *resp,
               int status,
               const char *ctype,
               const char *text,
               size_t len)
{
    resp->status = status;
    resp->content_type = ctype;
    rhis_buf_reset(&resp->body);
    if (rhis_buf_append(&resp->body, text, len) != RHIS_OK) {
        static const char msg[] =
            "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":"
            "\"error\",\"code\":\"too-costly\",\"diagnostics\":\"response "
            "too large\"}]}";
        rhis_buf_reset(&resp->body);
        (void)rhis_buf_append(&resp->body, msg, sizeof(msg) - 1);
        resp->status = 500;
        resp->content_type = "application/fhir+json; charset=utf-8";
    }
}

void
rhis_resp_json(rhis_resp *resp, int status, json_object *obj)
{
    const char *s = rhis_json_print(obj);
    rhis_resp_text(resp, status, "application/json; charset=utf-8", s,
                   strlen(s));
}

void
rhis_resp_header(rhis_resp *resp, const char *name, const char *value)
{
    for (int i = 0; i < resp->nheaders; i++) {
        if (strcmp(resp->headers[i].key, name) == 0) {
            resp->headers[i].value = value;
            return;
        }
    }
    RHIS_ASSERT(resp->nheaders <
                (int)(sizeof(resp->headers) / sizeof(resp->headers[0])));
    resp->headers[resp->nheaders].key = name;
    resp->headers[resp->nheaders].value = value;
    resp->nheaders++;
}

void
rhis_resp_error(rhis_resp *resp,
                rhis_status st,
                const char *text,
                const char *expr,
                const char *request_id)
{
    json_object *oo = json_object_new_object();
    json_object_object_add(oo, "resourceType",
                           json_object_new_string("OperationOutcome"));
    json_object *issue = json_object_new_object();
    json_object_object_add(
        issue, "severity",
        json_object_new_string(st == RHIS_EIO || st == RHIS_EINTERNAL ||
                                       st == RHIS_EBUSY
                                   ? "fatal"
                                   : "error"));
    json_object_object_add(issue, "code",
                           json_object_new_string(rhis_fhir_issue_code(st)));
    json_object *details = json_object_new_object();
    json_object_object_add(details, "text",
                           json_object_new_string(rhis_status_name(st)));
    json_object_object_add(issue, "details", details);
    json_object_object_add(issue, "diagnostics",
                           json_object_new_string(text != NULL && *text != '\0'
                                                      ? text
                                                      : rhis_status_name(st)));
    if (expr != NULL) {
        json_object *ex = json_object_new_array();
        json_object_array_add(ex, json_object_new_string(expr));
        json_object_object_add(issue, "expression", ex);
    }
    json_object *issues = json_object_new_array();
    json_object_array_add(issues, issue);
    json_object_object_add(oo, "issue", issues);
    if (request_id != NULL) {
        /* the request id lets an operator find the access-log line */
        json_object *meta = json_object_new_object();
        json_object *tags = json_object_new_array();
        json_object *tag = json_object_new_object();
        json_object_object_add(tag, "system",
                               json_object_new_string("urn:rhis:request-id"));
        json_object_object_add(tag, "code", json_object_new_string(request_id));
        json_object_array_add(tags, tag);
        json_object_object_add(meta, "tag", tags);
        json_object_object_add(oo, "meta", meta);
    }
    const char *s = rhis_json_print(oo);
    rhis_resp_text(resp, rhis_http_code(st),
                   "application/fhir+json; charset=utf-8", s, strlen(s));
    json_object_put(oo);
}

/*
 * api_system.c - /healthz, /metrics, the CapabilityStatement and static
 * files of the web UI.
 *
 * Why: operators probe health and scrape metrics; integrators read
 * /fhir/metadata to learn what this server supports, so it is generated
 * from the route table and cannot claim an interaction that has no route.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rhis/fhir.h"
#include "rhis/handlers.h"
#include "rhis/json.h"
#include "server_int.h"

rhis_status
api_health(rhis_req *req, rhis_resp *resp)
{
    rhis_db *db;
    int64_t v = 0;
    rhis_status rc = rhis_req_db(req, &db);
    if (rc == RHIS_OK)
        rc = rhis_db_scalar_int64(db, &v,
                                  "SELECT COALESCE(MAX(version), 0) FROM"
                                  " schema_version",
                                  "");
    if (rc != RHIS_OK)
        return rhis_req_errorf(req, RHIS_EIO, "database unavailable");
    char body[160];
    int n = snprintf(
        body, sizeof(body), "{\"status\":\"ok\",\"db\":\"%s\",\"schema\":%lld}",
        rhis_db_dialect(db) == RHIS_DIALECT_SQLITE ? "sqlite" : "postgresql",
        (long long)v);
    rhis_resp_text(resp, 200, "application/json; charset=utf-8", body,
                   (size_t)n);
    rhis_resp_header(resp, "Cache-Control", "no-store");
    return RHIS_OK;
}

rhis_status
api_metrics(rhis_req *req, rhis_resp *resp)
{
    rhis_buf b;
    rhis_buf_init(&b, 1 << 20);
    rhis_server_metrics_write(req->srv, &b);
    rhis_resp_text(resp, 200, "text/plain; version=0.0.4; charset=utf-8",
                   b.data, b.len);
    rhis_buf_fini(&b);
    return RHIS_OK;
}

rhis_status
api_static(rhis_req *req, rhis_resp *resp)
{
    const char *rel = rhis_req_param(req, "path");
    if (rel == NULL || rel[0] == '\0')
        rel = "index.html";
    if (strncmp(rel, "api/", 4) == 0 || strncmp(rel, "fhir/", 5) == 0)
        return rhis_req_errorf(req, RHIS_ENOTFOUND, "no such endpoint: /%s",
                               rel);
    /* no dot-files, no parent directories, no absolute paths */
    if (strstr(rel, "..") != NULL || rel[0] == '/' || strstr(rel, "/.") ||
        rel[0] == '.')
        return rhis_req_errorf(req, RHIS_ENOTFOUND, "no such file");
    char root[PATH_MAX], full[PATH_MAX];
    if (realpath(req->conf->web_root, root) == NULL)
        return rhis_req_errorf(req, RHIS_ENOTFOUND,
                               "web UI not installed (web_root %s)",
                               req->conf->web_root);
    char *path = rhis_arena_printf(req->arena, "%s/%s", root, rel);
    if (realpath(path, full) == NULL ||
        strncmp(full, root, strlen(root)) != 0 || full[strlen(root)] != '/')
        return rhis_req_errorf(req, RHIS_ENOTFOUND, "no such file: /%s", rel);
    struct stat sb;
    if (stat(full, &sb) != 0 || !S_ISREG(sb.st_mode))
        return rhis_req_errorf(req, RHIS_ENOTFOUND, "no such file: /%s", rel);
    resp->status = 200;
    resp->file_path = rhis_arena_strdup(req->arena, full);
    rhis_resp_header(resp, "Cache-Control",
                     strncmp(rel, "vendor/", 7) == 0 ? "max-age=86400"
                                                     : "no-cache");
    return RHIS_OK;
}

/* Adds interaction code to the resource entry for type, creating it. */
static void
add_interaction(json_object *resources, const char *type, const char *code)
{
    json_object *res = NULL;
    size_t n = json_object_array_length(resources);
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(resources, i);
        if (strcmp(rhis_json_get_str(r, "type"), type) == 0)
            res = r;
    }
    if (res == NULL) {
        res = json_object_new_object();
        json_object_object_add(res, "type", json_object_new_string(type));
        json_object_object_add(res, "interaction", json_object_new_array());
        json_object_array_add(resources, res);
    }
    json_object *ints = rhis_json_get(res, "interaction");
    json_object *i = json_object_new_object();
    json_object_object_add(i, "code", json_object_new_string(code));
    json_object_array_add(ints, i);
    if (strcmp(code, "update") == 0)
        json_object_object_add(res, "versioning",
                               json_object_new_string("versioned-update"));
}

rhis_status
api_fhir_metadata(rhis_req *req, rhis_resp *resp)
{
    json_object *cs = json_object_new_object();
    json_object_object_add(cs, "resourceType",
                           json_object_new_string("CapabilityStatement"));
    json_object_object_add(cs, "status", json_object_new_string("active"));
    json_object_object_add(cs, "date", json_object_new_string("2026-11-23"));
    json_object_object_add(cs, "kind", json_object_new_string("instance"));
    json_object *sw = json_object_new_object();
    json_object_object_add(sw, "name", json_object_new_string("RHIS"));
    json_object_object_add(sw, "version", json_object_new_string("0.1.0"));
    json_object_object_add(cs, "software", sw);
    json_object_object_add(cs, "fhirVersion", json_object_new_string("4.0.1"));
    json_object *fmt = json_object_new_array();
    json_object_array_add(fmt, json_object_new_string("application/fhir+json"));
    json_object_object_add(cs, "format", fmt);
    json_object *rest = json_object_new_object();
    json_object_object_add(rest, "mode", json_object_new_string("server"));
    json_object *sec = json_object_new_object();
    json_object_object_add(
        sec, "description",
        json_object_new_string("Bearer token from POST /api/v1/login; each "
                               "route admits listed roles and the user's "
                               "area scope"));
    json_object_object_add(rest, "security", sec);
    json_object *resources = json_object_new_array();
    size_t n;
    const rhis_route *routes = rhis_routes(&n);
    for (size_t i = 0; i < n; i++) {
        const rhis_route *r = &routes[i];
        if (strncmp(r->pattern, "/fhir/", 6) != 0)
            continue;
        const char *type = r->pattern + 6;
        const char *slash = strchr(type, '/');
        char t[48];
        size_t tl = slash != NULL ? (size_t)(slash - type) : strlen(type);
        if (tl == 0 || tl >= sizeof(t) || type[0] < 'A' || type[0] > 'Z')
            continue;
        memcpy(t, type, tl);
        t[tl] = '\0';
        const char *code = NULL;
        if (slash == NULL && strcmp(r->method, "GET") == 0)
            code = "search-type";
        else if (slash == NULL && strcmp(r->method, "POST") == 0)
            code = "create";
        else if (slash != NULL && strcmp(slash, "/{id}") == 0)
            code = strcmp(r->method, "GET") == 0      ? "read"
                   : strcmp(r->method, "PUT") == 0    ? "update"
                   : strcmp(r->method, "DELETE") == 0 ? "delete"
                                                      : NULL;
        if (code != NULL)
            add_interaction(resources, t, code);
    }
    json_object_object_add(rest, "resource", resources);
    json_object *rests = json_object_new_array();
    json_object_array_add(rests, rest);
    json_object_object_add(cs, "rest", rests);
    (void)req;
    rhis_fhir_respond(resp, 200, cs);
    json_object_put(cs);
    return RHIS_OK;
}

/*
 * test_respond.c - unit tests for status -> HTTP mapping and error bodies
 * (src/http/respond.c).
 *
 * Why: this file is the only place a status becomes an HTTP code and a
 * FHIR OperationOutcome; FHIR clients and the web UI both parse that one
 * shape, so its fields (issue code, severity, diagnostics, expression,
 * request-id tag) are part of the API.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <string.h>

#include "rhis/http.h"
#include "rhis/json.h"

static void
resp_init(rhis_resp *r, size_t max)
{
    memset(r, 0, sizeof(*r));
    rhis_buf_init(&r->body, max);
}

/* Parses the response body strictly; the caller puts the object. */
static json_object *
body_json(const rhis_resp *r)
{
    json_object *o = NULL;
    char err[128] = "";
    rhis_status st =
        rhis_json_parse(r->body.data, r->body.len, 0, &o, err, sizeof(err));
    if (st != RHIS_OK)
        print_error("body is not JSON: %s: %s\n", err, r->body.data);
    assert_int_equal(st, RHIS_OK);
    return o;
}

static void
every_status_maps_to_its_http_code(void **state)
{
    static const struct {
        rhis_status st;
        int code;
        const char *issue;
    } map[] = {
        {RHIS_OK, 200, "exception"},
        {RHIS_EINVAL, 400, "invalid"},
        {RHIS_EUNAUTH, 401, "login"},
        {RHIS_EFORBIDDEN, 403, "forbidden"},
        {RHIS_ENOTFOUND, 404, "not-found"},
        {RHIS_EMETHOD, 405, "not-supported"},
        {RHIS_ECONFLICT, 409, "conflict"},
        {RHIS_EPRECOND, 412, "conflict"},
        {RHIS_ETOOBIG, 413, "too-costly"},
        {RHIS_EUNSUPPORTED, 415, "not-supported"},
        {RHIS_ERATE, 429, "throttled"},
        {RHIS_EINTERNAL, 500, "exception"},
        {RHIS_EIO, 503, "transient"},
        {RHIS_EBUSY, 503, "transient"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        assert_int_equal(rhis_http_code(map[i].st), map[i].code);
        assert_string_equal(rhis_fhir_issue_code(map[i].st), map[i].issue);
    }
    assert_int_equal(rhis_http_code(RHIS_ROW), 200);
    assert_int_equal(rhis_http_code(RHIS_DONE), 200);
    /* a value outside the enum is a bug: 500, never 200 */
    assert_int_equal(rhis_http_code((rhis_status)-99), 500);
    assert_string_equal(rhis_fhir_issue_code((rhis_status)-99), "exception");
}

static void
status_names_are_stable(void **state)
{
    (void)state;
    assert_string_equal(rhis_status_name(RHIS_OK), "ok");
    assert_string_equal(rhis_status_name(RHIS_EINVAL), "invalid_argument");
    assert_string_equal(rhis_status_name(RHIS_ENOTFOUND), "not_found");
    assert_string_equal(rhis_status_name(RHIS_ECONFLICT), "conflict");
    assert_string_equal(rhis_status_name(RHIS_EUNAUTH), "unauthenticated");
    assert_string_equal(rhis_status_name(RHIS_EMETHOD), "method_not_allowed");
    assert_string_equal(rhis_status_name(RHIS_ERATE), "rate_limited");
    assert_string_equal(rhis_status_name((rhis_status)-99), "unknown");
}

static void
error_body_is_an_operation_outcome(void **state)
{
    rhis_resp r;
    (void)state;
    resp_init(&r, 1 << 16);
    rhis_resp_error(&r, RHIS_EINVAL, "field 'tier' is unknown",
                    "Organization.type[0]", "req-0123abcd");
    assert_int_equal(r.status, 400);
    assert_string_equal(r.content_type, "application/fhir+json; charset=utf-8");
    json_object *o = body_json(&r);
    assert_string_equal(rhis_json_get_str(o, "resourceType"),
                        "OperationOutcome");
    json_object *issues = rhis_json_get(o, "issue");
    assert_non_null(issues);
    assert_int_equal(json_object_array_length(issues), 1);
    json_object *issue = json_object_array_get_idx(issues, 0);
    assert_string_equal(rhis_json_get_str(issue, "severity"), "error");
    assert_string_equal(rhis_json_get_str(issue, "code"), "invalid");
    assert_string_equal(rhis_json_get_str(issue, "diagnostics"),
                        "field 'tier' is unknown");
    assert_string_equal(
        rhis_json_get_str(rhis_json_get(issue, "details"), "text"),
        "invalid_argument");
    json_object *expr = rhis_json_get(issue, "expression");
    assert_int_equal(json_object_array_length(expr), 1);
    assert_string_equal(
        json_object_get_string(json_object_array_get_idx(expr, 0)),
        "Organization.type[0]");
    /* the request id travels as a meta tag */
    json_object *tags = rhis_json_get(rhis_json_get(o, "meta"), "tag");
    assert_int_equal(json_object_array_length(tags), 1);
    json_object *tag = json_object_array_get_idx(tags, 0);
    assert_string_equal(rhis_json_get_str(tag, "system"),
                        "urn:rhis:request-id");
    assert_string_equal(rhis_json_get_str(tag, "code"), "req-0123abcd");
    json_object_put(o);
    rhis_buf_fini(&r.body);
}

static void
error_body_without_text_expr_or_request_id(void **state)
{
    rhis_resp r;
    (void)state;
    resp_init(&r, 1 << 16);
    rhis_resp_error(&r, RHIS_ENOTFOUND, NULL, NULL, NULL);
    assert_int_equal(r.status, 404);
    json_object *o = body_json(&r);
    json_object *issue =
        json_object_array_get_idx(rhis_json_get(o, "issue"), 0);
    assert_string_equal(rhis_json_get_str(issue, "code"), "not-found");
    /* no text: the diagnostics fall back to the status name */
    assert_string_equal(rhis_json_get_str(issue, "diagnostics"), "not_found");
    assert_null(rhis_json_get(issue, "expression"));
    assert_null(rhis_json_get(o, "meta"));
    json_object_put(o);

    rhis_resp_error(&r, RHIS_ECONFLICT, "", NULL, NULL);
    o = body_json(&r);
    issue = json_object_array_get_idx(rhis_json_get(o, "issue"), 0);
    assert_string_equal(rhis_json_get_str(issue, "diagnostics"), "conflict");
    json_object_put(o);
    rhis_buf_fini(&r.body);
}

static void
server_side_failures_are_fatal_severity(void **state)
{
    static const rhis_status fatal[] = {RHIS_EIO, RHIS_EBUSY, RHIS_EINTERNAL};
    static const rhis_status error[] = {RHIS_EINVAL, RHIS_EUNAUTH, RHIS_ERATE,
                                        RHIS_ETOOBIG};
    rhis_resp r;
    (void)state;
    resp_init(&r, 1 << 16);
    for (size_t i = 0; i < 3; i++) {
        rhis_resp_error(&r, fatal[i], "x", NULL, NULL);
        json_object *o = body_json(&r);
        json_object *issue =
            json_object_array_get_idx(rhis_json_get(o, "issue"), 0);
        assert_string_equal(rhis_json_get_str(issue, "severity"), "fatal");
        json_object_put(o);
    }
    for (size_t i = 0; i < 4; i++) {
        rhis_resp_error(&r, error[i], "x", NULL, NULL);
        json_object *o = body_json(&r);
        json_object *issue =
            json_object_array_get_idx(rhis_json_get(o, "issue"), 0);
        assert_string_equal(rhis_json_get_str(issue, "severity"), "error");
        json_object_put(o);
    }
    rhis_buf_fini(&r.body);
}

static void
diagnostics_with_quotes_and_chinese_stay_valid_json(void **state)
{
    rhis_resp r;
    (void)state;
    resp_init(&r, 1 << 16);
    rhis_resp_error(&r, RHIS_EINVAL, "区划 \"220221\\x\" 不存在\n", NULL, "r1");
    json_object *o = body_json(&r);
    json_object *issue =
        json_object_array_get_idx(rhis_json_get(o, "issue"), 0);
    assert_string_equal(rhis_json_get_str(issue, "diagnostics"),
                        "区划 \"220221\\x\" 不存在\n");
    json_object_put(o);
    rhis_buf_fini(&r.body);
}

static void
oversized_body_becomes_a_500_operation_outcome(void **state)
{
    rhis_resp r;
    char big[300];
    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    resp_init(&r, 200);
    rhis_resp_text(&r, 200, "text/plain", big, strlen(big));
    assert_int_equal(r.status, 500);
    json_object *o = body_json(&r);
    assert_string_equal(rhis_json_get_str(o, "resourceType"),
                        "OperationOutcome");
    json_object_put(o);
    /* within the cap the text is sent as given */
    rhis_resp_text(&r, 201, "text/plain", "ok", 2);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.content_type, "text/plain");
    assert_int_equal(r.body.len, 2);
    assert_string_equal(r.body.data, "ok");
    rhis_buf_fini(&r.body);
}

static void
resp_json_serialises_compactly(void **state)
{
    rhis_resp r;
    (void)state;
    resp_init(&r, 1 << 16);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "url", json_object_new_string("/fhir/x"));
    rhis_resp_json(&r, 201, o);
    json_object_put(o);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.content_type, "application/json; charset=utf-8");
    assert_string_equal(r.body.data, "{\"url\":\"/fhir/x\"}");
    rhis_buf_fini(&r.body);
}

static void
resp_header_replaces_same_name(void **state)
{
    rhis_resp r;
    (void)state;
    resp_init(&r, 64);
    rhis_resp_header(&r, "ETag", "W/\"1\"");
    rhis_resp_header(&r, "Location", "/fhir/Organization/1");
    rhis_resp_header(&r, "ETag", "W/\"2\"");
    assert_int_equal(r.nheaders, 2);
    assert_string_equal(r.headers[0].key, "ETag");
    assert_string_equal(r.headers[0].value, "W/\"2\"");
    assert_string_equal(r.headers[1].value, "/fhir/Organization/1");
    rhis_buf_fini(&r.body);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_status_maps_to_its_http_code),
        cmocka_unit_test(status_names_are_stable),
        cmocka_unit_test(error_body_is_an_operation_outcome),
        cmocka_unit_test(error_body_without_text_expr_or_request_id),
        cmocka_unit_test(server_side_failures_are_fatal_severity),
        cmocka_unit_test(diagnostics_with_quotes_and_chinese_stay_valid_json),
        cmocka_unit_test(oversized_body_becomes_a_500_operation_outcome),
        cmocka_unit_test(resp_json_serialises_compactly),
        cmocka_unit_test(resp_header_replaces_same_name),
    };
    return cmocka_run_group_tests_name("http respond", tests, NULL, NULL);
}

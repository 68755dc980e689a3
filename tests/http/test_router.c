/*
 * test_router.c - unit tests for route matching (src/http/router.c) on a
 * small local table and on the real table from rhis_routes().
 *
 * Why: the router decides 404 versus 405, extracts path parameters and
 * must not let the static catch-all turn every unknown API path into a
 * 405 (or a web page for a POST).  Testing the real table catches a row
 * added in the wrong order or with the wrong flags.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <string.h>

#include "rhis/handlers.h"
#include "rhis/http.h"

/* Distinct handlers so a match can be identified by its function. */
static rhis_status
h_a(rhis_req *req, rhis_resp *resp)
{
    (void)req;
    (void)resp;
    return RHIS_OK;
}

static rhis_status
h_b(rhis_req *req, rhis_resp *resp)
{
    (void)req;
    (void)resp;
    return RHIS_OK;
}

static const rhis_route local[] = {
    {"GET", "/ping", h_a, 0, 0, "ping"},
    {"POST", "/items", h_a, 0, 0, "create"},
    {"GET", "/items/{id}", h_b, 0, 0, "read"},
    {"PUT", "/items/{id}", h_a, 0, 0, "update"},
    {"GET", "/items/{id}/parts/{part}", h_b, 0, 0, "part"},
    {"GET", "/files/{*rest}", h_a, 0, 0, "files"},
    {"GET", "/", h_b, ROUTE_STATIC, 0, "root"},
    {"GET", "/{*path}", h_b, ROUTE_STATIC, 0, "static"},
};

#define NLOCAL (sizeof(local) / sizeof(local[0]))

static int
arena_setup(void **state)
{
    *state = rhis_arena_new();
    return 0;
}

static int
arena_teardown(void **state)
{
    rhis_arena_free(*state);
    return 0;
}

static rhis_status
find_local(void **state,
           const char *method,
           const char *path,
           rhis_route_match *m)
{
    return rhis_route_find(local, NLOCAL, method, path, *state, m);
}

static rhis_status
find_real(void **state,
          const char *method,
          const char *path,
          rhis_route_match *m)
{
    size_t n;
    const rhis_route *t = rhis_routes(&n);
    return rhis_route_find(t, n, method, path, *state, m);
}

static void
literal_route_matches_exactly(void **state)
{
    rhis_route_match m;
    assert_int_equal(find_local(state, "GET", "/ping", &m), RHIS_OK);
    assert_ptr_equal(m.route, &local[0]);
    assert_int_equal(m.nparams, 0);
    /* trailing slash or extra segment is another path (static here) */
    assert_int_equal(find_local(state, "GET", "/ping/", &m), RHIS_OK);
    assert_ptr_equal(m.route, &local[7]);
    assert_int_equal(find_local(state, "GET", "/pingx", &m), RHIS_OK);
    assert_ptr_equal(m.route, &local[7]);
}

static void
params_are_extracted_by_name(void **state)
{
    rhis_route_match m;
    assert_int_equal(find_local(state, "GET", "/items/42", &m), RHIS_OK);
    assert_ptr_equal(m.route, &local[2]);
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0].key, "id");
    assert_string_equal(m.params[0].value, "42");
    assert_int_equal(find_local(state, "GET", "/items/7/parts/wheel", &m),
                     RHIS_OK);
    assert_ptr_equal(m.route, &local[4]);
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.params[0].key, "id");
    assert_string_equal(m.params[0].value, "7");
    assert_string_equal(m.params[1].key, "part");
    assert_string_equal(m.params[1].value, "wheel");
    /* a parameter segment is never empty */
    assert_int_equal(find_local(state, "PUT", "/items/", &m), RHIS_ENOTFOUND);
    assert_int_equal(find_local(state, "PUT", "/items//parts/x", &m),
                     RHIS_ENOTFOUND);
}

static void
tail_wildcard_takes_the_rest_with_slashes(void **state)
{
    rhis_route_match m;
    assert_int_equal(find_local(state, "GET", "/files/a/b/c.txt", &m), RHIS_OK);
    assert_ptr_equal(m.route, &local[5]);
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0].key, "rest");
    assert_string_equal(m.params[0].value, "a/b/c.txt");
    assert_int_equal(find_local(state, "GET", "/files/", &m), RHIS_OK);
    assert_ptr_equal(m.route, &local[5]);
    assert_string_equal(m.params[0].value, "");
}

static void
wrong_method_on_known_path_is_405_and_unknown_path_404(void **state)
{
    rhis_route_match m;
    assert_int_equal(find_local(state, "DELETE", "/items/9", &m), RHIS_EMETHOD);
    assert_null(m.route);
    assert_int_equal(m.path_matched, 2); /* GET and PUT /items/{id} */
    /* the static catch-all does not make an unknown POST a 405 */
    assert_int_equal(find_local(state, "POST", "/nothing/here", &m),
                     RHIS_ENOTFOUND);
    assert_int_equal(m.path_matched, 0);
    assert_int_equal(find_local(state, "POST", "/", &m), RHIS_ENOTFOUND);
    /* a path without a leading slash never matches */
    assert_int_equal(find_local(state, "GET", "ping", &m), RHIS_ENOTFOUND);
    assert_int_equal(find_local(state, "GET", "", &m), RHIS_ENOTFOUND);
}

static void
head_is_served_by_get(void **state)
{
    rhis_route_match m;
    assert_int_equal(find_local(state, "HEAD", "/items/3", &m), RHIS_OK);
    assert_ptr_equal(m.route, &local[2]);
    assert_string_equal(m.params[0].value, "3");
    assert_int_equal(find_local(state, "HEAD", "/", &m), RHIS_OK);
    assert_ptr_equal(m.route, &local[6]);
}

/*
 * A GET (or HEAD) of a path that only exists for POST must be 405, like
 * any other wrong method: the static catch-all matches every GET path and
 * must not win over a path match (tests/api/cases/021-wrong-method.http
 * expects GET /api/v1/login to be 405).
 */
static void
get_on_post_only_path_is_405_not_the_static_catch_all(void **state)
{
    rhis_route_match m;
    rhis_status st = find_local(state, "GET", "/items", &m);
    if (st == RHIS_OK)
        print_error("GET /items matched '%s'\n", m.route->pattern);
    assert_int_equal(st, RHIS_EMETHOD);
    assert_int_equal(m.path_matched, 1);
    assert_int_equal(find_local(state, "HEAD", "/items", &m), RHIS_EMETHOD);
}

static void
real_table_get_on_login_is_405_not_static(void **state)
{
    rhis_route_match m;
    rhis_status st = find_real(state, "GET", "/api/v1/login", &m);
    if (st == RHIS_OK)
        print_error("GET /api/v1/login matched '%s'\n", m.route->pattern);
    assert_int_equal(st, RHIS_EMETHOD);
    assert_int_equal(find_real(state, "HEAD", "/api/v1/login", &m),
                     RHIS_EMETHOD);
    assert_int_equal(find_real(state, "GET", "/api/v1/logout", &m),
                     RHIS_EMETHOD);
}

static void
method_match_is_case_sensitive(void **state)
{
    rhis_route_match m;
    assert_int_equal(find_local(state, "get", "/ping", &m), RHIS_EMETHOD);
}

static void
too_many_params_do_not_overflow(void **state)
{
    static const rhis_route many[] = {
        {"GET", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}", h_a, 0, 0, "seven"},
        {"GET", "/{a}/{b}/{c}/{d}/{e}/{f}", h_b, 0, 0, "six"},
    };
    rhis_route_match m;
    assert_int_equal(
        rhis_route_find(many, 2, "GET", "/1/2/3/4/5/6/7", *state, &m),
        RHIS_ENOTFOUND);
    assert_int_equal(
        rhis_route_find(many, 2, "GET", "/1/2/3/4/5/6", *state, &m), RHIS_OK);
    assert_ptr_equal(m.route, &many[1]);
    assert_int_equal(m.nparams, RHIS_MAX_PATH_PARAMS);
    assert_string_equal(m.params[5].value, "6");
}

/* ---- the real route table ---- */

static void
real_table_literal_routes(void **state)
{
    rhis_route_match m;
    assert_int_equal(find_real(state, "GET", "/healthz", &m), RHIS_OK);
    assert_ptr_equal(m.route->fn, api_health);
    assert_int_equal(m.route->flags & ROUTE_AUTH, 0);
    assert_int_equal(find_real(state, "GET", "/fhir/metadata", &m), RHIS_OK);
    assert_ptr_equal(m.route->fn, api_fhir_metadata);
    assert_int_equal(find_real(state, "POST", "/api/v1/login", &m), RHIS_OK);
    assert_ptr_equal(m.route->fn, api_login);
    assert_true((m.route->flags & ROUTE_LOGIN) != 0);
    assert_int_equal(m.route->flags & ROUTE_AUTH, 0);
    assert_int_equal(find_real(state, "GET", "/api/v1/me", &m), RHIS_OK);
    assert_ptr_equal(m.route->fn, api_me);
    assert_true((m.route->flags & ROUTE_AUTH) != 0);
}

static void
real_table_params(void **state)
{
    rhis_route_match m;
    assert_int_equal(
        find_real(state, "GET", "/api/v1/areas/220221/children", &m), RHIS_OK);
    assert_ptr_equal(m.route->fn, api_area_children);
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0].key, "code");
    assert_string_equal(m.params[0].value, "220221");
    assert_int_equal(find_real(state, "GET", "/api/v1/areas/220221", &m),
                     RHIS_OK);
    assert_ptr_equal(m.route->fn, api_area_get);
    assert_int_equal(find_real(state, "PUT", "/fhir/Organization/12", &m),
                     RHIS_OK);
    assert_ptr_equal(m.route->fn, api_organization_update);
    assert_string_equal(m.params[0].key, "id");
    assert_string_equal(m.params[0].value, "12");
    assert_true((m.route->flags & ROUTE_WRITE) != 0);
    assert_true((m.route->roles & RHIS_ROLE_RESIDENT) == 0);
    assert_int_equal(find_real(state, "GET", "/fhir/Organization", &m),
                     RHIS_OK);
    assert_ptr_equal(m.route->fn, api_organization_search);
    assert_int_equal(m.nparams, 0);
}

static void
real_table_405_for_known_paths(void **state)
{
    rhis_route_match m;
    assert_int_equal(find_real(state, "POST", "/healthz", &m), RHIS_EMETHOD);
    assert_int_equal(find_real(state, "DELETE", "/fhir/Organization/1", &m),
                     RHIS_EMETHOD);
    assert_int_equal(m.path_matched, 2);
    assert_int_equal(find_real(state, "PATCH", "/fhir/Practitioner/1", &m),
                     RHIS_EMETHOD);
    assert_int_equal(find_real(state, "DELETE", "/api/v1/areas/22", &m),
                     RHIS_EMETHOD);
}

static void
real_table_unknown_paths_are_404_not_405(void **state)
{
    rhis_route_match m;
    assert_int_equal(find_real(state, "POST", "/api/v1/nothing", &m),
                     RHIS_ENOTFOUND);
    assert_int_equal(find_real(state, "DELETE", "/fhir/nothing/1", &m),
                     RHIS_ENOTFOUND);
    assert_int_equal(find_real(state, "PUT", "/index.html", &m),
                     RHIS_ENOTFOUND);
    assert_int_equal(find_real(state, "POST", "/", &m), RHIS_ENOTFOUND);
    assert_int_equal(m.path_matched, 0);
}

static void
real_table_get_of_other_paths_goes_to_static(void **state)
{
    rhis_route_match m;
    assert_int_equal(find_real(state, "GET", "/", &m), RHIS_OK);
    assert_ptr_equal(m.route->fn, api_static);
    assert_int_equal(m.nparams, 0);
    assert_int_equal(find_real(state, "GET", "/js/app.js", &m), RHIS_OK);
    assert_ptr_equal(m.route->fn, api_static);
    assert_true((m.route->flags & ROUTE_STATIC) != 0);
    assert_string_equal(m.params[0].key, "path");
    assert_string_equal(m.params[0].value, "js/app.js");
    /* an API path with a trailing slash is not the API route */
    assert_int_equal(find_real(state, "GET", "/healthz/", &m), RHIS_OK);
    assert_ptr_equal(m.route->fn, api_static);
}

static void
real_table_head_maps_to_get(void **state)
{
    rhis_route_match m;
    assert_int_equal(find_real(state, "HEAD", "/healthz", &m), RHIS_OK);
    assert_ptr_equal(m.route->fn, api_health);
    assert_string_equal(m.route->method, "GET");
    assert_int_equal(find_real(state, "HEAD", "/fhir/Location/220221", &m),
                     RHIS_OK);
    assert_ptr_equal(m.route->fn, api_location_read);
    assert_string_equal(m.params[0].value, "220221");
}

static void
real_table_rows_are_well_formed(void **state)
{
    size_t n;
    const rhis_route *t = rhis_routes(&n);
    (void)state;
    assert_true(n >= 20);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(t[i].fn);
        assert_non_null(t[i].summary);
        assert_int_equal(t[i].pattern[0], '/');
        /* an authenticated route admits at least one role */
        if ((t[i].flags & ROUTE_AUTH) != 0)
            assert_true(t[i].roles != 0);
        /* no two rows share method and pattern */
        for (size_t j = i + 1; j < n; j++)
            assert_false(strcmp(t[i].method, t[j].method) == 0 &&
                         strcmp(t[i].pattern, t[j].pattern) == 0);
    }
    /* the static catch-all is last */
    assert_true((t[n - 1].flags & ROUTE_STATIC) != 0);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, arena_setup, arena_teardown)
    const struct CMUnitTest tests[] = {
        T(literal_route_matches_exactly),
        T(params_are_extracted_by_name),
        T(tail_wildcard_takes_the_rest_with_slashes),
        T(wrong_method_on_known_path_is_405_and_unknown_path_404),
        T(head_is_served_by_get),
        T(get_on_post_only_path_is_405_not_the_static_catch_all),
        T(method_match_is_case_sensitive),
        T(too_many_params_do_not_overflow),
        T(real_table_literal_routes),
        T(real_table_params),
        T(real_table_405_for_known_paths),
        T(real_table_unknown_paths_are_404_not_405),
        T(real_table_get_of_other_paths_goes_to_static),
        T(real_table_head_maps_to_get),
        T(real_table_get_on_login_is_405_not_static),
        T(real_table_rows_are_well_formed),
    };
#undef T
    return cmocka_run_group_tests_name("http router", tests, NULL, NULL);
}

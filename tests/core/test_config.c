/*
 * test_config.c - unit tests for the settings table (src/core/config.c).
 *
 * Why: one table drives defaults, the config file, RHIS_* environment
 * overrides and --dump-config; a value that slips past the bounds or an
 * error that names the wrong line would reach production at start-up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rhis/alloc.h"
#include "rhis/config.h"
#include "testutil.h"

static void
defaults_come_from_the_table(void **state)
{
    rhis_config c;
    (void)state;
    memset(&c, 0x5a, sizeof(c));
    rhis_config_defaults(&c);
    assert_string_equal(c.db, "sqlite:rhis.db");
    assert_string_equal(c.listen, "127.0.0.1:8080");
    assert_string_equal(c.web_root, "web");
    assert_string_equal(c.data_dir, "data");
    assert_int_equal(c.threads, 0);
    assert_int_equal(c.db_pool, 8);
    assert_int_equal(c.max_body_bytes, 1048576);
    assert_int_equal(c.json_max_depth, 32);
    assert_int_equal(c.token_ttl, 28800);
    assert_int_equal(c.login_rate_user, 5);
    assert_int_equal(c.shutdown_grace, 10);
    assert_string_equal(c.log_level, "info");
    assert_int_equal(c.access_log, 1);
}

static void
set_validates_integers_and_bounds(void **state)
{
    rhis_config c;
    char err[256];
    (void)state;
    rhis_config_defaults(&c);
    assert_int_equal(rhis_config_set(&c, "threads", "16", err, sizeof(err)),
                     RHIS_OK);
    assert_int_equal(c.threads, 16);
    /* bounds are inclusive */
    assert_int_equal(rhis_config_set(&c, "threads", "1", err, sizeof(err)),
                     RHIS_OK);
    assert_int_equal(rhis_config_set(&c, "threads", "64", err, sizeof(err)),
                     RHIS_OK);
    assert_int_equal(rhis_config_set(&c, "threads", "65", err, sizeof(err)),
                     RHIS_EINVAL);
    assert_string_equal(err, "threads: 65 is outside 0..64");
    assert_int_equal(rhis_config_set(&c, "threads", "-1", err, sizeof(err)),
                     RHIS_EINVAL);
    assert_int_equal(c.threads, 64); /* refused values change nothing */
    static const char *const notint[] = {"", "4x", "x", "1.5",
                                         "99999999999999999999"};
    for (size_t i = 0; i < sizeof(notint) / sizeof(notint[0]); i++) {
        assert_int_equal(
            rhis_config_set(&c, "threads", notint[i], err, sizeof(err)),
            RHIS_EINVAL);
        assert_non_null(strstr(err, "threads"));
    }
    assert_int_equal(c.threads, 64);
    assert_int_equal(
        rhis_config_set(&c, "shutdown_grace", "0", err, sizeof(err)), RHIS_OK);
    assert_int_equal(c.shutdown_grace, 0);
}

static void
set_validates_strings_bools_and_levels(void **state)
{
    rhis_config c;
    char err[256];
    char longv[600];
    (void)state;
    rhis_config_defaults(&c);
    assert_int_equal(
        rhis_config_set(&c, "db", "postgresql://x@h/db", err, sizeof(err)),
        RHIS_OK);
    assert_string_equal(c.db, "postgresql://x@h/db");
    assert_int_equal(rhis_config_set(&c, "db", "", err, sizeof(err)),
                     RHIS_EINVAL);
    memset(longv, 'a', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    assert_int_equal(rhis_config_set(&c, "db", longv, err, sizeof(err)),
                     RHIS_EINVAL);
    longv[511] = '\0'; /* max length 511 fits the 512-byte field */
    assert_int_equal(rhis_config_set(&c, "db", longv, err, sizeof(err)),
                     RHIS_OK);
    assert_int_equal(strlen(c.db), 511);
    assert_int_equal(rhis_config_set(&c, "listen", "a:", err, sizeof(err)),
                     RHIS_EINVAL); /* min length 3 */

    static const char *const yes[] = {"1", "yes", "on", "true"};
    static const char *const no[] = {"0", "no", "off", "false"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(
            rhis_config_set(&c, "access_log", no[i], err, sizeof(err)),
            RHIS_OK);
        assert_int_equal(c.access_log, 0);
        assert_int_equal(
            rhis_config_set(&c, "access_log", yes[i], err, sizeof(err)),
            RHIS_OK);
        assert_int_equal(c.access_log, 1);
    }
    assert_int_equal(rhis_config_set(&c, "access_log", "2", err, sizeof(err)),
                     RHIS_EINVAL);
    assert_int_equal(
        rhis_config_set(&c, "log_level", "debug", err, sizeof(err)), RHIS_OK);
    assert_string_equal(c.log_level, "debug");
    assert_int_equal(
        rhis_config_set(&c, "log_level", "verbose", err, sizeof(err)),
        RHIS_EINVAL);
    assert_non_null(strstr(err, "verbose"));
    assert_string_equal(c.log_level, "debug");
}

static void
unknown_setting_is_refused_by_name(void **state)
{
    rhis_config c;
    char err[256];
    (void)state;
    rhis_config_defaults(&c);
    assert_int_equal(rhis_config_set(&c, "thread", "4", err, sizeof(err)),
                     RHIS_EINVAL);
    assert_string_equal(err, "unknown setting 'thread'");
}

static void
file_loads_settings_comments_and_blank_lines(void **state)
{
    char dir[64], path[128], err[256] = "";
    rhis_config c;
    (void)state;
    assert_int_equal(rhis_test_mkdtemp(dir), 0);
    assert_int_equal(rhis_test_write_file(dir, "rhis.conf",
                                          "# RHIS settings\n"
                                          "\n"
                                          "threads 8\n"
                                          "  db   sqlite:/var/lib/rhis.db  \n"
                                          "\tlog_level\twarn\n"
                                          "access_log off\n",
                                          path, sizeof(path)),
                     0);
    rhis_config_defaults(&c);
    assert_int_equal(rhis_config_load_file(&c, path, err, sizeof(err)),
                     RHIS_OK);
    assert_int_equal(c.threads, 8);
    assert_string_equal(c.db, "sqlite:/var/lib/rhis.db");
    assert_string_equal(c.log_level, "warn");
    assert_int_equal(c.access_log, 0);
    assert_int_equal(c.db_pool, 8); /* untouched default */
    unlink(path);
    rmdir(dir);
}

static void
file_errors_name_file_and_line(void **state)
{
    char dir[64], path[128], err[256], want[300];
    rhis_config c;
    (void)state;
    assert_int_equal(rhis_test_mkdtemp(dir), 0);

    assert_int_equal(rhis_test_write_file(dir, "a.conf",
                                          "threads 2\n# c\nthreads 99\n", path,
                                          sizeof(path)),
                     0);
    rhis_config_defaults(&c);
    assert_int_equal(rhis_config_load_file(&c, path, err, sizeof(err)),
                     RHIS_EINVAL);
    (void)snprintf(want, sizeof(want), "%s:3: threads: 99 is outside 0..64",
                   path);
    assert_string_equal(err, want);
    unlink(path);

    assert_int_equal(
        rhis_test_write_file(dir, "b.conf", "\nthreads\n", path, sizeof(path)),
        0);
    assert_int_equal(rhis_config_load_file(&c, path, err, sizeof(err)),
                     RHIS_EINVAL);
    (void)snprintf(want, sizeof(want), "%s:2: 'threads' needs a value", path);
    assert_string_equal(err, want);
    unlink(path);

    assert_int_equal(
        rhis_test_write_file(dir, "c.conf", "bogus 1\n", path, sizeof(path)),
        0);
    assert_int_equal(rhis_config_load_file(&c, path, err, sizeof(err)),
                     RHIS_EINVAL);
    (void)snprintf(want, sizeof(want), "%s:1: unknown setting 'bogus'", path);
    assert_string_equal(err, want);
    unlink(path);

    /* a line over the 1023-byte line buffer is refused, not split */
    char text[1200];
    memcpy(text, "db sqlite:", 10);
    memset(text + 10, 'x', 1100);
    memcpy(text + 1110, "\n", 2);
    assert_int_equal(
        rhis_test_write_file(dir, "d.conf", text, path, sizeof(path)), 0);
    assert_int_equal(rhis_config_load_file(&c, path, err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, ":1: line too long"));
    unlink(path);

    assert_int_equal(
        rhis_config_load_file(&c, "/nonexistent/rhis.conf", err, sizeof(err)),
        RHIS_EIO);
    assert_non_null(strstr(err, "/nonexistent/rhis.conf"));
    rmdir(dir);
}

static void
environment_overrides_use_upper_case_names(void **state)
{
    rhis_config c;
    char err[256] = "";
    (void)state;
    rhis_config_defaults(&c);
    setenv("RHIS_THREADS", "12", 1);
    setenv("RHIS_LOG_LEVEL", "debug", 1);
    setenv("RHIS_MAX_BODY_BYTES", "2048", 1);
    assert_int_equal(rhis_config_load_env(&c, err, sizeof(err)), RHIS_OK);
    assert_int_equal(c.threads, 12);
    assert_string_equal(c.log_level, "debug");
    assert_int_equal(c.max_body_bytes, 2048);
    setenv("RHIS_MAX_BODY_BYTES", "10", 1); /* below 1024 */
    assert_int_equal(rhis_config_load_env(&c, err, sizeof(err)), RHIS_EINVAL);
    assert_non_null(strstr(err, "RHIS_MAX_BODY_BYTES"));
    unsetenv("RHIS_THREADS");
    unsetenv("RHIS_LOG_LEVEL");
    unsetenv("RHIS_MAX_BODY_BYTES");
}

static void
dump_prints_every_setting_as_name_value(void **state)
{
    rhis_config c;
    char *out = NULL;
    size_t len = 0;
    char err[64];
    (void)state;
    rhis_config_defaults(&c);
    assert_int_equal(rhis_config_set(&c, "threads", "7", err, sizeof(err)),
                     RHIS_OK);
    /* warn_push and warn_push_severity: one of their words only */
    assert_int_equal(rhis_config_set(&c, "warn_push", "some", err, sizeof(err)),
                     RHIS_EINVAL);
    assert_non_null(strstr(err, "confirmed|all"));
    assert_int_equal(rhis_config_set(&c, "warn_push", "all", err, sizeof(err)),
                     RHIS_OK);
    assert_string_equal(c.warn_push, "all");
    assert_int_equal(
        rhis_config_set(&c, "warn_push", "confirmed", err, sizeof(err)),
        RHIS_OK);
    assert_int_equal(
        rhis_config_set(&c, "warn_push_severity", "green", err, sizeof(err)),
        RHIS_EINVAL);
    assert_int_equal(
        rhis_config_set(&c, "warn_push_days", "0", err, sizeof(err)),
        RHIS_EINVAL);
    /* warn_time: HH:MM or off, nothing else */
    assert_int_equal(
        rhis_config_set(&c, "warn_time", "24:00", err, sizeof(err)),
        RHIS_EINVAL);
    assert_int_equal(rhis_config_set(&c, "warn_time", "7:30", err, sizeof(err)),
                     RHIS_EINVAL);
    assert_int_equal(
        rhis_config_set(&c, "warn_time", "12:60", err, sizeof(err)),
        RHIS_EINVAL);
    assert_int_equal(rhis_config_set(&c, "warn_time", "off", err, sizeof(err)),
                     RHIS_OK);
    assert_int_equal(
        rhis_config_set(&c, "warn_time", "02:00", err, sizeof(err)), RHIS_OK);
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    rhis_config_dump(&c, f);
    fclose(f);
    assert_non_null(strstr(out, "db sqlite:rhis.db\n"));
    assert_non_null(strstr(out, "\nthreads 7\n"));
    assert_non_null(strstr(out, "\nlog_level info\n"));
    assert_non_null(strstr(out, "\naccess_log 1\n"));
    int lines = 0;
    for (const char *p = out; *p != '\0'; p++)
        lines += *p == '\n';
    assert_non_null(strstr(out, "\nwarn_time 02:00\n"));
    assert_non_null(strstr(out, "\nwarn_push confirmed\n"));
    assert_non_null(strstr(out, "\nwarn_push_severity red\n"));
    assert_non_null(strstr(out, "\nwarn_push_days 3\n"));
    assert_int_equal(lines, 25); /* one per setting of rhis_config */
    rhis_free(out); /* open_memstream memory; rhis_free is free() */

    /* and the dump reads back as a config file with the same values */
    char dir[64], path[128];
    rhis_config back;
    assert_int_equal(rhis_test_mkdtemp(dir), 0);
    out = NULL;
    f = open_memstream(&out, &len);
    rhis_config_dump(&c, f);
    fclose(f);
    assert_int_equal(
        rhis_test_write_file(dir, "dump.conf", out, path, sizeof(path)), 0);
    rhis_free(out);
    rhis_config_defaults(&back);
    assert_int_equal(rhis_config_load_file(&back, path, err, sizeof(err)),
                     RHIS_OK);
    assert_memory_equal(&back, &c, sizeof(c));
    unlink(path);
    rmdir(dir);
}

static void
describe_lists_types_defaults_and_ranges(void **state)
{
    char *out = NULL;
    size_t len = 0;
    (void)state;
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    rhis_config_describe(f);
    fclose(f);
    assert_non_null(strstr(out, "threads"));
    assert_non_null(strstr(out, "range=0..64"));
    assert_non_null(strstr(out, "default=sqlite:rhis.db"));
    rhis_free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_come_from_the_table),
        cmocka_unit_test(set_validates_integers_and_bounds),
        cmocka_unit_test(set_validates_strings_bools_and_levels),
        cmocka_unit_test(unknown_setting_is_refused_by_name),
        cmocka_unit_test(file_loads_settings_comments_and_blank_lines),
        cmocka_unit_test(file_errors_name_file_and_line),
        cmocka_unit_test(environment_overrides_use_upper_case_names),
        cmocka_unit_test(dump_prints_every_setting_as_name_value),
        cmocka_unit_test(describe_lists_types_defaults_and_ranges),
    };
    return cmocka_run_group_tests_name("core config", tests, NULL, NULL);
}

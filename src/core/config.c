/*
 * config.c - the settings table and its three sources.
 *
 * Why: one row per setting (name, type, field, default, bounds) is the only
 * definition; defaults go through the same parser as the file, environment
 * (RHIS_<NAME>) and flags, so every value is validated the same way once at
 * start (Redis standardConfig, nginx ngx_command_t + offsetof).
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rhis/config.h"
#include "rhis/log.h"

typedef enum {
    CONF_INT,
    CONF_STR,
    CONF_BOOL,
    CONF_LEVEL,
    CONF_CLOCK
} conf_type;

typedef struct setting {
    const char *name;
    conf_type type;
    size_t offset;
    size_t size; /* strings: field size */
    const char *def;
    long min, max;
    const char *help;
    const char *choices; /* strings: the allowed values ("a|b"), or NULL */
} setting;

#define S(f) offsetof(rhis_config, f), sizeof(((rhis_config *)0)->f)

static const setting settings[] = {
    {"db", CONF_STR, S(db), "sqlite:rhis.db", 1, 511,
     "database URL: sqlite:FILE or postgresql://user@host:port/db", NULL},
    {"listen", CONF_STR, S(listen), "127.0.0.1:8080", 3, 127,
     "address to listen on, HOST:PORT", NULL},
    {"web_root", CONF_STR, S(web_root), "web", 1, 511,
     "directory of the static web UI", NULL},
    {"data_dir", CONF_STR, S(data_dir), "data", 1, 511,
     "directory of reference data (divisions.csv); read by rhis init", NULL},
    {"threads", CONF_INT, S(threads), "0", 0, 64,
     "request threads; 0 = one per CPU core", NULL},
    {"group_commit", CONF_INT, S(group_commit), "64", 0, 1024,
     "writes that may share one durable commit (0 = a commit each)", NULL},
    {"db_pool", CONF_INT, S(db_pool), "8", 1, 256,
     "database connections shared by the request threads", NULL},
    {"max_connections", CONF_INT, S(max_connections), "512", 1, 65536,
     "open connections at most", NULL},
    {"per_ip_connections", CONF_INT, S(per_ip_connections), "128", 1, 65536,
     "open connections per client address at most", NULL},
    {"connection_timeout", CONF_INT, S(connection_timeout), "30", 1, 3600,
     "seconds a connection may stay idle or slow", NULL},
    {"max_header_bytes", CONF_INT, S(max_header_bytes), "32768", 4096, 1048576,
     "memory per connection for the request line and headers", NULL},
    {"max_body_bytes", CONF_INT, S(max_body_bytes), "1048576", 1024, 268435456,
     "largest request body accepted", NULL},
    {"json_max_depth", CONF_INT, S(json_max_depth), "32", 2, 256,
     "deepest JSON nesting accepted", NULL},
    {"token_ttl", CONF_INT, S(token_ttl), "28800", 60, 2592000,
     "seconds a login token stays valid", NULL},
    {"login_workers", CONF_INT, S(login_workers), "2", 1, 16,
     "password hashes computed at once (64 MiB each)", NULL},
    {"login_rate_user", CONF_INT, S(login_rate_user), "5", 1, 1000,
     "failed logins per username per window before 429", NULL},
    {"login_rate_addr", CONF_INT, S(login_rate_addr), "30", 1, 100000,
     "login attempts per client address per window before 429", NULL},
    {"login_rate_window", CONF_INT, S(login_rate_window), "300", 1, 86400,
     "seconds of the login rate window", NULL},
    {"shutdown_grace", CONF_INT, S(shutdown_grace), "10", 0, 600,
     "seconds to finish in-flight requests on SIGTERM", NULL},
    {"log_level", CONF_LEVEL, S(log_level), "info", 3, 15,
     "err, warn, info or debug", NULL},
    {"access_log", CONF_BOOL, S(access_log), "1", 0, 1,
     "one line per request on stderr (1 or 0)", NULL},
    {"warn_time", CONF_CLOCK, S(warn_time), "02:00", 2, 5,
     "daily outbreak detection for yesterday at HH:MM (local time), or off",
     NULL},
    {"warn_push", CONF_STR, S(warn_push), "confirmed", 3, 9,
     "signals pushed to CDC staff with a deadline: confirmed (fixed, scan,"
     " fused, severe or persisting temporal) or all (CIDARS)",
     "confirmed|all"},
    {"warn_push_severity", CONF_STR, S(warn_push_severity), "red", 3, 6,
     "a temporal disease signal at least this severe is pushed",
     "red|orange|yellow|blue"},
    {"warn_push_days", CONF_INT, S(warn_push_days), "3", 1, 30,
     "days an unconfirmed temporal disease alarm may recur before pushed",
     NULL},
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static const setting *
find(const char *name)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (strcmp(settings[i].name, name) == 0)
            return &settings[i];
    return NULL;
}

/* 1 if value is one of the '|'-separated words of choices. */
static int
is_choice(const char *choices, const char *value)
{
    size_t n = strlen(value);
    for (const char *p = choices; *p != '\0';) {
        const char *bar = strchr(p, '|');
        size_t len = bar != NULL ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, value, n) == 0)
            return 1;
        if (bar == NULL)
            break;
        p = bar + 1;
    }
    return 0;
}

static rhis_status
apply(rhis_config *c,
      const setting *s,
      const char *value,
      char *err,
      size_t errlen)
{
    char *field = (char *)c + s->offset;
    if (s->type == CONF_STR || s->type == CONF_LEVEL || s->type == CONF_CLOCK) {
        size_t n = strlen(value);
        if ((long)n < s->min || (long)n > s->max || n >= s->size) {
            snprintf(err, errlen, "%s: length must be %ld..%ld", s->name,
                     s->min, s->max);
            return RHIS_EINVAL;
        }
        if (s->choices != NULL && !is_choice(s->choices, value)) {
            snprintf(err, errlen, "%s: '%s' is not one of %s", s->name, value,
                     s->choices);
            return RHIS_EINVAL;
        }
        if (s->type == CONF_LEVEL && rhis_log_level_parse(value) < 0) {
            snprintf(err, errlen, "%s: '%s' is not err, warn, info or debug",
                     s->name, value);
            return RHIS_EINVAL;
        }
        if (s->type == CONF_CLOCK && strcmp(value, "off") != 0 &&
            !(n == 5 && isdigit((unsigned char)value[0]) &&
              isdigit((unsigned char)value[1]) && value[2] == ':' &&
              isdigit((unsigned char)value[3]) &&
              isdigit((unsigned char)value[4]) &&
              (value[0] - '0') * 10 + (value[1] - '0') < 24 &&
              value[3] < '6')) {
            snprintf(err, errlen, "%s: '%s' is not HH:MM (00:00..23:59) or off",
                     s->name, value);
            return RHIS_EINVAL;
        }
        memcpy(field, value, n + 1);
        return RHIS_OK;
    }
    if (s->type == CONF_BOOL) {
        int v;
        if (strcmp(value, "1") == 0 || strcmp(value, "yes") == 0 ||
            strcmp(value, "on") == 0 || strcmp(value, "true") == 0)
            v = 1;
        else if (strcmp(value, "0") == 0 || strcmp(value, "no") == 0 ||
                 strcmp(value, "off") == 0 || strcmp(value, "false") == 0)
            v = 0;
        else {
            snprintf(err, errlen, "%s: '%s' is not a boolean (1/0)", s->name,
                     value);
            return RHIS_EINVAL;
        }
        memcpy(field, &v, sizeof(v));
        return RHIS_OK;
    }
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0') {
        snprintf(err, errlen, "%s: '%s' is not an integer", s->name, value);
        return RHIS_EINVAL;
    }
    if (v < s->min || v > s->max) {
        snprintf(err, errlen, "%s: %ld is outside %ld..%ld", s->name, v, s->min,
                 s->max);
        return RHIS_EINVAL;
    }
    int iv = (int)v;
    memcpy(field, &iv, sizeof(iv));
    return RHIS_OK;
}

void
rhis_config_defaults(rhis_config *c)
{
    char err[256];
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < NSETTINGS; i++) {
        rhis_status rc =
            apply(c, &settings[i], settings[i].def, err, sizeof(err));
        (void)rc;
    }
}

rhis_status
rhis_config_set(rhis_config *c,
                const char *name,
                const char *value,
                char *err,
                size_t errlen)
{
    const setting *s = find(name);
    if (s == NULL) {
        snprintf(err, errlen, "unknown setting '%s'", name);
        return RHIS_EINVAL;
    }
    return apply(c, s, value, err, errlen);
}

static char *
trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

rhis_status
rhis_config_load_file(rhis_config *c,
                      const char *path,
                      char *err,
                      size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return RHIS_EIO;
    }
    char line[1024];
    int lineno = 0;
    rhis_status rc = RHIS_OK;
    while (rc == RHIS_OK && fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            rc = RHIS_EINVAL;
            break;
        }
        char *p = trim(line);
        if (*p == '\0' || *p == '#')
            continue;
        char *sp = p;
        while (*sp != '\0' && !isspace((unsigned char)*sp))
            sp++;
        if (*sp == '\0') {
            snprintf(err, errlen, "%s:%d: '%s' needs a value", path, lineno, p);
            rc = RHIS_EINVAL;
            break;
        }
        *sp = '\0';
        char msg[256];
        rc = rhis_config_set(c, p, trim(sp + 1), msg, sizeof(msg));
        if (rc != RHIS_OK)
            snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
    }
    fclose(f);
    return rc;
}

rhis_status
rhis_config_load_env(rhis_config *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        char var[64] = "RHIS_";
        size_t n = 5;
        for (const char *p = settings[i].name; *p != '\0' && n < 63; p++)
            var[n++] = (char)toupper((unsigned char)*p);
        var[n] = '\0';
        const char *v = getenv(var);
        if (v == NULL)
            continue;
        char msg[256];
        if (apply(c, &settings[i], v, msg, sizeof(msg)) != RHIS_OK) {
            snprintf(err, errlen, "%s: %s", var, msg);
            return RHIS_EINVAL;
        }
    }
    return RHIS_OK;
}

static void
print_value(const rhis_config *c, const setting *s, FILE *f)
{
    const char *field = (const char *)c + s->offset;
    if (s->type == CONF_STR || s->type == CONF_LEVEL || s->type == CONF_CLOCK) {
        fputs(field, f);
    } else {
        int v;
        memcpy(&v, field, sizeof(v));
        fprintf(f, "%d", v);
    }
}

void
rhis_config_dump(const rhis_config *c, FILE *f)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        fprintf(f, "%s ", settings[i].name);
        print_value(c, &settings[i], f);
        fputc('\n', f);
    }
}

void
rhis_config_describe(FILE *f)
{
    static const char *const types[] = {"int", "string", "bool", "level",
                                        "clock"};
    for (size_t i = 0; i < NSETTINGS; i++) {
        const setting *s = &settings[i];
        fprintf(f, "%-20s %-6s default=%-16s", s->name, types[s->type], s->def);
        if (s->type == CONF_INT)
            fprintf(f, " range=%ld..%ld", s->min, s->max);
        fprintf(f, "  %s\n", s->help);
    }
}

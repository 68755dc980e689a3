/*
 * config.h - every setting of rhis serve, in one table.
 *
 * Why: one row per setting (name, type, default, bounds) drives the config
 * file, RHIS_* environment overrides, flags, --check-config and
 * --dump-config, so a setting cannot exist in one place and not another
 * (Redis standardConfig, nginx ngx_command_t).
 */
#ifndef RHIS_CONFIG_H
#define RHIS_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "rhis/status.h"

typedef struct rhis_config {
    char db[512];
    char listen[128];
    char web_root[512];
    char data_dir[512];
    int threads;      /* request threads */
    int db_pool;      /* database connections */
    int group_commit; /* writes share durable commits (max group size) */
    int max_connections;
    int per_ip_connections;
    int connection_timeout; /* seconds of idle before a connection closes */
    int max_header_bytes;   /* per-connection memory for headers */
    int max_body_bytes;
    int json_max_depth;
    int token_ttl;         /* seconds */
    int login_workers;     /* concurrent argon2id hashes */
    int login_rate_user;   /* failed logins per user per window */
    int login_rate_addr;   /* login attempts per address per window */
    int login_rate_window; /* seconds */
    int shutdown_grace;    /* seconds to finish in-flight requests */
    char log_level[16];
    int access_log;             /* 1 = one line per request */
    char warn_time[8];          /* daily detection "HH:MM" (local) or "off" */
    char warn_push[16];         /* "confirmed" or "all" (warn.h) */
    char warn_push_severity[8]; /* lowest severity of a pushed temporal
                                 * disease signal */
    int warn_push_days;         /* days an unconfirmed temporal alarm
                                 * waits before it is pushed */
} rhis_config;

/* Fills c with the defaults from the table. */
void rhis_config_defaults(rhis_config *c);
/* Sets one setting by name, validating type and bounds. */
rhis_status rhis_config_set(rhis_config *c,
                            const char *name,
                            const char *value,
                            char *err,
                            size_t errlen);
/* Reads a "key value" file (# comments).  Errors name file:line. */
rhis_status rhis_config_load_file(rhis_config *c,
                                  const char *path,
                                  char *err,
                                  size_t errlen);
/* Applies RHIS_<UPPER_NAME> environment variables. */
rhis_status rhis_config_load_env(rhis_config *c, char *err, size_t errlen);
/* Prints every setting as "name value" lines. */
void rhis_config_dump(const rhis_config *c, FILE *f);
/* Prints the schema: name, type, default, bounds, description. */
void rhis_config_describe(FILE *f);

#endif

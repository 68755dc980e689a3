/*
 * cli.h - the subcommands of the rhis binary (src/cli/ only).
 */
#ifndef RHIS_CLI_H
#define RHIS_CLI_H

#include <stddef.h>

#include "rhis/db.h"

int cmd_serve(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_import_population(int argc, char **argv);
int cmd_import_institutions(int argc, char **argv);
int cmd_import_fhir(int argc, char **argv);
int cmd_copy(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_detect(int argc, char **argv);
/* src/cli/report.c, src/cli/plan_targets.c (plan monitoring) */
int cmd_report(int argc, char **argv);
int cmd_plan_load(int argc, char **argv);
int cmd_plan_lint(int argc, char **argv);
/* src/cli/plan.c: `rhis plan VERB` (rebuild, verify, value, load, lint) */
int cmd_plan(int argc, char **argv);

/* Shared option helpers. */
const char *cli_default_db(void);
/* Opens url and exits with a message on failure. */
rhis_db *cli_open_db(const char *url);
/* Reads the first line of a file (a password) into buf; 0 on success. */
int cli_read_secret(const char *path, char *buf, size_t len);

#endif

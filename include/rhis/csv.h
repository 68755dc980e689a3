/*
 * csv.h - a streaming RFC 4180 CSV reader for imports.
 *
 * Why: reference data and imports (divisions, populations, institutions)
 * arrive as CSV from spreadsheets; quoted fields with commas and newlines
 * must work, and a malformed file must fail with its line number, never
 * crash.  Lines are capped; the parser is fuzzed (tests/fuzz/fuzz_csv.c).
 */
#ifndef RHIS_CSV_H
#define RHIS_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "rhis/buf.h"
#include "rhis/status.h"

#define RHIS_CSV_MAX_FIELDS 64
#define RHIS_CSV_MAX_RECORD (64 * 1024)

typedef struct rhis_csv {
    FILE *f;
    const char *mem; /* or parse from memory */
    size_t mem_len, mem_pos;
    long line; /* line number of the record last returned */
    long next_line;
    rhis_buf rec;
    char *fields[RHIS_CSV_MAX_FIELDS];
} rhis_csv;

rhis_status
rhis_csv_open(rhis_csv *c, const char *path, char *err, size_t errlen);
/* Reads from a memory buffer (borrowed for the reader's lifetime). */
void rhis_csv_open_mem(rhis_csv *c, const char *data, size_t len);
/*
 * Reads the next record; *fields points at NUL-terminated fields valid
 * until the next call.  Returns the field count, 0 at end of input, -1 on
 * a malformed record (unterminated quote, stray quote, over the caps).
 * A UTF-8 BOM at the start is skipped; blank lines are skipped.
 */
int rhis_csv_next(rhis_csv *c, char ***fields);
void rhis_csv_close(rhis_csv *c);

/* Strict decimal parsing: -1 for anything but digits (no sign, no space). */
int rhis_parse_int(const char *s);
long long rhis_parse_int64(const char *s);

#endif

/*
 * fuzz_csv.c - libFuzzer target for the CSV reader (src/core/csv.c).
 *
 * Reads records from memory to the end or the first error.  Oracles: the
 * field count stays within RHIS_CSV_MAX_FIELDS, every field is inside the
 * record buffer, line numbers never go backwards, and the reader always
 * terminates (a record consumes input).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rhis/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rhis_csv c;
    rhis_csv_open_mem(&c, (const char *)data, size);
    long last_line = 0;
    size_t records = 0;
    for (;;) {
        char **fields = NULL;
        int nf = rhis_csv_next(&c, &fields);
        if (nf <= 0)
            break;
        if (nf > RHIS_CSV_MAX_FIELDS || fields == NULL)
            abort();
        if (c.line < last_line || c.line < 1)
            abort();
        last_line = c.line;
        for (int i = 0; i < nf; i++) {
            if (fields[i] < c.rec.data || fields[i] >= c.rec.data + c.rec.len)
                abort();
            (void)strlen(fields[i]);
        }
        /* every record consumes at least one byte */
        if (++records > size)
            abort();
    }
    rhis_csv_close(&c);
    return 0;
}

/*
 * fuzz_analytics.c - libFuzzer target for the analytics query's dimension
 * parsing (src/plan/api_analytics.c): dx/ou/pe or dimension=..., item
 * lists split at ';', periods (2025, 2025Q3, 202507, ranges with '~',
 * DHIS2 relative periods).
 *
 * Why: GET /api/v1/analytics takes its dimensions from an untrusted query
 * string.  Oracles beyond "no crash": at most MAX_PE periods, each with
 * from <= to; items never longer than MAX_ITEM; an error always carries a
 * message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plan/api_analytics.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rhis_req req;
    memset(&req, 0, sizeof(req));
    req.arena = rhis_arena_new();
    if (rhis_query_parse(req.arena, (const char *)data, size, &req.query) ==
        RHIS_OK) {
        query q;
        memset(&q, 0, sizeof(q));
        rhis_status rc = take_dimensions(&req, &q);
        if (rc != RHIS_OK && req.err_text[0] == '\0')
            abort();
        if (rc == RHIS_OK) {
            rc = parse_pe(&req, &q);
            if (rc != RHIS_OK && req.err_text[0] == '\0')
                abort();
            if (q.npe < 0 || q.npe > MAX_PE)
                abort();
            for (int i = 0; rc == RHIS_OK && i < q.npe; i++)
                if (q.pe_v[i].from_day > q.pe_v[i].to_day)
                    abort();
            char **items;
            int n = split_items(req.arena, q.ou, &items, 64);
            for (int i = 0; i < n; i++)
                if (strlen(items[i]) >= MAX_ITEM || items[i][0] == '\0')
                    abort();
            if (n > 64)
                abort();
        }
    }
    rhis_arena_free(req.arena);
    return 0;
}

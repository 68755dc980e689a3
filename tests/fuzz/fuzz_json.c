/*
 * fuzz_json.c - libFuzzer target for the strict JSON parser
 * (src/core/json.c) with a print/re-parse oracle.
 *
 * Input: the first byte picks the depth cap (1..40), the rest is the text.
 * If the text parses, rhis_json_print's output must parse again under the
 * same cap and print identically; otherwise the parser and printer disagree
 * about what JSON is (abort).  And the printed form must keep every object
 * member of the input: counting ':' outside strings in both catches members
 * json-c silently merged (duplicate keys spelled differently, "\u0061" and
 * "a", which the raw-spelling duplicate check lets through).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rhis/alloc.h"
#include "rhis/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Object members in valid JSON text: the ':' outside strings. */
static size_t
count_members(const char *s, size_t len)
{
    size_t n = 0;
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        if (in_str) {
            if (s[i] == '\\')
                i++;
            else if (s[i] == '"')
                in_str = 0;
        } else if (s[i] == '"') {
            in_str = 1;
        } else if (s[i] == ':') {
            n++;
        }
    }
    return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64 * 1024)
        return 0;
    int depth = 1 + data[0] % 40;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    char err[256];
    json_object *obj = NULL;
    rhis_status rc = rhis_json_parse(text, len, depth, &obj, err, sizeof(err));
    if (rc != RHIS_OK) {
        if (obj != NULL || rc != RHIS_EINVAL || err[0] == '\0')
            abort();
        return 0;
    }
    if (obj == NULL)
        abort();

    char *p1 = rhis_xstrdup(rhis_json_print(obj));
    json_object *obj2 = NULL;
    rc = rhis_json_parse(p1, strlen(p1), depth, &obj2, err, sizeof(err));
    if (rc != RHIS_OK) {
        fprintf(stderr, "printed form does not parse: %s\n%s\n", err, p1);
        abort();
    }
    if (count_members(p1, strlen(p1)) != count_members(text, len)) {
        fprintf(stderr, "object members lost in parsing:\n%.*s\n%s\n", (int)len,
                text, p1);
        abort();
    }
    const char *p2 = rhis_json_print(obj2);
    if (strcmp(p1, p2) != 0) {
        fprintf(stderr, "print/parse/print differs:\n%s\n%s\n", p1, p2);
        abort();
    }
    if (!json_object_equal(obj, obj2)) {
        fprintf(stderr, "re-parsed value differs:\n%s\n", p1);
        abort();
    }
    json_object_put(obj2);
    json_object_put(obj);
    rhis_free(p1);
    return 0;
}

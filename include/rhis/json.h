/*
 * json.h - the only way RHIS parses and prints JSON (json-c underneath).
 *
 * Why: json-c keeps FHIR decimals exact ("0.10" stays "0.10") but is lenient.
 * This wrapper runs a strict syntax pre-check (no single quotes, NaN,
 * comments, trailing commas, leading zeros, control characters, invalid
 * UTF-8, duplicate keys, trailing data), caps depth and size, and only then
 * lets json-c build the tree.
 */
#ifndef RHIS_JSON_H
#define RHIS_JSON_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "rhis/status.h"

#define RHIS_JSON_DEFAULT_DEPTH 32

/*
 * Parses len bytes of JSON.  On success *out is a new json-c object owned by
 * the caller (json_object_put).  On failure *out is NULL and errbuf holds a
 * message naming the byte offset and the fault.
 */
rhis_status rhis_json_parse(const char *text,
                            size_t len,
                            int max_depth,
                            json_object **out,
                            char *errbuf,
                            size_t errlen);

/* Serialises without escaping '/' and without spaces; borrowed string valid
 * until obj is freed or serialised again. */
const char *rhis_json_print(json_object *obj);

/* A JSON number printed with the shortest form that round-trips a value
 * of at most 15 significant digits (43.68213, not 43.682130000000001). */
json_object *rhis_json_new_double(double v);
/* A JSON number rounded to `decimals` places, trailing zeros kept
 * ("6.19"): for ratios shown to people. */
json_object *rhis_json_new_fixed(double v, int decimals);

/* Typed getters returning NULL / defaults when absent or of the wrong type. */
const char *rhis_json_get_str(json_object *obj, const char *key);
json_object *rhis_json_get(json_object *obj, const char *key);
/* Returns RHIS_OK and sets *out if key holds an integer, RHIS_ENOTFOUND if
 * absent, RHIS_EINVAL if of another type. */
rhis_status rhis_json_get_int(json_object *obj, const char *key, int64_t *out);

#endif

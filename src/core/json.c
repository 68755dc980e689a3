/*
 * json.c - strict JSON in front of json-c.
 *
 * Why: json-c keeps decimals exact, which FHIR needs, but even in strict
 * mode it accepts single-quoted strings and NaN, and silently keeps the last
 * of duplicate keys.  A small recursive-descent checker validates the whole
 * text first (RFC 8259 grammar, UTF-8, depth, duplicate keys by their raw
 * spelling); only text that passes is handed to json-c.
 */
#include <stdio.h>
#include <string.h>

#include "rhis/alloc.h"
#include "rhis/json.h"

typedef struct keyslot {
    uint64_t hash;
    size_t obj;
    const char *key; /* decoded key: into the text, or an owned copy */
    size_t len;      /* 0 = free slot (stored keys are never empty: the
                        empty key is stored as a 1-byte sentinel) */
} keyslot;

typedef struct checker {
    const unsigned char *s;
    size_t len, pos;
    int depth, max_depth;
    const char *fault;
    size_t fault_at;
    size_t nobj;
    keyslot *keys; /* open addressing, size keys_cap (power of two) */
    size_t keys_cap, keys_used;
    char **owned; /* decoded keys that had escapes */
    size_t nowned, owned_cap;
} checker;

static int
fail(checker *c, const char *why)
{
    if (c->fault == NULL) {
        c->fault = why;
        c->fault_at = c->pos;
    }
    return -1;
}

static void
skip_ws(checker *c)
{
    while (c->pos < c->len) {
        unsigned char ch = c->s[c->pos];
        if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
            break;
        c->pos++;
    }
}

static int
hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static int
read_u4(checker *c, unsigned *out)
{
    if (c->len - c->pos < 4)
        return fail(c, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(c->s[c->pos + (size_t)i]);
        if (h < 0)
            return fail(c, "bad \\u escape");
        v = v * 16 + (unsigned)h;
    }
    c->pos += 4;
    *out = v;
    return 0;
}

/* Validates one UTF-8 sequence starting at pos (first byte >= 0x80). */
static int
utf8_seq(checker *c)
{
    const unsigned char *p = c->s + c->pos;
    size_t left = c->len - c->pos;
    unsigned cp;
    size_t n;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
        cp = p[0] & 0x1f;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        cp = p[0] & 0x0f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        cp = p[0] & 0x07;
    } else {
        return fail(c, "invalid UTF-8");
    }
    if (left < n)
        return fail(c, "truncated UTF-8");
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return fail(c, "invalid UTF-8");
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return fail(c, "overlong or out-of-range UTF-8");
    if (cp >= 0xd800 && cp <= 0xdfff)
        return fail(c, "UTF-8 encoded surrogate");
    c->pos += n;
    return 0;
}

static int
string(checker *c)
{
    c->pos++; /* opening quote */
    while (c->pos < c->len) {
        unsigned char ch = c->s[c->pos];
        if (ch == '"') {
            c->pos++;
            return 0;
        }
        if (ch < 0x20)
            return fail(c, "control character in string");
        if (ch == '\\') {
            c->pos++;
            if (c->pos >= c->len)
                break;
            ch = c->s[c->pos++];
            if (ch == 'u') {
                unsigned u;
                if (read_u4(c, &u) < 0)
                    return -1;
                if (u >= 0xdc00 && u <= 0xdfff)
                    return fail(c, "lone low surrogate escape");
                if (u >= 0xd800 && u <= 0xdbff) {
                    unsigned lo;
                    if (c->len - c->pos < 2 || c->s[c->pos] != '\\' ||
                        c->s[c->pos + 1] != 'u')
                        return fail(c, "lone high surrogate escape");
                    c->pos += 2;
                    if (read_u4(c, &lo) < 0)
                        return -1;
                    if (lo < 0xdc00 || lo > 0xdfff)
                        return fail(c, "bad surrogate pair");
                }
                if (u == 0)
                    return fail(c, "NUL character in string");
            } else if (strchr("\"\\/bfnrt", ch) == NULL || ch == '\0') {
                return fail(c, "bad escape in string");
            }
            continue;
        }
        if (ch >= 0x80) {
            if (utf8_seq(c) < 0)
                return -1;
            continue;
        }
        c->pos++;
    }
    return fail(c, "unterminated string");
}

static int
number(checker *c)
{
    const unsigned char *s = c->s;
    size_t start = c->pos;
    int neg = s[c->pos] == '-';
    if (neg)
        c->pos++;
    if (c->pos >= c->len)
        return fail(c, "bad number");
    if (s[c->pos] == '0') {
        c->pos++;
        if (c->pos < c->len && s[c->pos] >= '0' && s[c->pos] <= '9')
            return fail(c, "leading zero in number");
    } else if (s[c->pos] >= '1' && s[c->pos] <= '9') {
        while (c->pos < c->len && s[c->pos] >= '0' && s[c->pos] <= '9')
            c->pos++;
    } else {
        return fail(c, "bad number");
    }
    size_t digits = c->pos - start - (size_t)neg;
    int integer = 1;
    if (c->pos < c->len && s[c->pos] == '.') {
        integer = 0;
        c->pos++;
        size_t fstart = c->pos;
        while (c->pos < c->len && s[c->pos] >= '0' && s[c->pos] <= '9')
            c->pos++;
        if (c->pos == fstart)
            return fail(c, "digits expected after decimal point");
    }
    if (c->pos < c->len && (s[c->pos] == 'e' || s[c->pos] == 'E')) {
        c->pos++;
        integer = 0;
        if (c->pos < c->len && (s[c->pos] == '+' || s[c->pos] == '-'))
            c->pos++;
        size_t estart = c->pos;
        while (c->pos < c->len && s[c->pos] >= '0' && s[c->pos] <= '9')
            c->pos++;
        if (c->pos == estart)
            return fail(c, "digits expected in exponent");
    }
    if (integer && digits >= 19) {
        /* json-c clamps integers outside int64 silently; refuse them */
        const char *lim = neg ? "9223372036854775808" : "9223372036854775807";
        if (digits > 19 || memcmp(s + start + (size_t)neg, lim, 19) > 0) {
            c->pos = start;
            return fail(c, "integer out of range (64-bit)");
        }
    }
    return 0;
}

static int
literal(checker *c, const char *word)
{
    size_t n = strlen(word);
    if (c->len - c->pos < n || memcmp(c->s + c->pos, word, n) != 0)
        return fail(c, "unexpected character");
    c->pos += n;
    return 0;
}

static uint64_t
fnv(size_t obj, const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)obj;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static void
put_utf8(char *out, size_t *o, unsigned cp)
{
    if (cp < 0x80) {
        out[(*o)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*o)++] = (char)(0xc0 | (cp >> 6));
        out[(*o)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out[(*o)++] = (char)(0xe0 | (cp >> 12));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*o)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        out[(*o)++] = (char)(0xf0 | (cp >> 18));
        out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*o)++] = (char)(0x80 | (cp & 0x3f));
    }
}

static unsigned
hex4(const unsigned char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++)
        v = v * 16 + (unsigned)hexval(p[i]);
    return v;
}

/*
 * Decodes the already validated string literal [start, end) (quotes
 * included) so that keys spelled differently ("a" and "\u0061") compare
 * equal, as json-c will see them.  Keys without escapes are used in place.
 */
static const char *
decode_key(checker *c, size_t start, size_t end, size_t *len)
{
    const unsigned char *p = c->s + start + 1;
    size_t n = end - start - 2;
    if (memchr(p, '\\', n) == NULL) {
        *len = n;
        return (const char *)p;
    }
    char *out = rhis_xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\\') {
            out[o++] = (char)p[i];
            continue;
        }
        unsigned char e = p[++i];
        switch (e) {
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'u': {
            unsigned cp = hex4(p + i + 1);
            i += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                unsigned lo = hex4(p + i + 3);
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            }
            put_utf8(out, &o, cp);
            break;
        }
        default:
            out[o++] = (char)e;
        }
    }
    if (c->nowned == c->owned_cap) {
        c->owned_cap = c->owned_cap == 0 ? 8 : c->owned_cap * 2;
        c->owned = rhis_xrealloc(c->owned, c->owned_cap * sizeof(char *));
    }
    c->owned[c->nowned++] = out;
    *len = o;
    return out;
}

/* Records key [start,end) of object obj; -1 if it was already there. */
static int
remember_key(checker *c, size_t obj, size_t start, size_t end)
{
    if ((c->keys_used + 1) * 2 > c->keys_cap) {
        size_t ncap = c->keys_cap == 0 ? 64 : c->keys_cap * 2;
        keyslot *nk = rhis_xcalloc(ncap, sizeof(keyslot));
        for (size_t i = 0; i < c->keys_cap; i++) {
            if (c->keys[i].len == 0)
                continue;
            size_t j = c->keys[i].hash & (ncap - 1);
            while (nk[j].len != 0)
                j = (j + 1) & (ncap - 1);
            nk[j] = c->keys[i];
        }
        rhis_free(c->keys);
        c->keys = nk;
        c->keys_cap = ncap;
    }
    size_t len;
    const char *key = decode_key(c, start, end, &len);
    if (len == 0) {
        key = "";
        len = 1; /* the empty key: compare the NUL */
    }
    uint64_t h = fnv(obj, key, len);
    size_t j = h & (c->keys_cap - 1);
    while (c->keys[j].len != 0) {
        keyslot *k = &c->keys[j];
        if (k->hash == h && k->obj == obj && k->len == len &&
            memcmp(k->key, key, len) == 0)
            return -1;
        j = (j + 1) & (c->keys_cap - 1);
    }
    c->keys[j] = (keyslot){h, obj, key, len};
    c->keys_used++;
    return 0;
}

static int value(checker *c);

static int
object(checker *c)
{
    size_t obj = ++c->nobj;
    c->pos++;
    skip_ws(c);
    if (c->pos < c->len && c->s[c->pos] == '}') {
        c->pos++;
        return 0;
    }
    for (;;) {
        skip_ws(c);
        if (c->pos >= c->len || c->s[c->pos] != '"')
            return fail(c, "object key must be a double-quoted string");
        size_t kstart = c->pos;
        if (string(c) < 0)
            return -1;
        if (remember_key(c, obj, kstart, c->pos) < 0) {
            c->pos = kstart;
            return fail(c, "duplicate key in object");
        }
        skip_ws(c);
        if (c->pos >= c->len || c->s[c->pos] != ':')
            return fail(c, "':' expected after object key");
        c->pos++;
        if (value(c) < 0)
            return -1;
        skip_ws(c);
        if (c->pos < c->len && c->s[c->pos] == ',') {
            c->pos++;
            continue;
        }
        if (c->pos < c->len && c->s[c->pos] == '}') {
            c->pos++;
            return 0;
        }
        return fail(c, "',' or '}' expected in object");
    }
}

static int
array(checker *c)
{
    c->pos++;
    skip_ws(c);
    if (c->pos < c->len && c->s[c->pos] == ']') {
        c->pos++;
        return 0;
    }
    for (;;) {
        if (value(c) < 0)
            return -1;
        skip_ws(c);
        if (c->pos < c->len && c->s[c->pos] == ',') {
            c->pos++;
            continue;
        }
        if (c->pos < c->len && c->s[c->pos] == ']') {
            c->pos++;
            return 0;
        }
        return fail(c, "',' or ']' expected in array");
    }
}

static int
value(checker *c)
{
    skip_ws(c);
    if (c->pos >= c->len)
        return fail(c, "unexpected end of input");
    unsigned char ch = c->s[c->pos];
    int rc;
    switch (ch) {
    case '{':
    case '[':
        if (++c->depth > c->max_depth)
            return fail(c, "nesting too deep");
        rc = ch == '{' ? object(c) : array(c);
        c->depth--;
        return rc;
    case '"':
        return string(c);
    case 't':
        return literal(c, "true");
    case 'f':
        return literal(c, "false");
    case 'n':
        return literal(c, "null");
    default:
        if (ch == '-' || (ch >= '0' && ch <= '9'))
            return number(c);
        return fail(c, "unexpected character");
    }
}

rhis_status
rhis_json_parse(const char *text,
                size_t len,
                int max_depth,
                json_object **out,
                char *errbuf,
                size_t errlen)
{
    *out = NULL;
    if (max_depth <= 0)
        max_depth = RHIS_JSON_DEFAULT_DEPTH;
    checker c = {
        .s = (const unsigned char *)text, .len = len, .max_depth = max_depth};
    int rc = value(&c);
    if (rc == 0) {
        skip_ws(&c);
        if (c.pos != c.len)
            rc = fail(&c, "trailing data after JSON value");
    }
    rhis_free(c.keys);
    for (size_t i = 0; i < c.nowned; i++)
        rhis_free(c.owned[i]);
    rhis_free(c.owned);
    if (rc < 0) {
        if (errbuf != NULL)
            snprintf(errbuf, errlen, "invalid JSON at byte %zu: %s", c.fault_at,
                     c.fault);
        return RHIS_EINVAL;
    }
    json_tokener *tok = json_tokener_new_ex(max_depth + 1);
    RHIS_ASSERT(tok != NULL);
    json_tokener_set_flags(tok,
                           JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    if (obj == NULL && jerr == json_tokener_continue) {
        /* a bare number or literal: json-c needs a terminator to know it
         * has ended */
        obj = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
    }
    json_tokener_free(tok);
    if (obj == NULL && jerr != json_tokener_success) {
        if (errbuf != NULL)
            snprintf(errbuf, errlen, "invalid JSON: %s",
                     json_tokener_error_desc(jerr));
        return RHIS_EINVAL;
    }
    if (obj == NULL) {
        /* the literal null: represent it as a JSON null we can hand out */
        if (errbuf != NULL)
            snprintf(errbuf, errlen, "JSON null is not a valid document");
        return RHIS_EINVAL;
    }
    *out = obj;
    return RHIS_OK;
}

const char *
rhis_json_print(json_object *obj)
{
    return json_object_to_json_string_ext(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

json_object *
rhis_json_get(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (obj == NULL || !json_object_is_type(obj, json_type_object))
        return NULL;
    if (!json_object_object_get_ex(obj, key, &v))
        return NULL;
    return v;
}

const char *
rhis_json_get_str(json_object *obj, const char *key)
{
    json_object *v = rhis_json_get(obj, key);
    if (v == NULL || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

rhis_status
rhis_json_get_int(json_object *obj, const char *key, int64_t *out)
{
    json_object *v = rhis_json_get(obj, key);
    if (v == NULL || json_object_is_type(v, json_type_null))
        return RHIS_ENOTFOUND;
    if (!json_object_is_type(v, json_type_int))
        return RHIS_EINVAL;
    *out = json_object_get_int64(v);
    return RHIS_OK;
}

json_object *
rhis_json_new_double(double v)
{
    char buf[40];
    snprintf(buf, sizeof(buf), "%.15g", v);
    return json_object_new_double_s(v, buf);
}

json_object *
rhis_json_new_fixed(double v, int decimals)
{
    char buf[48];
    snprintf(buf, sizeof(buf), "%.*f", decimals, v);
    return json_object_new_double_s(v, buf);
}

/*
 * csv.c - RFC 4180 records from a file or memory.
 *
 * Why: see csv.h.  The record is unescaped in place into one capped buffer;
 * field pointers index into it.
 */
#include <errno.h>
#include <string.h>

#include "rhis/csv.h"

rhis_status
rhis_csv_open(rhis_csv *c, const char *path, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    c->f = fopen(path, "rb");
    if (c->f == NULL) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return errno == ENOENT ? RHIS_ENOTFOUND : RHIS_EIO;
    }
    c->next_line = 1;
    rhis_buf_init(&c->rec, RHIS_CSV_MAX_RECORD);
    /* skip a UTF-8 byte-order mark (Excel writes one); anything else,
     * including a first character U+F000..U+FFFF, is data */
    unsigned char bom[3];
    if (fread(bom, 1, 3, c->f) != 3 || bom[0] != 0xef || bom[1] != 0xbb ||
        bom[2] != 0xbf)
        rewind(c->f);
    return RHIS_OK;
}

void
rhis_csv_open_mem(rhis_csv *c, const char *data, size_t len)
{
    memset(c, 0, sizeof(*c));
    c->mem = data;
    c->mem_len = len;
    c->next_line = 1;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
        c->mem_pos = 3;
    rhis_buf_init(&c->rec, RHIS_CSV_MAX_RECORD);
}

static int
getch(rhis_csv *c)
{
    if (c->f != NULL)
        return fgetc(c->f);
    if (c->mem_pos >= c->mem_len)
        return EOF;
    return (unsigned char)c->mem[c->mem_pos++];
}

static void
ungetch(rhis_csv *c, int ch)
{
    if (ch == EOF)
        return;
    if (c->f != NULL)
        ungetc(ch, c->f);
    else
        c->mem_pos--;
}

int
rhis_csv_next(rhis_csv *c, char ***fields)
{
    for (;;) {
        rhis_buf_reset(&c->rec);
        c->line = c->next_line;
        int nf = 0;
        size_t starts[RHIS_CSV_MAX_FIELDS];
        starts[nf++] = 0;
        int ch = getch(c);
        if (ch == EOF)
            return 0;
        if (ch == '\n' || ch == '\r') {
            if (ch == '\r') {
                int n = getch(c);
                if (n != '\n')
                    ungetch(c, n);
            }
            c->next_line++;
            continue; /* blank line */
        }
        int quoted = 0, after_quote = 0, field_start = 1;
        for (;; ch = getch(c)) {
            if (ch == EOF) {
                if (quoted)
                    return -1;
                break;
            }
            if (quoted) {
                if (ch == '"') {
                    int n = getch(c);
                    if (n == '"') {
                        if (rhis_buf_append(&c->rec, "\"", 1) != RHIS_OK)
                            return -1;
                        continue;
                    }
                    ungetch(c, n);
                    quoted = 0;
                    after_quote = 1;
                    continue;
                }
                if (ch == '\n')
                    c->next_line++;
                char b = (char)ch;
                if (ch == 0 || rhis_buf_append(&c->rec, &b, 1) != RHIS_OK)
                    return -1;
                continue;
            }
            if (ch == ',') {
                if (nf >= RHIS_CSV_MAX_FIELDS ||
                    rhis_buf_append(&c->rec, "", 1) != RHIS_OK)
                    return -1;
                starts[nf++] = c->rec.len;
                field_start = 1;
                after_quote = 0;
                continue;
            }
            if (ch == '\r' || ch == '\n') {
                if (ch == '\r') {
                    int n = getch(c);
                    if (n != '\n')
                        ungetch(c, n);
                }
                c->next_line++;
                break;
            }
            if (ch == '"') {
                if (!field_start)
                    return -1; /* stray quote inside a bare field */
                quoted = 1;
                field_start = 0;
                continue;
            }
            if (after_quote || ch == 0)
                return -1; /* text after a closing quote */
            field_start = 0;
            char b = (char)ch;
            if (rhis_buf_append(&c->rec, &b, 1) != RHIS_OK)
                return -1;
        }
        if (rhis_buf_append(&c->rec, "", 1) != RHIS_OK)
            return -1;
        for (int i = 0; i < nf; i++)
            c->fields[i] = c->rec.data + starts[i];
        *fields = c->fields;
        return nf;
    }
}

void
rhis_csv_close(rhis_csv *c)
{
    if (c->f != NULL)
        fclose(c->f);
    c->f = NULL;
    rhis_buf_fini(&c->rec);
}

long long
rhis_parse_int64(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 18)
        return -1;
    long long v = 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

int
rhis_parse_int(const char *s)
{
    long long v = rhis_parse_int64(s);
    return v < 0 || v > 2147483647LL ? -1 : (int)v;
}

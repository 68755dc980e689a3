/*
 * fuzz_config.c - libFuzzer target for the config file reader
 * (rhis_config_load_file in src/core/config.c).
 *
 * The reader takes a path, so the input is written to a temporary file
 * (one per process, rewritten each run).  Oracles: on success every
 * string setting is NUL-terminated inside its field; on failure the error
 * names the file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rhis/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmp_path[64];

static void
remove_tmp(void)
{
    if (tmp_path[0] != '\0')
        unlink(tmp_path);
}

static int
write_input(const uint8_t *data, size_t size)
{
    if (tmp_path[0] == '\0') {
        snprintf(tmp_path, sizeof(tmp_path), "/tmp/rhis-fuzz-config-XXXXXX");
        int fd = mkstemp(tmp_path);
        if (fd < 0)
            return -1;
        close(fd);
        atexit(remove_tmp);
    }
    FILE *f = fopen(tmp_path, "wb");
    if (f == NULL)
        return -1;
    size_t w = fwrite(data, 1, size, f);
    if (fclose(f) != 0 || w != size)
        return -1;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256 * 1024 || write_input(data, size) < 0)
        return 0;
    rhis_config c;
    rhis_config_defaults(&c);
    char err[512] = "";
    rhis_status rc = rhis_config_load_file(&c, tmp_path, err, sizeof(err));
    if (rc == RHIS_OK) {
        if (memchr(c.db, '\0', sizeof(c.db)) == NULL ||
            memchr(c.listen, '\0', sizeof(c.listen)) == NULL ||
            memchr(c.web_root, '\0', sizeof(c.web_root)) == NULL ||
            memchr(c.data_dir, '\0', sizeof(c.data_dir)) == NULL ||
            memchr(c.log_level, '\0', sizeof(c.log_level)) == NULL)
            abort();
        if (c.threads < 0 || c.db_pool < 1 || c.login_workers < 1 ||
            (c.access_log != 0 && c.access_log != 1))
            abort();
    } else if (strstr(err, tmp_path) == NULL) {
        abort();
    }
    return 0;
}

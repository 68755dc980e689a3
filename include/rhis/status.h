/*
 * status.h - the one status enum every RHIS function returns.
 *
 * Why: errors must travel from the database driver to the HTTP response
 * without each layer inventing its own codes.  0 is success, negative values
 * are failure kinds; only src/http/respond.c maps them to HTTP codes.
 */
#ifndef RHIS_STATUS_H
#define RHIS_STATUS_H

typedef enum rhis_status {
    RHIS_OK = 0,
    RHIS_ROW = 1,            /* rhis_db_step: a row is ready */
    RHIS_DONE = 2,           /* rhis_db_step: no more rows */
    RHIS_EINVAL = -2,        /* caller passed bad input (400) */
    RHIS_ENOTFOUND = -3,     /* no such record (404) */
    RHIS_ECONFLICT = -4,     /* duplicate or version conflict (409) */
    RHIS_EIO = -5,           /* storage or network failure (503) */
    RHIS_EUNAUTH = -6,       /* no or bad credentials (401) */
    RHIS_EFORBIDDEN = -7,    /* authenticated but not allowed (403) */
    RHIS_ETOOBIG = -8,       /* body or field over its cap (413) */
    RHIS_ERATE = -9,         /* rate limited (429) */
    RHIS_EMETHOD = -10,      /* path exists, method does not (405) */
    RHIS_EPRECOND = -11,     /* If-Match and friends failed (412) */
    RHIS_EUNSUPPORTED = -12, /* media type or feature unsupported (415) */
    RHIS_EINTERNAL = -13,    /* a bug or an unexpected state (500) */
    RHIS_EBUSY = -14,        /* resource busy, try again (503) */
    RHIS_EGONE = -15,        /* existed, now deleted (410) */
} rhis_status;

/* Returns a short stable name for st, e.g. "invalid_argument". */
const char *rhis_status_name(rhis_status st);

#endif

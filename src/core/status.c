/*
 * status.c - names of status codes, used in error bodies and logs.
 */
#include "rhis/status.h"

const char *
rhis_status_name(rhis_status st)
{
    switch (st) {
    case RHIS_OK:
        return "ok";
    case RHIS_ROW:
        return "row";
    case RHIS_DONE:
        return "done";
    case RHIS_EINVAL:
        return "invalid_argument";
    case RHIS_ENOTFOUND:
        return "not_found";
    case RHIS_ECONFLICT:
        return "conflict";
    case RHIS_EIO:
        return "unavailable";
    case RHIS_EUNAUTH:
        return "unauthenticated";
    case RHIS_EFORBIDDEN:
        return "forbidden";
    case RHIS_ETOOBIG:
        return "too_large";
    case RHIS_ERATE:
        return "rate_limited";
    case RHIS_EMETHOD:
        return "method_not_allowed";
    case RHIS_EPRECOND:
        return "precondition_failed";
    case RHIS_EUNSUPPORTED:
        return "unsupported";
    case RHIS_EINTERNAL:
        return "internal";
    case RHIS_EBUSY:
        return "busy";
    case RHIS_EGONE:
        return "gone";
    }
    return "unknown";
}

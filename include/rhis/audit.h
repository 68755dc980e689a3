/*
 * audit.h - the append-only audit trail.
 *
 * Why: who read or changed which record, when, from where and with what
 * outcome must survive every later change.  Writes describing a change are
 * made in the same transaction as the change; the table refuses UPDATE and
 * DELETE on both engines.
 */
#ifndef RHIS_AUDIT_H
#define RHIS_AUDIT_H

#include <stdint.h>

#include "rhis/db.h"
#include "rhis/status.h"

typedef struct rhis_audit_event {
    int64_t user_id;           /* 0 = anonymous */
    const char *username;      /* may be NULL */
    const char *role;          /* may be NULL */
    const char *action;        /* FHIR AuditEvent.action: C R U D E */
    const char *operation;     /* e.g. "login", "read", "create", "search" */
    const char *resource_type; /* e.g. "Organization"; may be NULL */
    const char *resource_id;   /* may be NULL */
    const char *patient_id;    /* the record's subject, if any */
    int outcome;               /* HTTP status of the outcome */
    const char *address;       /* client address */
    const char *request_id;
    const char *detail; /* short, never patient data */
} rhis_audit_event;

/* Appends one event on db (inside the caller's transaction if any). */
rhis_status rhis_audit_write(rhis_db *db, const rhis_audit_event *ev);

#endif

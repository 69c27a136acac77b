/*
 * calstore_import.h - importing an iCalendar stream into a calendar
 * collection: the store half of caldavctl import and of POST to a
 * calendar collection (mod_caldav/caldav_import.c).  Exactly one
 * implementation serves both, so an input imports the same way whoever
 * imports it.
 *
 * The text half is core's (calcore_import.h): the input is cut into
 * components at the octet level and grouped by UID into objects (a
 * recurrence master with its overrides and the VTIMEZONEs they use; a
 * component without UID gets one derived from its bytes).  Here each
 * object is
 *
 *   1. validated exactly as a PUT into the calendar would be
 *      (calcore_object_parse with the caller's limits, the calendar's
 *      supported-calendar-component-set and calendar-timezone) and indexed
 *      with calstore_calinfo_build(), outside any transaction;
 *   2. written create-or-modify by UID: when the calendar holds an object
 *      with the UID (calstore_batch_uid_lookup, inside the write
 *      transaction) that object is replaced in place (same name, same id,
 *      new ETag); otherwise it is created as calcore_import_name(UID)
 *      (with "-1", "-2", ... when that name is taken by another UID).
 *
 * Invalid objects are skipped (and reported) unless stop_on_error is set.
 * Without a batch size the whole import is ONE transaction (calstore_batch:
 * every valid object is stored or none); with one, every 'batch' objects
 * are committed together.
 *
 * No httpd header is included here, nor may one be.
 */
#ifndef CALSTORE_IMPORT_H
#define CALSTORE_IMPORT_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "calstore.h"
#include "calcore_import.h"
#include "calcore_object.h"

/* The content type imported objects are stored with. */
#define CALSTORE_IMPORT_CTYPE "text/calendar; charset=utf-8"

/* What happened to one object of the input. */
typedef enum {
    CALSTORE_IMPORT_CREATED = 1,    /* stored as a new member              */
    CALSTORE_IMPORT_MODIFIED = 2,   /* replaced the member with its UID    */
    CALSTORE_IMPORT_SKIPPED = 3     /* not stored: see 'why'               */
} calstore_import_outcome_e;

/* Why an object was skipped. */
typedef enum {
    CALSTORE_IMPORT_STORED = 0,     /* it was not                           */
    CALSTORE_IMPORT_INVALID,        /* refused by validation: 'precond',
                                       'reason'                             */
    CALSTORE_IMPORT_BROKEN,         /* its component is not terminated: it
                                       could not be cut out of the input   */
    CALSTORE_IMPORT_REFUSED,        /* the store refused it ('status';
                                       CALSTORE_EUIDCONFLICT and the like) */
    CALSTORE_IMPORT_NOT_WRITTEN     /* valid, but not written: the import
                                       stopped (stop_on_error, or its batch
                                       or an earlier one failed)           */
} calstore_import_why_e;

/* One object of the input and what became of it. */
typedef struct calstore_import_result_t {
    const char *uid;                /* its UID (possibly generated)         */
    int generated;                  /* the UID was generated                */
    const char *comp;               /* its (first) component's name         */
    unsigned line;                  /* line of its first component's BEGIN */
    const char *label;              /* "UID x (line 12)" / "VEVENT without
                                       UID (line 40)", for messages        */
    const char *name;               /* member name: the one written; for a
                                       skipped object (and in a dry run)
                                       the member that holds its UID, else
                                       the name it would be created as     */
    calstore_import_outcome_e outcome;
    calstore_import_why_e why;      /* CALSTORE_IMPORT_STORED unless
                                       skipped                              */
    calcore_precond_e precond;      /* INVALID: the precondition violated;
                                       REFUSED for a UID conflict:
                                       CALCORE_PRECOND_NO_UID_CONFLICT;
                                       else CALCORE_PRECOND_NONE            */
    apr_status_t status;            /* REFUSED: the store's status          */
    const char *reason;             /* skipped: why, for a human
                                       ("valid-calendar-data: VEVENT: DTEND
                                       is before DTSTART"); else NULL      */
} calstore_import_result_t;

/* Progress: 'done' of 'total' objects validated (writing = 0) or written
 * (writing = 1).  Called every opts->progress_every objects.  Called
 * inside the write transaction for writes: it must not call the store. */
typedef void calstore_import_progress_fn(void *baton, int writing,
                                         apr_size_t done, apr_size_t total);

typedef struct calstore_import_opts_t {
    const calcore_limits_t *limits; /* the server's limits (size, dates,
                                       instances, attendees, now, horizon);
                                       NULL = calstore_limits_default().
                                       Its components and floating zone are
                                       ignored: the calendar's are used    */
    int dry_run;                    /* validate and look UIDs up, write
                                       nothing (outcomes say what would be
                                       done)                                */
    int stop_on_error;              /* stop at the first invalid object (or
                                       broken component): nothing of its
                                       batch, nor anything after it, is
                                       written; earlier batches stay       */
    apr_size_t batch;               /* objects per transaction; 0 = the
                                       whole import in one                  */
    const calcore_attrmap_t *map;   /* aliases and defaults applied to every
                                       component (calcore_attrmap.h), or
                                       NULL                                 */
    calstore_import_progress_fn *progress; /* may be NULL                  */
    void *progress_baton;
    apr_size_t progress_every;      /* 0 = never                            */
} calstore_import_opts_t;

/* The outcome of an import. */
typedef struct calstore_import_report_t {
    apr_array_header_t *results;    /* calstore_import_result_t: first the
                                       broken component (if any), then the
                                       objects in order of first
                                       appearance in the input             */
    apr_array_header_t *warnings;   /* const char *: what the cutting
                                       ignored (calcore_import_t.warnings) */
    apr_size_t created, modified, skipped; /* every result counted once   */
    int stopped;                    /* stop_on_error stopped the import     */
    apr_status_t failed;            /* APR_SUCCESS, or why a batch could not
                                       be written (nothing of it, nor after
                                       it, was)                             */
    apr_size_t failed_objects;      /* the objects of that batch            */
    const char *floating_problem;   /* the calendar's calendar-timezone is
                                       unusable (floating times read as
                                       UTC): why; else NULL                 */
} calstore_import_report_t;

/* Fill 'opts' with the defaults: server default limits, no dry run, skip
 * invalid objects, one transaction, no progress.  Cannot fail. */
void calstore_import_opts_default(calstore_import_opts_t *opts);

/* Import the iCalendar stream 'text' ('len' octets, CRLF or LF, any number
 * of VCALENDARs) into the calendar collection 'cal' at store path
 * 'cal_path' (a node calstore_lookup() returned for it), as described at
 * the top of this file.  *report is allocated from 'pool' (as everything
 * it points to; 'text' must outlive it) and set whatever the result.
 * calcore_init() must have run.
 *
 * Returns APR_SUCCESS when everything that was to be written was committed
 * (objects may have been skipped: see the report); CALSTORE_EINVAL when
 * 'cal' is not a calendar collection; the store's error when reading the
 * calendar's calendar-timezone failed (nothing written); or, in
 * report->failed too, the failure of a batch (CALSTORE_EBUSY after too
 * many deadlocks, CALSTORE_EPANIC, ENOMEM when Berkeley DB's lock table is
 * exhausted by a very large batch, a failed UID lookup in a dry run, ...):
 * that batch and everything after it were not written, the batches before
 * it were committed. */
apr_status_t calstore_import(calstore_t *st, const calstore_node_t *cal,
                             const char *cal_path, const char *text,
                             apr_size_t len,
                             const calstore_import_opts_t *opts,
                             calstore_import_report_t **report,
                             apr_pool_t *pool);

/* The reason of a result of 'report' for messages: "skipped UID x (line
 * 3): valid-calendar-data: ..." and the like ("created NAME: UID x (line
 * 3)" for stored ones).  From 'pool'.  Cannot fail. */
const char *calstore_import_describe(const calstore_import_result_t *res,
                                     apr_pool_t *pool);

#endif /* CALSTORE_IMPORT_H */

/*
 * calstore_private.h - internals shared by the files of repos/ (and the
 * test-only hooks used by tests/unit/test_calstore.c).  Not for mod_caldav/.
 */
#ifndef CALSTORE_PRIVATE_H
#define CALSTORE_PRIVATE_H

#include <sys/types.h>

#include <db.h>

#include <apr_thread_mutex.h>

#include "calstore.h"
#include "calstore_schema.h"

/* Internal status: the transaction hit a deadlock or a lock timeout and the
 * whole transaction should be retried.  Never returned by the public API. */
#define CALSTORE__RETRY  (CALSTORE_START + 99)   /* deadlock: retry now   */
#define CALSTORE__MAX_TIMEOUTS 2
#define CALSTORE__RETRY_TIMEOUT (CALSTORE_START + 98) /* a lock wait timed out */

struct calstore_t {
    apr_pool_t *pool;           /* sub-pool owning this handle               */
    const char *dir;
    calstore_options_t opts;
    db_timeout_t lock_timeout;  /* opts.lock_timeout, clamped             */

    /* Panic / reopen bookkeeping, all under 'mutex'. */
    apr_thread_mutex_t *mutex;
    int inside;                 /* threads currently inside a call           */
    int panicked;               /* DB_RUNRECOVERY seen; handles must reopen  */
    int reopening;              /* a maintain() call is reopening            */
    int closed;                 /* calstore_close() was called               */
    apr_time_t panic_since;

    /* This process's claim on the directory (one handle per process). */
    dev_t dev;
    ino_t ino;
    int claimed;

    /* Berkeley DB handles; NULL while closed or after a failed reopen. */
    DB_ENV *env;
    DB *meta;
    DB *nodes;
    DB *byid;
    DB *bodies;
    DB *props;
    DB *calobj;
    DB *uid;
    DB *tr;
    DB *tredge;
    DB *changes;
    DB *chindex;
    DB_SEQUENCE *seq;
};

/* Map a Berkeley DB return code to a status: 0 -> APR_SUCCESS; deadlock and
 * lock timeout -> CALSTORE__RETRY_TIMEOUT; DB_RUNRECOVERY -> marks the store
 * panicked, CALSTORE_EPANIC; a positive errno -> that errno; anything else
 * (DB_NOTFOUND included: callers handle it first) -> CALSTORE_EDB.  Failures
 * are logged with 'what'. */
apr_status_t calstore__db_status(calstore_t *st, int ret, const char *what);

/* A unit of work run inside one transaction 'txn'.  Allocations that must
 * survive go to the caller's pool (reached through 'baton'); 'scratch' is
 * cleared between attempts.  Returns CALSTORE__RETRY (from
 * calstore__db_status) to have the transaction retried. */
typedef apr_status_t calstore__txn_fn(calstore_t *st, DB_TXN *txn,
                                      void *baton, apr_pool_t *scratch);

/* What calstore__run() runs 'fn' in. */
#define CALSTORE__TXN_READ      0   /* DB_READ_COMMITTED                    */
#define CALSTORE__TXN_WRITE     1   /* serialisable, may write              */
#define CALSTORE__TXN_SNAPSHOT  2   /* read-only snapshot: reads of nodes.db
                                       (DB_MULTIVERSION) take no locks and
                                       never wait for a writer              */

/* Enter the store, run 'fn' in a fresh transaction of kind 'write' (a
 * CALSTORE__TXN_* value), commit on APR_SUCCESS, abort otherwise, retry
 * deadlocks up to opts.max_retries times with a jittered back-off (attempt
 * n at deadlock priority 100 + n: Berkeley DB's detector rejects the lower
 * priority, so a retry wins against transactions that lost fewer), but
 * lock-wait timeouts only CALSTORE__MAX_TIMEOUTS times (each costs a whole
 * lock timeout; a request must fail with 503 in seconds, not hang), then
 * CALSTORE_EBUSY; leave the store.  Returns CALSTORE_EPANIC at once while
 * panicked. */
apr_status_t calstore__run(calstore_t *st, int write, calstore__txn_fn *fn,
                           void *baton, apr_pool_t *pool);

/* Allocate a fresh node id (outside any transaction; ids are never reused,
 * gaps are normal). */
apr_status_t calstore__next_id(calstore_t *st, calstore_id_t *id);

/* ---- test-only hooks (tests/unit/test_calstore.c) --------------------- */

/* Record counts of meta, nodes, byid, bodies and props, in that order. */
apr_status_t calstore__test_counts(calstore_t *st, apr_size_t counts[5]);

/* Record counts of calobj, uid, tr and tredge, in that order. */
apr_status_t calstore__test_cal_counts(calstore_t *st, apr_size_t counts[4]);

/* Change-log entries of collection 'coll' (0 = every collection): 'A'
 * entries, 'R' entries, chindex name entries, in that order; *watermark
 * (if not NULL) is coll's watermark (0 = never pruned; 0 for coll 0). */
apr_status_t calstore__test_log_counts(calstore_t *st, calstore_id_t coll,
                                       apr_size_t counts[3],
                                       apr_uint64_t *watermark);

/* Check the cross-database invariants (every node has its byid entry and
 * vice versa, bodies exactly for resources with the recorded length, no
 * orphan properties, every parent a collection; no collection inside a
 * calendar, a calobj record exactly for every resource of a calendar, and
 * the uid, tr and tredge entries exactly those its records call for, every
 * tr entry within its calendar's maxdur; the change log: exactly one 'A'
 * entry per member, at or below its collection's revision, 'R' entries
 * only for names that are not members and above the watermark, the
 * chindex entries exactly those of the log, watermarks only for
 * collections and at or below their revision).  CALSTORE_ECORRUPT (and a
 * log message per problem) if one fails. */
apr_status_t calstore__check(calstore_t *st, apr_pool_t *pool);

/* Damage one index or log entry so that a test can see calstore__check
 * catch it: 'T' delete the first tr entry, 't' add a tr entry for an object
 * that does not exist, 'U' delete the first uid entry, 'u' point the first
 * uid entry at another name, 'E' delete the first tredge entry, 'M' set the
 * first calendar collection's maxdur to 0 (only caught if it holds a tr
 * entry longer than 0 s), 'C' delete the first change-log entry, 'I'
 * delete the first chindex entry, 'W' set the root's watermark above its
 * revision.  0 undoes the last damage.  CALSTORE_ENOENT if there is
 * nothing to damage (or to undo). */
apr_status_t calstore__test_damage(calstore_t *st, int what);

/* Index entries (tr and tredge records, cursor positionings included) read
 * by calstore_query_range() since the process started; tests reset it. */
extern apr_uint64_t calstore__test_visited;

/* Non-zero: calendar object records are written without
 * CALSTORE_CALOBJ_RUNS (one tr entry per span), as by a format-7 build, so
 * that tests can mix both kinds of record.  0 (the default) in production. */
extern int calstore__test_no_runs;

/* Begin a transaction that write-locks the node at 'path' and its parent,
 * and return without ending it (the caller is about to die). */
apr_status_t calstore__test_hold(calstore_t *st, const char *path);

/* Set the environment's panic flag, as a fatal BDB error would. */
apr_status_t calstore__test_panic(calstore_t *st);

/* Sleep this long in COPY/MOVE between locking the source's collection and
 * the destination's (0 = never), to provoke deadlocks in tests. */
extern apr_interval_time_t calstore__test_move_delay;

/* Count this thread as inside the store (test_enter) / no longer (leave),
 * to simulate a thread stuck in Berkeley DB. */
apr_status_t calstore__test_enter(calstore_t *st);
void calstore__test_leave(calstore_t *st);

#endif /* CALSTORE_PRIVATE_H */

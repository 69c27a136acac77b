/*
 * calstore.h - the Berkeley DB repository of mod_caldav.
 *
 * A store is one directory holding one transactional Berkeley DB environment.
 * It contains a single tree of nodes: collections and resources.  A node is
 * addressed by a path relative to the tree's root ("" is the root, "a/b.ics"
 * a member of collection "a"); paths use '/' between segments, carry no
 * leading or trailing '/', and are already URL-decoded.  (One leading and one
 * trailing '/' are tolerated; empty segments, "." and "..", and segments
 * longer than 255 bytes are CALSTORE_EINVAL.)
 *
 * Every node has a stable 64-bit id that never changes while the node lives
 * (MOVE keeps it), so dead properties and bodies, which are keyed by id, do
 * not move when a collection is renamed.  The record layout is documented in
 * docs/storage-format.md.
 *
 * Every mutating call below is exactly one Berkeley DB transaction, retried
 * internally on deadlock: when it returns APR_SUCCESS the change is committed
 * (durably, unless the store was opened with CALSTORE_DURABILITY_WRITE_NOSYNC),
 * and when it returns anything else nothing was changed, with one exception:
 * a failure to flush the log after the commit (an I/O error, which also
 * panics the store) leaves the outcome unknown.  No call, read or write,
 * returns data that is not yet on disk in a durable store (commits release
 * their locks before the flush, so a reader may see a change whose flush is
 * still under way; the reader flushes the log before it returns).
 *
 * Threads: a calstore_t is shared by all threads of a process; every call is
 * thread-safe.  Processes: any number of processes may open the same store at
 * once (httpd children, caldavctl); they must all use this API.
 *
 * No httpd header is included here, nor may one be: this layer is APR + libdb.
 */
#ifndef CALSTORE_H
#define CALSTORE_H

#include <apr_errno.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

/* ---- status codes ---------------------------------------------------- */

/* Store-specific apr_status_t values.  Anything else returned by this API is
 * an APR/errno code (e.g. APR_ENOMEM, EIO) or CALSTORE_EDB (a Berkeley DB
 * failure, already logged with its BDB message). */
#define CALSTORE_START        (APR_OS_START_USERERR + 3100)
#define CALSTORE_ENOENT       (CALSTORE_START + 1)  /* node does not exist      */
#define CALSTORE_EEXIST       (CALSTORE_START + 2)  /* node already exists      */
#define CALSTORE_ENOPARENT    (CALSTORE_START + 3)  /* parent missing or not a
                                                       collection (HTTP 409)   */
#define CALSTORE_EISCOLL      (CALSTORE_START + 4)  /* is a collection, wanted
                                                       a resource              */
#define CALSTORE_ENOTCOLL     (CALSTORE_START + 5)  /* not a collection         */
#define CALSTORE_ECHANGED     (CALSTORE_START + 6)  /* a calstore_cond_t did not
                                                       hold at commit (412)    */
#define CALSTORE_EBUSY        (CALSTORE_START + 7)  /* deadlock/lock timeout
                                                       retries exhausted (503) */
#define CALSTORE_EPANIC       (CALSTORE_START + 8)  /* environment needs
                                                       recovery; retry later
                                                       (503)                    */
#define CALSTORE_EFORMAT      (CALSTORE_START + 9)  /* store written by an
                                                       unknown format version  */
#define CALSTORE_EDB          (CALSTORE_START + 10) /* other Berkeley DB error  */
#define CALSTORE_EINVAL       (CALSTORE_START + 11) /* bad argument (bad path,
                                                       copy into itself, ...)  */
#define CALSTORE_ECORRUPT     (CALSTORE_START + 12) /* a record failed to decode */

/* A static, human-readable text for any status this API returns (falls back
 * to apr_strerror for others, using 'buf').  Cannot fail. */
const char *calstore_strerror(apr_status_t rv, char *buf, apr_size_t bufsize);

/* ---- opening --------------------------------------------------------- */

typedef struct calstore_t calstore_t;
typedef apr_uint64_t calstore_id_t;

#define CALSTORE_ROOT_ID ((calstore_id_t)1)

typedef enum {
    CALSTORE_DURABILITY_SYNC = 0,        /* commit = log flushed to disk   */
    CALSTORE_DURABILITY_WRITE_NOSYNC = 1 /* commit = log written to the OS:
                                            survives process crashes, not
                                            power loss                      */
} calstore_durability_e;

typedef struct calstore_options_t {
    calstore_durability_e durability;
    apr_size_t cache_bytes;        /* BDB cache; 0 = default (64 MB)         */
    apr_interval_time_t lock_timeout; /* max wait for one lock; 0 = 2 s.
                                      Berkeley DB ends longer waits only
                                      when a lock detector runs, which
                                      calstore_maintain() does: the real
                                      bound is lock_timeout + the maintain
                                      period (any process's)              */
    int max_retries;               /* deadlock retries per call; 0 = 8       */
    int create;                    /* create the directory/environment if
                                      missing                                */
} calstore_options_t;

/* Fill 'opts' with the defaults (durable, 64 MB cache, 2 s lock timeout,
 * 8 retries, create).  Cannot fail. */
void calstore_options_default(calstore_options_t *opts);

/* Run normal recovery on the store in 'dir' if any process that used it died
 * (DB_REGISTER|DB_RECOVER), create it if missing and opts->create, upgrade a
 * store of format 5, 6 or 7 in place (as calstore_open does), then close it
 * again.  If the environment's cache is not the size opts->cache_bytes asks
 * for (its region files keep the size they were created with), its regions
 * are removed and created anew, unless another process has it open (then a
 * warning is logged and the old size stays).  Meant for a supervisor that
 * runs before any user of the store starts (httpd's parent in post_config).
 * Returns CALSTORE_EFORMAT if the store has any other format version,
 * CALSTORE_ECORRUPT if the upgrade met a malformed entry (nothing changed),
 * and CALSTORE_EINVAL if this process has the store open.  Files are created
 * mode 0600 and owned by the caller: run it as the user the store's users
 * run as. */
apr_status_t calstore_prepare(const char *dir, const calstore_options_t *opts,
                              apr_pool_t *pool);

/* The size in bytes of the cache of the environment 'st' works in (what
 * Berkeley DB made of the requested size: 25% more below 500 MB). */
apr_uint64_t calstore_cache_bytes(calstore_t *st);

/* Open the store in 'dir' for this process.  All handles are allocated from
 * a sub-pool of 'pool' and closed when 'pool' is cleared or destroyed.
 * Opening runs recovery when a registered process died.  A store of format
 * 5, 6 or 7 is upgraded to the current format in one transaction (one of
 * several processes opening it at once does it, the others wait and find it
 * done; a failure leaves it as it was); any other format version is
 * CALSTORE_EFORMAT (docs/storage-format.md, meta.db).  Safe to call in any
 * number of processes at once, but at most once per store per process
 * (Berkeley DB's DB_REGISTER tracks processes, not handles): a second open
 * of the same directory in one process is CALSTORE_EINVAL until the first
 * is closed.  On failure *st is NULL and the reason was logged. */
apr_status_t calstore_open(calstore_t **st, const char *dir,
                           const calstore_options_t *opts, apr_pool_t *pool);

/* Close every handle now (also done by the pool cleanup).  Callers must make
 * sure no other thread is inside a calstore call. */
void calstore_close(calstore_t *st);

/* Periodic housekeeping, for one thread per process to call every second or
 * so: detect dead processes (DB_ENV->failchk), end lock waits that exceeded
 * their lock timeout, checkpoint when enough log was written, and, after
 * CALSTORE_EPANIC was seen, reopen the environment once no thread is inside
 * the store any more (the reopen runs recovery).  Returns APR_SUCCESS,
 * CALSTORE_EPANIC while a reopen is pending, or APR_TIMEUP when threads have
 * been stuck inside the store for longer than 'stuck_after' since the panic
 * (the caller should then end the process: only that frees a thread blocked
 * in BDB).  CALSTORE_EINVAL after calstore_close(). */
apr_status_t calstore_maintain(calstore_t *st, apr_interval_time_t stuck_after);

/* Are threads of this process stuck inside the store: panicked for longer
 * than 'after' with calls still inside Berkeley DB?  Such threads wait on a
 * mutex of a dead process and will never return; only ending the process
 * frees them.  Takes no Berkeley DB lock or mutex (only the store's own APR
 * mutex), so a watchdog thread can call it while every other thread is
 * blocked in the library.  Cannot fail. */
int calstore_stuck(calstore_t *st, apr_interval_time_t after);

/* The directory the store lives in.  Cannot fail. */
const char *calstore_dir(const calstore_t *st);

/* ---- nodes ----------------------------------------------------------- */

typedef enum {
    CALSTORE_KIND_RESOURCE = 1,
    CALSTORE_KIND_COLLECTION = 2
} calstore_kind_e;

typedef struct calstore_node_t {
    calstore_id_t id;
    calstore_id_t parent;       /* 0 for the root                            */
    const char *name;           /* last path segment; "" for the root        */
    calstore_kind_e kind;
    apr_uint32_t flags;         /* a collection: CALSTORE_COLL_CALENDAR and
                                   the caller's CALSTORE_COLL_CALLER_MASK
                                   bits; a calendar object resource: its
                                   component kind (CALSTORE_RES_COMP_MASK);
                                   0 for other resources                    */
    apr_time_t created;
    apr_time_t modified;        /* last content change (resource) or member
                                   change (collection)                       */
    apr_uint64_t revision;      /* starts at 1; +1 on every content change of
                                   a resource; +1 for every change a
                                   collection logs about one of its members
                                   (added, replaced, removed, its dead
                                   properties patched; a rename within the
                                   collection is two: the old name removed,
                                   the new one added).  A collection's
                                   revision is its ctag and its sync token
                                   (see calstore_changes)                  */
    apr_off_t length;           /* body length; 0 for collections            */
    const char *content_type;   /* as stored by PUT; NULL if none            */
} calstore_node_t;

/* Write the strong entity tag of 'node', with the quotes, into 'buf' (at
 * least CALSTORE_ETAG_LEN bytes): "<id hex>-<revision hex>".  It changes on
 * every content change and differs between distinct nodes.  Cannot fail. */
#define CALSTORE_ETAG_LEN 40
void calstore_etag(const calstore_node_t *node, char *buf);

/* Look up the node at 'path'.  *node is allocated from 'pool'.  Returns
 * CALSTORE_ENOENT when there is no such node (and sets *parent_exists, if not
 * NULL, to 1 when the parent of 'path' exists and is a collection), or
 * CALSTORE_EINVAL for a malformed path ("..", empty segments). */
apr_status_t calstore_lookup(calstore_t *st, const char *path,
                             calstore_node_t **node, int *parent_exists,
                             apr_pool_t *pool);

/* calstore_lookup() that also returns, in one transaction, the parent
 * collection of 'path': *parent (from 'pool') is set whenever the parent
 * exists and is a collection, also when the result is CALSTORE_ENOENT (then
 * *node is NULL); it is NULL for the root, or when the parent is missing.
 * The adapter resolves a request's resource and its parent with one call. */
apr_status_t calstore_lookup_ex(calstore_t *st, const char *path,
                                calstore_node_t **node,
                                calstore_node_t **parent, apr_pool_t *pool);

/* The node with id 'id' and its path (no leading or trailing '/'; "" for
 * the root), both from 'pool'.  CALSTORE_ENOENT when no node has that id
 * (ids are never reused: a deleted node's id stays unknown).  'path' may be
 * NULL. */
apr_status_t calstore_get_node(calstore_t *st, calstore_id_t id,
                               calstore_node_t **node, const char **path,
                               apr_pool_t *pool);

/* Call 'cb' for every member of the collection 'dir', in name order.  Members
 * are read in batches and no Berkeley DB lock or cursor is held while 'cb'
 * runs, so 'cb' may call back into the store.  'node' and everything 'cb'
 * allocates from 'scratch' are valid only during that call ('scratch' is
 * cleared between members).  A non-APR_SUCCESS return from 'cb' stops the
 * iteration and is returned.  Members added or removed concurrently may or
 * may not be seen.  CALSTORE_ENOENT if no node has id 'dir',
 * CALSTORE_ENOTCOLL if it is a resource. */
typedef apr_status_t calstore_list_cb(void *baton,
                                      const calstore_node_t *node,
                                      apr_pool_t *scratch);
apr_status_t calstore_list(calstore_t *st, calstore_id_t dir,
                           calstore_list_cb *cb, void *baton,
                           apr_pool_t *pool);

/* Read the whole body of resource 'id' into memory from 'pool'.  *data is
 * followed by a NUL byte not counted in *len.  CALSTORE_ENOENT if no node
 * has this id, CALSTORE_EISCOLL if it is a collection. */
apr_status_t calstore_read(calstore_t *st, calstore_id_t id,
                           const char **data, apr_size_t *len,
                           apr_pool_t *pool);

/* ---- writes ---------------------------------------------------------- */

/* An optional condition checked inside the write transaction, so that a
 * conditional request (If-Match, If-None-Match) is atomic with its write.
 * 'id' == 0 means "the node must not exist"; otherwise the node at the path
 * must have this id and revision.  A NULL condition means unconditional. */
typedef struct calstore_cond_t {
    calstore_id_t id;
    apr_uint64_t revision;
} calstore_cond_t;

/* Create or replace the resource at 'path' with 'data'.  The parent must be
 * an existing collection (else CALSTORE_ENOPARENT); 'path' must not be a
 * collection (CALSTORE_EISCOLL).  Replacing keeps the id and dead properties
 * and bumps the revision.  The parent's revision is bumped too.  On success
 * *result (if not NULL) is the new node, from 'pool'; *created says whether
 * it did not exist before.  A content type longer than 1024 bytes is
 * CALSTORE_EINVAL; NULL or "" stores none. */
apr_status_t calstore_put(calstore_t *st, const char *path,
                          const char *content_type,
                          const char *data, apr_size_t len,
                          const calstore_cond_t *cond,
                          calstore_node_t **result, int *created,
                          apr_pool_t *pool);

/* Create the collection 'path'.  CALSTORE_EEXIST if anything is there,
 * CALSTORE_ENOPARENT if the parent is missing or not a collection. */
apr_status_t calstore_mkcol(calstore_t *st, const char *path,
                            calstore_node_t **result, apr_pool_t *pool);

/* Delete the node at 'path' and, for a collection, everything below it
 * (bodies and dead properties included).  The root cannot be deleted
 * (CALSTORE_EINVAL).  CALSTORE_ENOENT if there is no such node, or
 * CALSTORE_ECHANGED if there is none and 'cond' names a node. */
apr_status_t calstore_delete(calstore_t *st, const char *path,
                             const calstore_cond_t *cond, apr_pool_t *pool);

/* Copy 'src' to 'dst' with its dead properties.  'depth' is 0 (a collection
 * is copied without members) or -1 (infinity).  If 'dst' exists it is
 * deleted first, in the same transaction, when 'overwrite' is set, else
 * CALSTORE_EEXIST.  The copy gets new ids and starts at revision 1 (a
 * collection copied with its members: 1 + the number of its members, each
 * logged as an addition in its change log).  Copying
 * anything onto or below itself, copying the root, replacing the root, and
 * overwriting an ancestor of 'src' are CALSTORE_EINVAL; a missing 'src' is
 * CALSTORE_ENOENT, a missing parent of 'dst' CALSTORE_ENOPARENT. */
apr_status_t calstore_copy(calstore_t *st, const char *src, const char *dst,
                           int depth, int overwrite,
                           calstore_node_t **result, apr_pool_t *pool);

/* Move 'src' to 'dst', keeping its id (so its properties, members and, for
 * a collection, change log follow without being rewritten) and its
 * revision (so its entity tag).  'overwrite' and the error cases as for
 * calstore_copy.  The source parent logs the old name as removed, the
 * destination parent the new name as added (a rename within one
 * collection: both, two revisions). */
apr_status_t calstore_move(calstore_t *st, const char *src, const char *dst,
                           int overwrite, calstore_node_t **result,
                           apr_pool_t *pool);

/* ---- dead properties ------------------------------------------------- */

/* A dead property is identified by (namespace URI, local name); the namespace
 * is "" for properties in no namespace.  Its value is an opaque byte string
 * chosen by the caller (mod_caldav stores the self-contained XML element). */
typedef struct calstore_prop_t {
    const char *ns;
    const char *name;
    const char *value;     /* NULL in a patch = remove                      */
    apr_size_t len;
} calstore_prop_t;

/* Fetch one property of node 'id'.  CALSTORE_ENOENT if it is not set. */
apr_status_t calstore_prop_get(calstore_t *st, calstore_id_t id,
                               const char *ns, const char *name,
                               const char **value, apr_size_t *len,
                               apr_pool_t *pool);

/* All properties of node 'id' (an array of calstore_prop_t), in key order. */
apr_status_t calstore_prop_list(calstore_t *st, calstore_id_t id,
                                apr_array_header_t **props, apr_pool_t *pool);

/* Apply a batch of sets and removes (an array of calstore_prop_t; value NULL
 * removes) to node 'id' in one transaction.  Removing a property that is
 * not set is not an error.  CALSTORE_ENOENT if the node no longer exists;
 * CALSTORE_EINVAL for a NULL namespace or an empty name.  Properties do
 * not change the node's own revision (nor its entity tag), but a non-empty
 * patch is a change of the member for its parent collection (RFC 6578):
 * the parent logs it and its revision (ctag) goes up by one.  An empty
 * patch writes nothing. */
apr_status_t calstore_prop_patch(calstore_t *st, calstore_id_t id,
                                 const apr_array_header_t *patch,
                                 apr_pool_t *pool);


/* ---- calendar collections and calendar object resources ------------- */

/* node->flags of a collection: a calendar collection (RFC 4791 4.2).  No
 * collection may be created, copied or moved anywhere below a calendar
 * collection (CALSTORE_ENESTED). */
#define CALSTORE_COLL_CALENDAR   0x0001u

/* The bits of a collection's node->flags that belong to the caller: stored
 * as given to calstore_mkcol_ex(), returned by every lookup, kept by COPY
 * and MOVE, never interpreted by the store (mod_caldav keeps a calendar's
 * supported-calendar-component-set there).  The low byte is the store's. */
#define CALSTORE_COLL_CALLER_MASK 0xffffff00u

/* node->flags of a resource inside a calendar collection: its component
 * kind (calcore_comp_e bits) in the low byte.  0 for other resources. */
#define CALSTORE_RES_COMP_MASK   0x00ffu

#define CALSTORE_ENESTED      (CALSTORE_START + 13) /* a collection inside a
                                                       calendar collection   */
#define CALSTORE_EUIDCONFLICT (CALSTORE_START + 14) /* another resource of
                                                       the calendar has this
                                                       UID (*conflict names
                                                       it)                   */
#define CALSTORE_ENOTCALOBJ   (CALSTORE_START + 15) /* a resource without
                                                       calendar data would
                                                       land in a calendar    */

/* Create collection 'path' with node flags 'flags' (CALSTORE_COLL_CALENDAR
 * or not, plus any CALSTORE_COLL_CALLER_MASK bits) and the dead properties
 * 'props' (calstore_prop_t, values not NULL; 'props' may be NULL) in ONE
 * transaction: either the collection exists with all of them, or nothing
 * was written (MKCALENDAR, extended MKCOL).  Errors as calstore_mkcol()
 * (which is this call with flags 0 and no properties), plus
 * CALSTORE_ENESTED when the parent is a calendar (after CALSTORE_EEXIST:
 * an existing node wins), and CALSTORE_EINVAL for unknown flags or a
 * property with a NULL namespace, an empty name or a NULL value. */
apr_status_t calstore_mkcol_ex(calstore_t *st, const char *path,
                               apr_uint32_t flags,
                               const apr_array_header_t *props,
                               calstore_node_t **result, apr_pool_t *pool);

/* One instance of a calendar object, in UTC seconds (calcore_time_t). */
typedef struct calstore_span_t {
    apr_int64_t start;
    apr_int64_t end;          /* >= start                                   */
} calstore_span_t;

/* What the store indexes for a calendar object resource (the attribute
 * mapping is computed by core/, the store only keeps and searches it).
 *
 * 'instances' lists every instance that overlaps the window [win_from,
 * win_until) by its own RFC 4791 9.9 rule: exactly what calcore_expand()
 * reports for that window (so an instance that starts before win_from and
 * reaches into the window is listed).  The instances it does not list are
 * summed up by two flags: 'before' when some of them end at or before
 * win_from, 'after' when some start at or after win_until (a rule that runs
 * past the horizon, or a truncated expansion: then win_until is the
 * complete_until of the expansion).  An object with no instance listed and
 * neither flag set is never found by calstore_query_range().
 *
 * Every time must lie within +-2^62 (CALCORE_TIME_MIN/MAX do), with
 * end >= start and win_from <= win_until; the UID must be 1 to 4096 bytes;
 * 'instances' may be NULL (none) and need not be sorted (the store sorts,
 * and merges instances with the same start into one with the latest end);
 * anything else is CALSTORE_EINVAL. */
typedef struct calstore_calinfo_t {
    const char *uid;          /* unique within the calendar collection      */
    apr_uint32_t comp;        /* calcore_comp_e of the object; its low byte
                                 becomes the node's flags                   */
    const void *record;       /* serialised calcore index record: opaque to
                                 the store, handed back by the queries      */
    apr_size_t record_len;
    apr_int64_t win_from;     /* 'instances' lists every instance that      */
    apr_int64_t win_until;    /* overlaps [win_from, win_until)             */
    int before;               /* unlisted instances may end at or before
                                 win_from                                   */
    int after;                /* unlisted instances may start at or after
                                 win_until                                  */
    apr_int64_t first;        /* start of the earliest and end of the       */
    apr_int64_t last;         /* latest instance of the whole set (any
                                 int64; both 0 = unknown, taken as the
                                 widest range); they let a query skip the
                                 window edges of objects that cannot reach
                                 its range                                  */
    const apr_array_header_t *instances; /* calstore_span_t, by start       */
    int exact;                /* for a VEVENT: every instance is [start,
                                 end] exactly (no floating or DATE times
                                 widened), so its RFC 4791 9.9 test is
                                 start < qe && end > qs, or qs <= start < qe
                                 when end == start; lets queries prove
                                 matches from the index alone
                                 (calstore_query_range_proven); ignored
                                 for other kinds                            */
} calstore_calinfo_t;

/* calstore_put() for a resource whose parent may be a calendar collection.
 * When the parent is a calendar, 'cal' must describe the object (else
 * CALSTORE_ENOTCALOBJ) and, in the same transaction as the body: the UID
 * is checked (another member with the same UID: CALSTORE_EUIDCONFLICT,
 * *conflict = that member's name from 'pool', nothing written; the
 * resource being replaced keeping or changing its UID is no conflict),
 * the UID index, the time-range index and the record are replaced, the
 * node's flags get cal->comp.  When the parent is not a calendar, 'cal' is
 * ignored.  A malformed 'cal' (see calstore_calinfo_t) is CALSTORE_EINVAL,
 * checked before the parent is known.  'conflict' may be NULL.  Everything
 * else as calstore_put(), which is this call with cal = NULL. */
apr_status_t calstore_put_ex(calstore_t *st, const char *path,
                             const char *content_type,
                             const char *data, apr_size_t len,
                             const calstore_cond_t *cond,
                             const calstore_calinfo_t *cal,
                             const char **conflict,
                             calstore_node_t **result, int *created,
                             apr_pool_t *pool);

/* calstore_put_ex() with the parent collection the caller has just looked
 * up ('parent', from calstore_lookup_ex() of 'path' in this request): the
 * transaction reads the parent by its key instead of resolving every
 * collection of the path again (and write-locks and re-reads it before the
 * commit, as every put does); if the parent is gone or was replaced
 * meanwhile, the put is run once more resolving 'path' from the root.
 * 'parent' NULL, or not the collection the path names as parent, is
 * calstore_put_ex(). */
apr_status_t calstore_put_in(calstore_t *st, const calstore_node_t *parent,
                             const char *path, const char *content_type,
                             const char *data, apr_size_t len,
                             const calstore_cond_t *cond,
                             const calstore_calinfo_t *cal,
                             const char **conflict,
                             calstore_node_t **result, int *created,
                             apr_pool_t *pool);

/* calstore_copy() / calstore_move() that respect calendar collections:
 * a collection (even an empty one, even a calendar) may not land in a
 * calendar (CALSTORE_ENESTED); a resource landing in a calendar takes
 * 'dst_cal' when it is not NULL (whatever the source: e.g. re-indexed with
 * the destination's calendar-timezone), else keeps its calendar data
 * (source in a calendar; a source elsewhere gives CALSTORE_ENOTCALOBJ);
 * its UID is checked against the destination calendar
 * (CALSTORE_EUIDCONFLICT, *conflict = the other member's name from 'pool';
 * a MOVE within one calendar, or a replaced destination with the same UID,
 * is no conflict; a COPY within one calendar always conflicts with its
 * source); leaving a calendar drops the calendar data.  Copying a calendar
 * collection copies its members' calendar data and indexes under the new
 * ids; moving one is as cheap as moving any collection (its indexes are
 * keyed by its id).  'dst_cal' is ignored when the destination is not in a
 * calendar; EINVAL if it is malformed and used.  calstore_copy() and
 * calstore_move() are these calls with dst_cal = conflict = NULL.  All in
 * one transaction. */
apr_status_t calstore_copy_ex(calstore_t *st, const char *src,
                              const char *dst, int depth, int overwrite,
                              const calstore_calinfo_t *dst_cal,
                              const char **conflict,
                              calstore_node_t **result, apr_pool_t *pool);
apr_status_t calstore_move_ex(calstore_t *st, const char *src,
                              const char *dst, int overwrite,
                              const calstore_calinfo_t *dst_cal,
                              const char **conflict,
                              calstore_node_t **result, apr_pool_t *pool);

/* Called for each calendar object found by a query: the node (its name is
 * the member name) and the record given at PUT time.  Everything is valid
 * only during the call ('scratch' is cleared between objects); no lock or
 * cursor is held, so the callback may call the store.  A non-APR_SUCCESS
 * return stops the query and is returned. */
typedef apr_status_t calstore_obj_cb(void *baton, const calstore_node_t *node,
                                     const void *record, apr_size_t len,
                                     apr_pool_t *scratch);

/* The calendar objects of calendar collection 'coll' that may have an
 * instance overlapping [start, end) (UTC seconds; CALCORE_TIME_MIN/MAX for
 * open ends) and whose component kind is in 'comp_mask' (0 = any).  A
 * superset: the caller applies the exact RFC 4791 9.9 test.  Precisely, an
 * object is reported iff a listed instance [s, e] has s <= end && e >= start
 * (closed at both ends, which every 9.9 rule implies), or it has 'before'
 * and win_from >= start, or 'after' and win_until <= end.  (Floating times
 * were indexed in the zone the caller chose at PUT: the store cannot tell
 * them apart, so a query in another zone must widen the range itself, by
 * 14 h each way.)  Each object is reported once, in an order that depends
 * only on the store's contents (memory: a set of the ids seen, 16 to 32
 * bytes per candidate).  The cost grows with the
 * number of candidates, not with the size of the collection: instances are
 * found through the time-range index; objects whose instance list does not
 * cover the range (before / after flags) and instances longer than a week
 * are found through a small index of window edges.  Objects are read in
 * batches and called back with no lock held, as calstore_list() does;
 * objects changed concurrently may or may not be seen.  CALSTORE_ENOENT if
 * no node has id 'coll', CALSTORE_ENOTCOLL if it is a resource,
 * CALSTORE_EINVAL if start > end; a collection that is not a calendar has
 * no calendar objects (APR_SUCCESS, no callback). */
apr_status_t calstore_query_range(calstore_t *st, calstore_id_t coll,
                                  apr_int64_t start, apr_int64_t end,
                                  apr_uint32_t comp_mask,
                                  calstore_obj_cb *cb, void *baton,
                                  apr_pool_t *pool);

/* calstore_query_range() that also proves matches: an object one of whose
 * listed instances is an exact VEVENT instance (calinfo 'exact') that
 * overlaps [start, end) by the RFC 4791 9.9 rule is reported to 'proven'
 * instead of 'cb', with record NULL and len 0 (its record is not read);
 * every other candidate goes to 'cb' as in calstore_query_range().  Each
 * object is reported once, to one of them.  'proven' NULL is
 * calstore_query_range(). */
apr_status_t calstore_query_range_proven(calstore_t *st, calstore_id_t coll,
                                         apr_int64_t start, apr_int64_t end,
                                         apr_uint32_t comp_mask,
                                         calstore_obj_cb *cb,
                                         calstore_obj_cb *proven,
                                         void *baton, apr_pool_t *pool);

/* Every calendar object of 'coll' whose kind is in 'comp_mask' (0 = any),
 * in name order, with its record.  Batches, errors and concurrency as
 * calstore_query_range(). */
apr_status_t calstore_query_all(calstore_t *st, calstore_id_t coll,
                                apr_uint32_t comp_mask,
                                calstore_obj_cb *cb, void *baton,
                                apr_pool_t *pool);

/* The member of calendar 'coll' with this UID: *name from 'pool', or
 * CALSTORE_ENOENT (also when 'coll' is no calendar or does not exist). */
apr_status_t calstore_uid_lookup(calstore_t *st, calstore_id_t coll,
                                 const char *uid, const char **name,
                                 apr_pool_t *pool);

/* The record stored with calendar object 'id' (CALSTORE_ENOENT if it has
 * none), copied into 'pool'. */
apr_status_t calstore_get_record(calstore_t *st, calstore_id_t id,
                                 const void **record, apr_size_t *len,
                                 apr_pool_t *pool);

/* ---- change log and sync tokens (RFC 6578) --------------------------- */

/* Every write that changes the membership or a member of a collection logs,
 * in the same transaction, one change per member changed in that
 * collection's log, under a new revision of the collection: a PUT (new or
 * replacing), MKCOL, DELETE (of a resource or of a whole subtree: one
 * removal in the parent), COPY (an addition at the destination; a
 * collection copied with its members logs each of them as an addition in
 * the copy), MOVE (a removal at the source, an addition at the
 * destination), a non-empty property patch (a change of the member).
 * Changes below a member collection are in that collection's log, not in
 * its parent's (sync-level 1).  The log is compacted: it keeps only the
 * last change of each member name, so it holds one addition per member
 * plus the removals ("tombstones") that calstore_changes_prune() has not
 * dropped yet.  A collection's log is keyed by its id: MOVE keeps it,
 * DELETE drops it.
 *
 * A sync token of a collection is (collection id, seq): seq is a revision
 * of the collection, and every seq the log holds is the revision right
 * after that change, so tokens of one collection compare as numbers.
 * Tokens are opaque to clients: the adapter formats them as a URI, and
 * must itself refuse a token of another collection. */

#define CALSTORE_ETOKEN       (CALSTORE_START + 16) /* a sync token older
                                                       than the collection's
                                                       watermark (removals
                                                       after it were pruned)
                                                       or newer than its
                                                       revision: sync again
                                                       from scratch (RFC 6578
                                                       DAV:valid-sync-token) */
#define CALSTORE_ELIMIT       (CALSTORE_START + 17) /* the result cannot be
                                                       cut at or below the
                                                       requested limit (RFC
                                                       6578 3.7 DAV:number-
                                                       of-matches-within-
                                                       limits)               */

/* One change reported by calstore_changes(). */
typedef struct calstore_change_t {
    const char *name;               /* member name                          */
    int removed;                    /* 1: the member was removed (it does
                                       not exist now); 0: added or changed */
    apr_uint64_t seq;               /* the change's place in the log (for a
                                       full listing: the member's last
                                       change; 0 if the log has none)       */
    const calstore_node_t *node;    /* the member as it is now, for
                                       additions; NULL for removals        */
} calstore_change_t;

/* Called once per change; 'ch' and everything it points to, and what the
 * callback allocates from 'scratch', are valid only during the call
 * ('scratch' is cleared between changes).  No lock or cursor is held, so
 * the callback may call the store.  A non-APR_SUCCESS return stops the
 * report and is returned. */
typedef apr_status_t calstore_change_cb(void *baton,
                                        const calstore_change_t *ch,
                                        apr_pool_t *scratch);

/* The changes of the members of collection 'coll' after sync token 'since',
 * compacted to the last change per member name, in seq order, at most
 * 'limit' of them (0 = no limit).
 *
 * since = 0 (the empty token) is a full listing: every current member as
 * an addition, no removals.  Without a limit it is read from the nodes
 * table, in name order; with a limit, from the members' last changes (one
 * addition per member in the log), in seq order.
 *
 * *now is the token to hand back: the collection's revision when the call
 * began, or, when the report was cut by 'limit' (*truncated set: more
 * changes exist), the seq of the last change reported (for a full listing:
 * at least the collection's watermark), from which the client continues.
 * A member changed again while the report is being read may be reported
 * with its newer state, or not at all: its newer change has a seq above
 * *now and is reported by the next call, so applying every report in turn
 * never loses a change.  An addition whose member vanished meanwhile is
 * skipped for the same reason.
 *
 * Read in batches like calstore_list (no lock held during the callback).
 * Errors: CALSTORE_ENOENT if no node has id 'coll', CALSTORE_ENOTCOLL if it
 * is a resource, CALSTORE_EINVAL for coll 0 or a NULL 'cb',
 * CALSTORE_ETOKEN if 'since' is newer than the collection's revision, or
 * older than its watermark (also when a concurrent prune moves the
 * watermark past the report's position: the callbacks already made must
 * then be discarded), CALSTORE_ELIMIT for a full listing with a limit
 * when more than 'limit' members have their last change at or below the
 * watermark (no token could continue it; nothing was called back).  On any
 * error *now and *truncated are 0.  'now' and 'truncated' may be NULL. */
apr_status_t calstore_changes(calstore_t *st, calstore_id_t coll,
                              apr_uint64_t since, unsigned limit,
                              calstore_change_cb *cb, void *baton,
                              apr_uint64_t *now, int *truncated,
                              apr_pool_t *pool);

/* Drop old removals from the log of collection 'coll' (0 = of every
 * collection): those logged longer than 'max_age' ago (0 = no age limit)
 * and all but the newest 'max_entries' of each collection (0 = no count
 * limit); then also every older removal, so that the removals kept are
 * exactly those above the collection's new watermark: the seq of the
 * newest removal dropped.  Tokens below the watermark are refused from
 * then on (CALSTORE_ETOKEN); additions are never dropped (there is one per
 * member).  Runs in batches of small transactions, each moving the
 * watermark together with the removals it drops.  CALSTORE_ENOENT /
 * CALSTORE_ENOTCOLL for a 'coll' that is no collection, CALSTORE_EINVAL for
 * a negative 'max_age'. */
apr_status_t calstore_changes_prune(calstore_t *st, calstore_id_t coll,
                                    apr_interval_time_t max_age,
                                    unsigned max_entries, apr_pool_t *pool);

/* ---- calendar objects: limits, calendar-timezone, index data ---------- */

/* What the web server and caldavctl share about storing a calendar object
 * resource (repos/calstore_calinfo.c): the default limits, a calendar's
 * supported components and calendar-timezone, and the index data
 * (calstore_calinfo_t) of an object core/ validated.  Both writers use
 * exactly these, so an object stored by either is validated against the
 * same rules and indexed identically. */

#include "calcore_object.h"

/* The server defaults of the CalDAV limits (RFC 4791 5.2.5 - 5.2.9);
 * httpd's CalDAVMaxResourceSize, CalDAVMinDateTime, CalDAVMaxDateTime,
 * CalDAVMaxInstances and CalDAVMaxAttendeesPerInstance override them. */
#define CALSTORE_DEFAULT_MAX_RESOURCE_SIZE ((apr_off_t)10 * 1024 * 1024)
#define CALSTORE_DEFAULT_MIN_DATE      ((apr_int64_t)-2208988800LL) /* 1900 */
#define CALSTORE_DEFAULT_MAX_DATE      ((apr_int64_t)4133980799LL)  /* 2100 */
#define CALSTORE_DEFAULT_MAX_INSTANCES 10000u
#define CALSTORE_DEFAULT_MAX_ATTENDEES 500u

/* A calendar collection's node flags: CALSTORE_COLL_CALENDAR plus its
 * supported-calendar-component-set (calcore_comp_e bits) shifted by this,
 * in the caller's bits (CALSTORE_COLL_CALLER_MASK). */
#define CALSTORE_CAL_COMP_SHIFT 8

/* The namespace of the CALDAV:calendar-timezone dead property, whose value
 * (a self-contained XML element, as the adapter stores it) holds the
 * calendar's time zone for floating times and DATEs. */
#define CALSTORE_CALDAV_NS "urn:ietf:params:xml:ns:caldav"

/* The namespace of the dead properties the server keeps for itself (a
 * calendar's grants, its public feed secret, the URL it is subscribed
 * to): the adapter hides them from PROPFIND and refuses them in
 * PROPPATCH. */
#define CALSTORE_INTERNAL_NS "urn:x-mod-caldav:internal"

/* Floating times and DATEs are indexed widened by this on both sides (the
 * largest UTC offsets: -12:00 .. +14:00), so that the index stays a
 * superset when calendar-timezone changes or a query brings its own. */
#define CALSTORE_FLOATING_SLACK ((apr_int64_t)14 * 3600)

/* Fill 'limits' with the server defaults above: no component restriction,
 * no floating zone, now and horizon 0 (the current time, the default
 * horizon).  Cannot fail. */
void calstore_limits_default(calcore_limits_t *limits);

/* The supported-calendar-component-set (calcore_comp_e bits) of calendar
 * collection 'coll', from its node flags; CALCORE_COMP_DEFAULT when none
 * was stored.  Cannot fail. */
unsigned calstore_calendar_comps(const calstore_node_t *coll);

/* The character data of dead property ns:name of node 'id' (its stored
 * XML element parsed), from 'pool'; NULL when it is not set, cannot be
 * read or does not parse. */
const char *calstore_prop_text(calstore_t *st, calstore_id_t id,
                               const char *ns, const char *name,
                               apr_pool_t *pool);

/* The zone in which floating times and DATEs of calendar 'coll' are read:
 * its CALDAV:calendar-timezone property parsed (calcore_init() must have
 * run).  *zone is NULL (= UTC) when the property is not set or its value
 * is not readable XML; when it is set but unusable (validated when it was
 * set, but tzdata may have changed since) *zone is NULL and *problem (from
 * 'pool'; else NULL) says why, for the caller to log.  The zone and its
 * tree are freed when 'pool' is cleared.  Returns APR_SUCCESS, or the
 * store's error reading the property. */
apr_status_t calstore_calendar_floating(calstore_t *st,
                                        const calstore_node_t *coll,
                                        icaltimezone **zone,
                                        const char **problem,
                                        apr_pool_t *pool);

/* Fill 'info' with what the store indexes for 'obj', a calendar object
 * that calcore_object_parse() accepted, read with 'floating' (the
 * calendar's zone from calstore_calendar_floating(), NULL = UTC): the UID,
 * the component kind, core's serialised index record
 * (calcore_index_build(): a non-recurring object indexed wherever it lies
 * in time, a recurring one over core's default window with both ends
 * rounded down to a whole UTC day, so that the objects written on one day
 * share their window edges) and the instance
 * spans, window and reach, floating ones widened by
 * CALSTORE_FLOATING_SLACK.  Everything 'info' points to is allocated from
 * 'pool' or belongs to 'obj'.  Returns APR_SUCCESS (or what
 * calcore_index_build() returns, which cannot fail today). */
apr_status_t calstore_calinfo_build(calstore_calinfo_t *info,
                                    const calcore_object_t *obj,
                                    const icaltimezone *floating,
                                    apr_pool_t *pool);

/* ---- several writes in one transaction ---------------------------------- */

/* A write transaction that a caller fills with several writes (caldavctl
 * import: a whole file in one commit).  Only valid inside the callback of
 * calstore_batch(). */
typedef struct calstore_batch_t calstore_batch_t;

/* The body of a batch: the writes it makes through 'batch' are committed
 * together when it returns APR_SUCCESS, and all rolled back when it
 * returns anything else.  It may be called more than once: when the
 * transaction hit a deadlock or a lock timeout, everything it did is
 * rolled back and it is called again from the start (up to the store's
 * max_retries), so it must restart cleanly (reset its counters) and must
 * not act outside the store before calstore_batch() returns.  It must not
 * call the other calstore functions on the same store: they run in
 * transactions of their own and would wait for the batch's locks.
 * 'scratch' is cleared between attempts. */
typedef apr_status_t calstore_batch_fn(calstore_batch_t *batch, void *baton,
                                       apr_pool_t *scratch);

/* Run 'fn' in one write transaction and commit what it wrote (durably, as
 * every write).  Returns APR_SUCCESS when committed, else what 'fn'
 * returned or the first failure of the transaction itself
 * (CALSTORE_EBUSY after too many deadlocks, CALSTORE_EPANIC, ENOMEM when
 * Berkeley DB's lock table is exhausted by a very large batch, ...), and
 * then nothing was written.  While the batch runs it holds the write locks
 * of everything it wrote: other writers (and readers) of those pages wait,
 * at most their lock timeout, so keep batches small on a busy store. */
apr_status_t calstore_batch(calstore_t *st, calstore_batch_fn *fn,
                            void *baton, apr_pool_t *pool);

/* calstore_put_ex() inside a batch: same arguments, checks and results,
 * allocations from 'pool' (which may be cleared after the call).  A
 * refusal that writes nothing (CALSTORE_EINVAL, CALSTORE_ENOPARENT,
 * CALSTORE_EISCOLL, CALSTORE_ECHANGED, CALSTORE_ENOTCALOBJ,
 * CALSTORE_EUIDCONFLICT) leaves the batch usable: the caller may go on
 * with other writes.  Any other failure (a deadlock, a Berkeley DB error)
 * spoils the batch: this and every later call return it, and the batch is
 * rolled back whatever 'fn' returns (and retried, for a deadlock). */
apr_status_t calstore_batch_put(calstore_batch_t *batch, const char *path,
                                const char *content_type,
                                const char *data, apr_size_t len,
                                const calstore_cond_t *cond,
                                const calstore_calinfo_t *cal,
                                const char **conflict,
                                calstore_node_t **result, int *created,
                                apr_pool_t *pool);

/* calstore_uid_lookup() inside a batch: sees the batch's own writes, and
 * keeps the entry read-locked until the batch ends (so nobody else can
 * add the UID meanwhile).  CALSTORE_ENOENT (no such UID) leaves the batch
 * usable; other failures spoil it, as for calstore_batch_put(). */
apr_status_t calstore_batch_uid_lookup(calstore_batch_t *batch,
                                       calstore_id_t coll, const char *uid,
                                       const char **name, apr_pool_t *pool);

/* ---- administration (caldavctl) ----------------------------------------- */

/* Check the consistency of the whole store: every cross-database invariant
 * of docs/storage-format.md ("Consistency check"): the tree, bodies,
 * properties, the calendar indexes against the objects' records, the
 * change log against the members.  Each problem found is logged
 * (calcore_log, CALCORE_LOG_ERR) and the result is CALSTORE_ECORRUPT.  The
 * check reads each database in turn in one DB_READ_COMMITTED transaction,
 * holding no lock for long: on a store that others write meanwhile, a
 * change committed between two databases' scans can look like a problem,
 * so a caller that finds problems on a live store should check again
 * before it believes them.  Other failures as any read. */
apr_status_t calstore_check(calstore_t *st, apr_pool_t *pool);

/* Does another process have the store in 'dir' open (a live slot in its
 * DB_REGISTER registry: a process holding an fcntl lock on it, as
 * /proc/locks lists them)?  This process's own handle does not count and
 * is not disturbed.  Returns 0 when the directory holds no registry.
 * Cannot fail (a registry that cannot be examined counts as in use;
 * without /proc the registry is probed with F_GETLK, which must not be
 * done while this process has the store open: closing the probe's
 * descriptor would drop this process's registration). */
int calstore_in_use(const char *dir);

/* Run Berkeley DB's structural verification (DB->verify, what db_verify
 * does) on each database file of the store in 'dir'.  Only for a store
 * nobody has open (it reads the files directly, not through the cache):
 * CALSTORE_EBUSY when calstore_in_use(); close this process's own handle
 * first.  Each file that fails is logged (CALCORE_LOG_ERR, with Berkeley
 * DB's messages) and the result is then CALSTORE_ECORRUPT; a missing file
 * is ENOENT. */
apr_status_t calstore_verify_files(const char *dir, apr_pool_t *pool);

/* Hot backup of the open store into directory 'target' while other
 * processes keep using it (Berkeley DB's DB_ENV->backup: a checkpoint,
 * then every database file copied page by page through the cache, then
 * every log file, with log removal held off meanwhile); the copies are
 * flushed to disk.  'target' is created (mode 0700) if missing; it must
 * hold no file of a store (CALSTORE_EEXIST) unless 'replace' is set, which
 * removes the database, log and region files there first (other files are
 * left alone).  The copy is not usable as it is: calstore_restore() it. */
apr_status_t calstore_backup(calstore_t *st, const char *target,
                             int replace, apr_pool_t *pool);

/* Make the store in 'dir' from the backup in 'backup': copy its database
 * and log files (flushed to disk), then run catastrophic recovery
 * (DB_RECOVER_FATAL) on them, which replays the logs over the copied
 * databases, so the store opens cleanly.  'dir' is created (mode 0700) if
 * missing.  CALSTORE_EEXIST when 'dir' holds any file and 'replace' is not
 * set; with 'replace' the database, log and region files already there are
 * removed first (other files are left alone); CALSTORE_EBUSY when another
 * process has the store in 'dir' open (calstore_in_use(), checked also
 * with 'replace'; this process must not have it open either),
 * CALSTORE_EINVAL when 'backup' holds no store (no meta.db) or is 'dir'
 * itself.  On failure 'dir' may hold a partial copy. */
apr_status_t calstore_restore(const char *backup, const char *dir,
                              int replace, apr_pool_t *pool);

#endif /* CALSTORE_H */

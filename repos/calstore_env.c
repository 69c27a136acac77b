/*
 * calstore_env.c - the Berkeley DB environment behind a calstore_t: options,
 * open/close/prepare, the transaction runner with deadlock retry, error
 * mapping, and the maintenance call (failchk, checkpoint, panic -> reopen).
 *
 * Recovery model (see docs/storage-format.md): every process opens the
 * environment with identical flags including DB_REGISTER|DB_RECOVER, so an
 * open after a registered process died runs normal recovery, which panics
 * the old environment under every survivor.  A survivor notices
 * DB_RUNRECOVERY, refuses new calls with CALSTORE_EPANIC and reopens from
 * calstore_maintain() once no thread is inside the store any more.  While
 * every process lives, calstore_maintain() runs failchk, which cleans up
 * after a process that died outside the library without any recovery.
 *
 * DB_FAILCHK is deliberately NOT an open flag: with it, an open that finds a
 * dead process first attaches to the old regions to try failchk, under the
 * registry's exclusive lock, and blocks for ever when the dead process held
 * a region mutex (seen under kill -9 load: every later open then waits on
 * the registry lock and the server never serves again).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "calcore_log.h"
#include "calstore_private.h"

#define CALSTORE_DEFAULT_CACHE     ((apr_size_t)64 * 1024 * 1024)
#define CALSTORE_DEFAULT_TIMEOUT   apr_time_from_sec(2)
#define CALSTORE_DEFAULT_RETRIES   8

#define CALSTORE_THREAD_COUNT      4096
#define CALSTORE_TX_MAX            4096
#define CALSTORE_LK_MAX_LOCKERS    10000
#define CALSTORE_LK_MAX_LOCKS      100000
#define CALSTORE_LK_MAX_OBJECTS    100000
#define CALSTORE_LOG_BSIZE         (1024 * 1024)
#define CALSTORE_LOG_MAX           (16 * 1024 * 1024)
#define CALSTORE_CHECKPOINT_KB     8192
/* Berkeley DB's default transaction priority (DB_TXN->set_priority). */
#define CALSTORE_TXN_PRIORITY      100u

/* DB_CREATE is always given for the environment itself: Berkeley DB refuses
 * DB_RECOVER without it.  opts->create only decides whether the directory
 * and the databases may be created. */
#define CALSTORE_ENV_FLAGS (DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK          \
                            | DB_INIT_LOG | DB_INIT_MPOOL | DB_THREAD       \
                            | DB_REGISTER | DB_RECOVER)

/* Berkeley DB's DB_REGISTER file and the length of one of its slots. */
#define CALSTORE_REGISTER_FILE  "__db.register"
#define CALSTORE_REGISTER_SLOT  25

/* ---- one handle per store per process ------------------------------------
 *
 * DB_REGISTER allows a single DB_ENV per environment per process, and it
 * tracks processes with fcntl() locks, which POSIX drops for the whole
 * process as soon as *any* descriptor of the file is closed: a second open
 * of the same store in one process (even a failing one) would silently
 * unregister the first.  So opens are refused before they reach BDB. */

typedef struct open_store_t {
    struct open_store_t *next;
    dev_t dev;
    ino_t ino;
    pid_t pid;
} open_store_t;

static pthread_mutex_t open_stores_lock = PTHREAD_MUTEX_INITIALIZER;
static open_store_t *open_stores;

static apr_status_t claim_store(const char *dir, dev_t *dev, ino_t *ino)
{
    struct stat sb;
    open_store_t **pp, *os;
    pid_t pid = getpid();
    apr_status_t rv = APR_SUCCESS;

    if (stat(dir, &sb) != 0) {
        rv = errno;
        calcore_log(CALCORE_LOG_ERR, rv, "calstore: cannot stat %s", dir);
        return rv;
    }
    pthread_mutex_lock(&open_stores_lock);
    for (pp = &open_stores; *pp; ) {
        os = *pp;
        if (os->pid != pid) {           /* inherited across fork(): stale */
            *pp = os->next;
            free(os);
            continue;
        }
        if (os->dev == sb.st_dev && os->ino == sb.st_ino) {
            rv = CALSTORE_EINVAL;
            break;
        }
        pp = &os->next;
    }
    if (rv == APR_SUCCESS) {
        os = malloc(sizeof(*os));
        if (os == NULL) {
            rv = APR_ENOMEM;
        }
        else {
            os->dev = sb.st_dev;
            os->ino = sb.st_ino;
            os->pid = pid;
            os->next = open_stores;
            open_stores = os;
        }
    }
    pthread_mutex_unlock(&open_stores_lock);
    if (rv == CALSTORE_EINVAL) {
        calcore_log(CALCORE_LOG_ERR, rv,
                    "calstore: %s is already open in this process", dir);
    }
    *dev = sb.st_dev;
    *ino = sb.st_ino;
    return rv;
}

static void release_store(dev_t dev, ino_t ino)
{
    open_store_t **pp, *os;
    pid_t pid = getpid();

    pthread_mutex_lock(&open_stores_lock);
    for (pp = &open_stores; *pp; pp = &(*pp)->next) {
        os = *pp;
        if (os->pid == pid && os->dev == dev && os->ino == ino) {
            *pp = os->next;
            free(os);
            break;
        }
    }
    pthread_mutex_unlock(&open_stores_lock);
}

/* ---- handles abandoned after a panic ---------------------------------------
 *
 * Once the environment has panicked, DB->close, DB_SEQUENCE->close and
 * DB_ENV->close return DB_RUNRECOVERY at once without freeing the handle
 * (freeing would touch the broken region; DB_ENV->close does still close
 * the file descriptors).  That memory is lost on purpose, once per panic;
 * it is kept reachable here so that leak checkers do not report it. */

typedef struct abandoned_t {
    struct abandoned_t *next;
    void *handle;
} abandoned_t;

static abandoned_t *abandoned;

static void abandon(void *handle)
{
    abandoned_t *a = malloc(sizeof(*a));

    if (a != NULL) {
        pthread_mutex_lock(&open_stores_lock);
        a->handle = handle;
        a->next = abandoned;
        abandoned = a;
        pthread_mutex_unlock(&open_stores_lock);
    }
}

/* ---- status texts ------------------------------------------------------- */

const char *calstore_strerror(apr_status_t rv, char *buf, apr_size_t bufsize)
{
    switch (rv) {
    case CALSTORE_ENOENT:
        return "no such node in the store";
    case CALSTORE_EEXIST:
        return "node already exists in the store";
    case CALSTORE_ENOPARENT:
        return "parent is missing or not a collection";
    case CALSTORE_EISCOLL:
        return "node is a collection";
    case CALSTORE_ENOTCOLL:
        return "node is not a collection";
    case CALSTORE_ECHANGED:
        return "node changed: condition does not hold";
    case CALSTORE_EBUSY:
        return "store busy: lock conflicts persisted through every retry";
    case CALSTORE_EPANIC:
        return "store environment needs recovery; retry later";
    case CALSTORE_EFORMAT:
        return "store was written in an unknown format version";
    case CALSTORE_EDB:
        return "Berkeley DB error";
    case CALSTORE_EINVAL:
        return "invalid argument to the store";
    case CALSTORE_ECORRUPT:
        return "store record failed to decode";
    case CALSTORE_ENESTED:
        return "a collection cannot be created below a calendar collection";
    case CALSTORE_EUIDCONFLICT:
        return "another resource of the calendar collection has this UID";
    case CALSTORE_ENOTCALOBJ:
        return "only calendar object resources can be stored in a calendar "
               "collection";
    case CALSTORE_ETOKEN:
        return "sync token is no longer (or not yet) valid for this "
               "collection";
    case CALSTORE_ELIMIT:
        return "the result cannot be cut at or below the requested limit";
    case CALSTORE__RETRY:
    case CALSTORE__RETRY_TIMEOUT:
        return "store transaction must be retried (internal)";
    default:
        return apr_strerror(rv, buf, bufsize);
    }
}

void calstore_options_default(calstore_options_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->durability = CALSTORE_DURABILITY_SYNC;
    opts->cache_bytes = CALSTORE_DEFAULT_CACHE;
    opts->lock_timeout = CALSTORE_DEFAULT_TIMEOUT;
    opts->max_retries = CALSTORE_DEFAULT_RETRIES;
    opts->create = 1;
}

const char *calstore_dir(const calstore_t *st)
{
    return st->dir;
}

/* ---- Berkeley DB callbacks ---------------------------------------------- */

static void bdb_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
    calcore_log(CALCORE_LOG_ERR, APR_SUCCESS, "calstore: Berkeley DB: %s",
                msg);
}

/* Informational output (failchk lists every lock and mutex it frees: dozens
 * of lines per dead process), so debug level. */
static void bdb_msgcall(const DB_ENV *env, const char *msg)
{
    calcore_log(CALCORE_LOG_DEBUG, APR_SUCCESS, "calstore: Berkeley DB: %s",
                msg);
}

/* A process counts as alive as a whole: an httpd thread never dies alone,
 * and a zombie (not yet reaped) still counts as alive. */
static int bdb_isalive(DB_ENV *env, pid_t pid, db_threadid_t tid,
                       u_int32_t flags)
{
    if (pid == getpid()) {
        return 1;
    }
    return kill(pid, 0) == 0 || errno == EPERM;
}

static void mark_panic(calstore_t *st, const char *why)
{
    int first = 0;

    apr_thread_mutex_lock(st->mutex);
    if (!st->panicked) {
        st->panicked = 1;
        st->panic_since = apr_time_now();
        first = 1;
    }
    apr_thread_mutex_unlock(st->mutex);
    if (first) {
        calcore_log(CALCORE_LOG_ERR, CALSTORE_EPANIC,
                    "calstore: %s: environment %s needs recovery; refusing "
                    "calls until it is reopened", why, st->dir);
    }
}

static void bdb_event(DB_ENV *env, u_int32_t event, void *info)
{
    calstore_t *st = env->app_private;

    if (st != NULL && (event == DB_EVENT_PANIC
                       || event == DB_EVENT_REG_PANIC)) {
        mark_panic(st, "panic event");
    }
}

/* ---- status mapping ----------------------------------------------------- */

/* Status for a failure outside any store transaction (open/close). */
static apr_status_t open_status(int ret, const char *dir, const char *what)
{
    apr_status_t rv;

    if (ret == DB_RUNRECOVERY) {
        rv = CALSTORE_EPANIC;
    }
    else if (ret > 0) {
        rv = ret;
    }
    else {
        rv = CALSTORE_EDB;
    }
    calcore_log(CALCORE_LOG_ERR, rv, "calstore: %s: %s: %s", dir, what,
                db_strerror(ret));
    return rv;
}

apr_status_t calstore__db_status(calstore_t *st, int ret, const char *what)
{
    switch (ret) {
    case 0:
        return APR_SUCCESS;
    case DB_LOCK_DEADLOCK:
    case DB_LOCK_NOTGRANTED:
        if (calcore_log_is_level(CALCORE_LOG_DEBUG)) {
            calcore_log(CALCORE_LOG_DEBUG, APR_SUCCESS,
                        "calstore: %s: %s (will retry)", what,
                        db_strerror(ret));
        }
        return ret == DB_LOCK_DEADLOCK ? CALSTORE__RETRY
                                       : CALSTORE__RETRY_TIMEOUT;
    case DB_RUNRECOVERY:
        mark_panic(st, what);
        return CALSTORE_EPANIC;
    default:
        break;
    }
    if (ret > 0) {
        calcore_log(CALCORE_LOG_ERR, ret, "calstore: %s: %s", what,
                    db_strerror(ret));
        return ret;
    }
    calcore_log(CALCORE_LOG_ERR, CALSTORE_EDB, "calstore: %s: %s", what,
                db_strerror(ret));
    return CALSTORE_EDB;
}

/* ---- entering and leaving ----------------------------------------------- */

static apr_status_t store_enter(calstore_t *st)
{
    apr_status_t rv = APR_SUCCESS;

    apr_thread_mutex_lock(st->mutex);
    if (st->closed) {
        rv = CALSTORE_EINVAL;
    }
    else if (st->panicked || st->reopening || st->env == NULL) {
        rv = CALSTORE_EPANIC;
    }
    else {
        st->inside++;
    }
    apr_thread_mutex_unlock(st->mutex);
    return rv;
}

static void store_leave(calstore_t *st)
{
    apr_thread_mutex_lock(st->mutex);
    st->inside--;
    apr_thread_mutex_unlock(st->mutex);
}

/* Commits are made durable by an explicit log flush (see calstore__run). */
static int sync_mode(const calstore_t *st)
{
    return st->opts.durability == CALSTORE_DURABILITY_SYNC;
}

/* Sleep a little before retrying: 0.5..1.5 x (1 ms << attempt), capped. */
static void backoff(int attempt)
{
    apr_uint32_t x;
    apr_interval_time_t base;

    x = (apr_uint32_t)apr_time_now() ^ (apr_uint32_t)(apr_uintptr_t)&x;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    base = (apr_interval_time_t)1000 << (attempt < 6 ? attempt : 6);
    apr_sleep(base / 2 + (apr_interval_time_t)(x % (apr_uint32_t)base));
}

apr_status_t calstore__run(calstore_t *st, int write, calstore__txn_fn *fn,
                           void *baton, apr_pool_t *pool)
{
    apr_pool_t *scratch;
    apr_status_t rv, rv2;
    DB_TXN *txn;
    int attempt, ret, timeouts = 0;

    if ((rv = store_enter(st)) != APR_SUCCESS) {
        return rv;
    }
    apr_pool_create(&scratch, pool);
    for (attempt = 0; ; attempt++) {
        apr_pool_clear(scratch);
        txn = NULL;
        ret = st->env->txn_begin(st->env, NULL, &txn,
                                 write == CALSTORE__TXN_WRITE ? 0
                                 : write == CALSTORE__TXN_SNAPSHOT
                                 ? DB_TXN_SNAPSHOT : DB_READ_COMMITTED);
        if (ret == 0) {
            /* The environment-wide timeout is whatever the last process
             * to open set; make ours hold for our own transactions. */
            ret = txn->set_timeout(txn, st->lock_timeout,
                                   DB_SET_LOCK_TIMEOUT);
            /* A retry outranks the transactions that have lost fewer
             * deadlocks: the detector rejects the lowest priority first,
             * and only among equals follows DB_LOCK_DEFAULT, which takes
             * the first locker of the cycle it finds, not a random one.
             * Without this the same transaction could lose deadlock after
             * deadlock: 16 connections PUTting into one calendar had
             * 12-15 PUTs in 25,000 give up after 9 lost deadlocks (503
             * after 200 ms), 8 connections about one in 30,000; with it,
             * none in the same runs. */
            if (ret == 0 && attempt > 0) {
                ret = txn->set_priority(txn, CALSTORE_TXN_PRIORITY
                                             + (u_int32_t)attempt);
            }
            if (ret != 0) {
                txn->abort(txn);
            }
        }
        if (ret != 0) {
            rv = calstore__db_status(st, ret, "txn_begin");
        }
        else {
            rv = fn(st, txn, baton, scratch);
            if (rv == APR_SUCCESS) {
                /* Durable stores commit with early lock release: the
                 * commit record only goes to the log buffer here, the
                 * locks are released at once, and the log is flushed
                 * below.  Writers to the same collection (which always
                 * share pages: the collection record, the change log)
                 * then no longer queue behind each other's fsync, and
                 * concurrent flushes merge (group commit). */
                ret = txn->commit(txn, sync_mode(st) ? DB_TXN_NOSYNC : 0);
                rv = calstore__db_status(st, ret, "txn commit");
            }
            else {
                ret = txn->abort(txn);
                rv2 = calstore__db_status(st, ret, "txn abort");
                if (rv2 == CALSTORE_EPANIC) {
                    rv = rv2;
                }
            }
        }
        if (rv != CALSTORE__RETRY && rv != CALSTORE__RETRY_TIMEOUT) {
            break;
        }
        if (attempt >= st->opts.max_retries
            || (rv == CALSTORE__RETRY_TIMEOUT
                && ++timeouts >= CALSTORE__MAX_TIMEOUTS)) {
            rv = CALSTORE_EBUSY;
            calcore_log(CALCORE_LOG_WARN, rv,
                        "calstore: %s: giving up after %d lock conflicts",
                        st->dir, attempt + 1);
            break;
        }
        backoff(attempt);
    }
    if (rv == APR_SUCCESS && sync_mode(st)) {
        /* Nothing leaves this call before it is on disk: a write's own
         * commit record, and for a read everything it may have seen (a
         * change committed by another thread whose flush is still under
         * way).  With nothing new in the log this is a compare under the
         * log region's mutex. */
        ret = st->env->log_flush(st->env, NULL);
        if (ret != 0) {
            rv = calstore__db_status(st, ret, "flushing the log");
        }
    }
    apr_pool_destroy(scratch);
    store_leave(st);
    return rv;
}

apr_status_t calstore__next_id(calstore_t *st, calstore_id_t *id)
{
    db_seq_t v;
    int ret;

    /* No transaction: the sequence commits its own cached block (with
     * DB_TXN_NOSYNC, so allocating ids never waits for a disk flush and
     * never serialises writers); an aborted caller just leaves a gap.
     * (Blocks per thread, so that concurrent writers append to different
     * leaf pages, were measured: no gain once PUT locks its parent last,
     * and half-full pages made the id-keyed databases 8% larger.) */
    ret = st->seq->get(st->seq, NULL, 1, &v, DB_TXN_NOSYNC);
    if (ret != 0) {
        return calstore__db_status(st, ret, "next_id");
    }
    *id = (calstore_id_t)v;
    return APR_SUCCESS;
}

/* ---- opening and closing the handles ------------------------------------ */

/* Make the next DB_REGISTER open of 'dir' run recovery, if the environment
 * needs it, under the registry's exclusive lock.
 *
 * After a panic, a DB_REGISTER|DB_RECOVER open recovers only when it finds a
 * registered process dead.  If none is (the panic came from our own failchk,
 * an I/O error, ...), 5.3.21+ retry the open with DB_RECOVER once they see
 * the panicked region, but that retry runs after the registry's exclusive
 * lock was released, so two processes reopening at once could recover
 * concurrently; older releases just fail with DB_RUNRECOVERY for ever.  So
 * before reopening we append one registry slot that looks like a process
 * that died holding the environment (pid 0, never alive, never locked): the
 * open then tries failchk under the exclusive lock, which fails on a
 * panicked region and falls through to recovery (clearing every slot), or,
 * if somebody else recovered meanwhile, succeeds and clears the slot.
 * Written with the registry's own exclusive lock (byte 1) held. */
static void force_recovery(const char *dir, apr_pool_t *pool)
{
    const char *path;
    struct flock fl;
    struct stat sb;
    char slot[CALSTORE_REGISTER_SLOT + 1];
    int fd;

    path = apr_pstrcat(pool, dir, "/" CALSTORE_REGISTER_FILE, NULL);
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return;                 /* no registry: the next open recovers */
    }
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 1;
    fl.l_len = 1;
    while (fcntl(fd, F_SETLKW, &fl) != 0 && errno == EINTR) {
        ;
    }
    if (fstat(fd, &sb) == 0 && sb.st_size % CALSTORE_REGISTER_SLOT == 0) {
        /* Same format as BDB's "%24lu\n"; pid 0 is never alive. */
        snprintf(slot, sizeof(slot), "%24lu\n", 0UL);
        if (pwrite(fd, slot, CALSTORE_REGISTER_SLOT, sb.st_size)
            != CALSTORE_REGISTER_SLOT) {
            calcore_log(CALCORE_LOG_ERR, errno,
                        "calstore: cannot write %s", path);
        }
    }
    close(fd);                  /* drops the lock */
}

static apr_status_t env_create(calstore_t *st, DB_ENV **envp)
{
    DB_ENV *env;
    apr_uint64_t cache = st->opts.cache_bytes;
    int ret;

    *envp = NULL;
    if ((ret = db_env_create(&env, 0)) != 0) {
        return open_status(ret, st->dir, "db_env_create");
    }
    env->set_errcall(env, bdb_errcall);
    env->set_msgcall(env, bdb_msgcall);
    if ((ret = env->set_event_notify(env, bdb_event)) != 0
        || (ret = env->set_isalive(env, bdb_isalive)) != 0
        || (ret = env->set_thread_count(env, CALSTORE_THREAD_COUNT)) != 0
        || (ret = env->set_tx_max(env, CALSTORE_TX_MAX)) != 0
        || (ret = env->set_lk_detect(env, DB_LOCK_DEFAULT)) != 0
        || (ret = env->set_lk_max_lockers(env, CALSTORE_LK_MAX_LOCKERS)) != 0
        || (ret = env->set_lk_max_locks(env, CALSTORE_LK_MAX_LOCKS)) != 0
        || (ret = env->set_lk_max_objects(env, CALSTORE_LK_MAX_OBJECTS)) != 0
        || (ret = env->set_timeout(env, st->lock_timeout,
                                   DB_SET_LOCK_TIMEOUT)) != 0
        || (ret = env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1)) != 0
           /* Log files are written full of zeros when created: a commit's
            * fdatasync then flushes data only, no size change (measured on
            * ext4 here: 0.15-0.27 ms instead of 0.35-0.43 ms per flush),
            * for one 16 MB write per log file. */
        || (ret = env->log_set_config(env, DB_LOG_ZERO, 1)) != 0
        || (ret = env->set_lg_bsize(env, CALSTORE_LOG_BSIZE)) != 0
        || (ret = env->set_lg_max(env, CALSTORE_LOG_MAX)) != 0
        || (ret = env->set_cachesize(env,
                                     (u_int32_t)(cache >> 30),
                                     (u_int32_t)(cache & ((1u << 30) - 1)),
                                     1)) != 0
        || (st->opts.durability == CALSTORE_DURABILITY_WRITE_NOSYNC
            && (ret = env->set_flags(env, DB_TXN_WRITE_NOSYNC, 1)) != 0)) {
        env->close(env, 0);
        return open_status(ret, st->dir, "configuring the environment");
    }
    *envp = env;
    return APR_SUCCESS;
}

static void handles_close(calstore_t *st)
{
    DB **dbs[11];
    int i;

    if (st->env != NULL) {
        st->env->app_private = NULL;
    }
    if (st->seq != NULL) {
        if (st->seq->close(st->seq, 0) == DB_RUNRECOVERY) {
            abandon(st->seq);
        }
        st->seq = NULL;
    }
    dbs[0] = &st->chindex;
    dbs[1] = &st->changes;
    dbs[2] = &st->tredge;
    dbs[3] = &st->tr;
    dbs[4] = &st->uid;
    dbs[5] = &st->calobj;
    dbs[6] = &st->props;
    dbs[7] = &st->bodies;
    dbs[8] = &st->byid;
    dbs[9] = &st->nodes;
    dbs[10] = &st->meta;
    for (i = 0; i < 11; i++) {
        if (*dbs[i] != NULL) {
            if ((*dbs[i])->close(*dbs[i], 0) == DB_RUNRECOVERY) {
                abandon(*dbs[i]);
            }
            *dbs[i] = NULL;
        }
    }
    if (st->env != NULL) {
        if (st->env->close(st->env, 0) == DB_RUNRECOVERY) {
            abandon(st->env);
        }
        st->env = NULL;
    }
}

static int db_open_f(calstore_t *st, DB **dbp, const char *file,
                     u_int32_t pagesize, u_int32_t extra)
{
    DB *db;
    int ret;

    *dbp = NULL;
    if ((ret = db_create(&db, st->env, 0)) != 0) {
        return ret;
    }
    if (pagesize && (ret = db->set_pagesize(db, pagesize)) != 0) {
        db->close(db, 0);
        return ret;
    }
    ret = db->open(db, NULL, file, NULL, DB_BTREE,
                   DB_AUTO_COMMIT | DB_THREAD | extra
                   | (st->opts.create ? DB_CREATE : 0), 0600);
    if (ret != 0) {
        db->close(db, 0);
        return ret;
    }
    *dbp = db;
    return 0;
}

static int db_open(calstore_t *st, DB **dbp, const char *file,
                   u_int32_t pagesize)
{
    return db_open_f(st, dbp, file, pagesize, 0);
}

/* Check the format record and create it and the root on first use, in one
 * transaction (idempotent, safe against concurrent first opens).  A store
 * of format CALSTORE_FORMAT_UPGRADE_V5 or _V6 is accepted with *upgrade
 * set: the caller opens the calendar databases, then runs
 * upgrade_store(). */
/* Read the format record inside 'txn' with DB_RMW (several processes
 * opening one store serialise on it): the Berkeley DB status; on 0,
 * *format is the version, or 0 when the record is not 4 bytes long. */
static int format_read(calstore_t *st, DB_TXN *txn, apr_uint32_t *format)
{
    unsigned char fmt[4];
    DBT key, val;
    int ret;

    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));
    key.data = CALSTORE_META_FORMAT;
    key.size = sizeof(CALSTORE_META_FORMAT) - 1;
    val.data = fmt;
    val.ulen = sizeof(fmt);
    val.flags = DB_DBT_USERMEM;
    ret = st->meta->get(st->meta, txn, &key, &val, DB_RMW);
    *format = ret == 0 && val.size == 4 ? calstore_get_be32(fmt) : 0;
    return ret;
}

/* Write 'format' as the format record inside 'txn'. */
static int format_write(calstore_t *st, DB_TXN *txn, apr_uint32_t format)
{
    unsigned char fmt[4];
    DBT key, val;

    calstore_put_be32(fmt, format);
    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));
    key.data = CALSTORE_META_FORMAT;
    key.size = sizeof(CALSTORE_META_FORMAT) - 1;
    val.data = fmt;
    val.size = sizeof(fmt);
    return st->meta->put(st->meta, txn, &key, &val, 0);
}

static apr_status_t init_store(calstore_t *st, int *upgrade, apr_pool_t *pool)
{
    unsigned char rootkey[8], byidval[8];
    apr_uint32_t format;
    unsigned char recbuf[CALSTORE_NODE_REC_MAX];
    calstore_rec_t root;
    DB_TXN *txn;
    DBT key, val;
    apr_status_t rv;
    int attempt, ret;

    for (attempt = 0; ; attempt++) {
        *upgrade = 0;
        if ((ret = st->env->txn_begin(st->env, NULL, &txn, 0)) != 0) {
            return open_status(ret, st->dir, "txn_begin");
        }
        ret = format_read(st, txn, &format);
        rv = APR_SUCCESS;
        if (ret == 0) {
            if (format == CALSTORE_FORMAT_UPGRADE_V5
                || format == CALSTORE_FORMAT_UPGRADE_V6
                || format == CALSTORE_FORMAT_UPGRADE_V7) {
                *upgrade = 1;
            }
            else if (format != CALSTORE_FORMAT_VERSION) {
                rv = CALSTORE_EFORMAT;
                calcore_log(CALCORE_LOG_ERR, rv,
                            "calstore: %s: unknown store format %lu "
                            "(this build reads format %d and upgrades "
                            "formats %d to %d)", st->dir,
                            (unsigned long)format,
                            CALSTORE_FORMAT_VERSION,
                            CALSTORE_FORMAT_UPGRADE_V5,
                            CALSTORE_FORMAT_UPGRADE_V7);
            }
        }
        else if (ret == DB_BUFFER_SMALL) {
            rv = CALSTORE_EFORMAT;
            calcore_log(CALCORE_LOG_ERR, rv,
                        "calstore: %s: unreadable format record", st->dir);
        }
        else if (ret == DB_NOTFOUND && !st->opts.create) {
            rv = CALSTORE_ECORRUPT;
            calcore_log(CALCORE_LOG_ERR, rv,
                        "calstore: %s: no format record", st->dir);
        }
        else if (ret == DB_NOTFOUND) {
            ret = format_write(st, txn, CALSTORE_FORMAT_VERSION);
            memset(&key, 0, sizeof(key));
            memset(&val, 0, sizeof(val));
            if (ret == 0) {
                memset(&root, 0, sizeof(root));
                root.id = CALSTORE_ROOT_ID;
                root.kind = CALSTORE_KIND_COLLECTION;
                root.created = root.modified = apr_time_now();
                root.revision = 1;
                calstore_rec_encode(&root, recbuf);
                calstore_put_be64(rootkey, 0);
                key.data = rootkey;
                key.size = 8;
                val.data = recbuf;
                val.size = CALSTORE_NODE_REC_FIXED;
                ret = st->nodes->put(st->nodes, txn, &key, &val, 0);
            }
            if (ret == 0) {
                calstore_put_be64(rootkey, CALSTORE_ROOT_ID);
                calstore_put_be64(byidval, 0);
                key.data = rootkey;
                key.size = 8;
                val.data = byidval;
                val.size = 8;
                ret = st->byid->put(st->byid, txn, &key, &val, 0);
            }
            if (ret == 0) {
                calcore_log(CALCORE_LOG_NOTICE, APR_SUCCESS,
                            "calstore: created store format %d in %s",
                            CALSTORE_FORMAT_VERSION, st->dir);
            }
        }
        if (ret != 0 && ret != DB_NOTFOUND && ret != DB_BUFFER_SMALL) {
            txn->abort(txn);
            if ((ret == DB_LOCK_DEADLOCK || ret == DB_LOCK_NOTGRANTED)
                && attempt < st->opts.max_retries) {
                backoff(attempt);
                continue;
            }
            return open_status(ret, st->dir, "initialising the store");
        }
        if (rv != APR_SUCCESS) {
            txn->abort(txn);
            return rv;
        }
        if ((ret = txn->commit(txn, 0)) != 0) {
            return open_status(ret, st->dir, "initialising the store");
        }
        return APR_SUCCESS;
    }
}

/* The upgrade from format 5, 6 or 7 (CALSTORE_FORMAT_UPGRADE_V5 / _V6 /
 * _V7) to CALSTORE_FORMAT_VERSION, key by key in tredge.db (nothing from
 * format 7: its tr entries stay valid, see CALSTORE_FORMAT_UPGRADE_V7):
 *
 * - format 5 only: every 'G' key, coll + 'G' + class + ord64(start) + obj,
 *   becomes coll + 'G' + comp + class + ord64(start) + obj, the component
 *   byte taken from the entry's value (be64(end) + comp, unchanged);
 * - formats 5 and 6: every 'L' ('H') key, coll + kind + ord64(win_from)
 *   (ord64(win_until)) + obj, becomes calstore_edge_key() of the same
 *   boundary and object with the set's reach taken from the entry's value
 *   (comp + be64(first) (be64(last)), unchanged);
 *
 * then the format record becomes CALSTORE_FORMAT_VERSION.  All in ONE
 * transaction that first reads the format record with DB_RMW: of several
 * processes opening an old store at once, one upgrades while the others
 * wait on that lock, then find the new format and do nothing; a crash or a
 * failure before the commit leaves the old format with every old key, and
 * the next open upgrades again.  What is re-keyed depends on the format
 * read under that lock (a store upgraded from 5 to 6 meanwhile by an older
 * build gets only its edges re-keyed).  tredge.db must be open. */
static apr_status_t upgrade_store(calstore_t *st)
{
    unsigned char kbuf[64], vbuf[16], nk[CALSTORE_EDGE_KEY];
    apr_uint64_t coll, moved, edges;
    apr_uint32_t from = 0;
    apr_status_t rv;
    u_int32_t flag;
    DB_TXN *txn;
    DBC *c;
    DBT key, val, nkey, nval;
    int attempt, ret, t_ret, kind, next;

    for (attempt = 0; ; attempt++) {
        rv = APR_SUCCESS;
        moved = edges = 0;
        if ((ret = st->env->txn_begin(st->env, NULL, &txn, 0)) != 0) {
            return open_status(ret, st->dir, "txn_begin");
        }
        ret = format_read(st, txn, &from);
        if (ret == 0 && from == CALSTORE_FORMAT_VERSION) {
            /* Another process upgraded it since init_store() looked. */
            if ((ret = txn->commit(txn, 0)) != 0) {
                return open_status(ret, st->dir, "upgrading the store");
            }
            return APR_SUCCESS;
        }
        if (ret == DB_BUFFER_SMALL || ret == DB_NOTFOUND
            || (ret == 0 && from != CALSTORE_FORMAT_UPGRADE_V5
                && from != CALSTORE_FORMAT_UPGRADE_V6
                && from != CALSTORE_FORMAT_UPGRADE_V7)) {
            txn->abort(txn);
            calcore_log(CALCORE_LOG_ERR, CALSTORE_EFORMAT, "calstore: %s: "
                        "the format record changed during the upgrade",
                        st->dir);
            return CALSTORE_EFORMAT;
        }
        /* From format 7 nothing is re-keyed: only the format record
         * changes (see CALSTORE_FORMAT_UPGRADE_V7). */
        if (ret == 0 && from != CALSTORE_FORMAT_UPGRADE_V7
            && (ret = st->tredge->cursor(st->tredge, txn, &c, 0)) == 0) {
            memset(&key, 0, sizeof(key));
            memset(&val, 0, sizeof(val));
            key.data = kbuf;
            key.ulen = sizeof(kbuf);
            key.flags = DB_DBT_USERMEM;
            val.data = vbuf;
            val.ulen = sizeof(vbuf);
            val.flags = DB_DBT_USERMEM;
            memset(&nkey, 0, sizeof(nkey));
            nkey.data = nk;
            memset(&nval, 0, sizeof(nval));
            nval.data = vbuf;
            flag = DB_FIRST;
            while ((ret = c->get(c, &key, &val, flag)) == 0) {
                flag = DB_NEXT;
                if (key.size < 9) {
                    rv = CALSTORE_ECORRUPT;
                    break;
                }
                coll = calstore_get_be64(kbuf);
                kind = kbuf[8];
                if (kind == CALSTORE_EDGE_LONG
                    && from == CALSTORE_FORMAT_UPGRADE_V5) {
                    if (key.size == CALSTORE_LONG_KEY) {
                        continue;       /* re-keyed just now */
                    }
                    if (key.size != CALSTORE_LONG_KEY_V5
                        || val.size != CALSTORE_SPAN_VAL) {
                        rv = CALSTORE_ECORRUPT;
                        break;
                    }
                    memcpy(nk, kbuf, 9);
                    nk[9] = vbuf[8] & CALSTORE_SPAN_KIND;
                    memcpy(nk + 10, kbuf + 9, CALSTORE_LONG_KEY_V5 - 9);
                    nkey.size = CALSTORE_LONG_KEY;
                    nval.size = CALSTORE_SPAN_VAL;
                    moved++;
                }
                else if (kind == CALSTORE_EDGE_AFTER
                         || kind == CALSTORE_EDGE_BEFORE) {
                    if (key.size == CALSTORE_EDGE_KEY) {
                        continue;       /* re-keyed just now */
                    }
                    if (key.size != CALSTORE_EDGE_KEY_V6
                        || val.size != CALSTORE_EDGE_VAL) {
                        rv = CALSTORE_ECORRUPT;
                        break;
                    }
                    calstore_edge_key(nk, coll, kind,
                                      calstore_get_ord64(kbuf + 9),
                                      (apr_int64_t)calstore_get_be64(
                                          vbuf + 1),
                                      calstore_get_be64(kbuf + 17));
                    nkey.size = CALSTORE_EDGE_KEY;
                    nval.size = CALSTORE_EDGE_VAL;
                    edges++;
                }
                else {
                    /* On to this calendar's next kind to re-key ('G' only
                     * from format 5, then 'H', 'L'), or the next
                     * calendar. */
                    next = kind < CALSTORE_EDGE_LONG
                           && from == CALSTORE_FORMAT_UPGRADE_V5
                           ? CALSTORE_EDGE_LONG
                           : kind < CALSTORE_EDGE_AFTER ? CALSTORE_EDGE_AFTER
                           : kind < CALSTORE_EDGE_BEFORE
                           ? CALSTORE_EDGE_BEFORE : 0;
                    if (next) {
                        kbuf[8] = (unsigned char)next;
                        key.size = 9;
                    }
                    else if (coll == APR_UINT64_MAX) {
                        ret = DB_NOTFOUND;
                        break;
                    }
                    else {
                        calstore_put_be64(kbuf, coll + 1);
                        key.size = 8;
                    }
                    flag = DB_SET_RANGE;
                    continue;
                }
                if ((ret = c->del(c, 0)) != 0
                    || (ret = st->tredge->put(st->tredge, txn, &nkey, &nval,
                                              0)) != 0) {
                    break;
                }
                /* kbuf still holds the deleted key: go on from the first
                 * key after it (new keys may sort either side of it). */
                flag = DB_SET_RANGE;
            }
            if (ret == DB_NOTFOUND) {
                ret = 0;
            }
            else if (ret == DB_BUFFER_SMALL) {
                ret = 0;
                rv = CALSTORE_ECORRUPT;
            }
            t_ret = c->close(c);
            if (ret == 0) {
                ret = t_ret;
            }
        }
        if (ret == 0 && rv == APR_SUCCESS) {
            ret = format_write(st, txn, CALSTORE_FORMAT_VERSION);
        }
        if (ret != 0) {
            txn->abort(txn);
            if ((ret == DB_LOCK_DEADLOCK || ret == DB_LOCK_NOTGRANTED)
                && attempt < st->opts.max_retries) {
                backoff(attempt);
                continue;
            }
            return open_status(ret, st->dir, "upgrading the store");
        }
        if (rv != APR_SUCCESS) {
            txn->abort(txn);
            calcore_log(CALCORE_LOG_ERR, rv, "calstore: %s: cannot upgrade "
                        "store format %lu: malformed entry in tredge.db",
                        st->dir, (unsigned long)from);
            return rv;
        }
        if ((ret = txn->commit(txn, 0)) != 0) {
            return open_status(ret, st->dir, "upgrading the store");
        }
        if (from == CALSTORE_FORMAT_UPGRADE_V5) {
            calcore_log(CALCORE_LOG_NOTICE, APR_SUCCESS,
                        "calstore: upgraded store format %lu to %d in %s (%"
                        APR_UINT64_T_FMT " long instances keyed by "
                        "component, %" APR_UINT64_T_FMT " window edges "
                        "keyed by reach)", (unsigned long)from,
                        CALSTORE_FORMAT_VERSION, st->dir, moved, edges);
        }
        else if (from == CALSTORE_FORMAT_UPGRADE_V6) {
            calcore_log(CALCORE_LOG_NOTICE, APR_SUCCESS,
                        "calstore: upgraded store format %lu to %d in %s (%"
                        APR_UINT64_T_FMT " window edges keyed by reach)",
                        (unsigned long)from, CALSTORE_FORMAT_VERSION,
                        st->dir, edges);
        }
        else {
            calcore_log(CALCORE_LOG_NOTICE, APR_SUCCESS,
                        "calstore: upgraded store format %lu to %d in %s "
                        "(objects written from now on are indexed in runs)",
                        (unsigned long)from, CALSTORE_FORMAT_VERSION,
                        st->dir);
        }
        return APR_SUCCESS;
    }
}

/* Open the environment, the databases and the id sequence into 'st'.  On
 * failure every handle is closed again. */
static apr_status_t handles_open(calstore_t *st, int after_panic,
                                 apr_pool_t *pool)
{
    DB_ENV *env = NULL;
    DBT key;
    apr_status_t rv;
    int attempt, ret, upgrade;

    /* Even after a panic, first try a plain open: usually another process
     * has recovered already (that recovery is what panicked us), and forcing
     * a recovery now would panic every other process again, which would
     * force again, and so on: a reopen storm, seen under kill -9 load.
     * Only when the region on disk is still panicked is recovery forced. */
    (void)after_panic;
    for (attempt = 0; ; attempt++) {
        if ((rv = env_create(st, &env)) != APR_SUCCESS) {
            return rv;
        }
        ret = env->open(env, st->dir, CALSTORE_ENV_FLAGS, 0600);
        if (ret == 0) {
            break;
        }
        env->close(env, 0);
        if (ret == DB_RUNRECOVERY && attempt == 0) {
            calcore_log(CALCORE_LOG_WARN, CALSTORE_EPANIC,
                        "calstore: %s: environment is panicked; forcing "
                        "recovery", st->dir);
            force_recovery(st->dir, pool);
            continue;
        }
        return open_status(ret, st->dir, "opening the environment");
    }
    st->env = env;

    /* nodes.db is multiversion: every request first resolves its path
     * (CALSTORE__TXN_SNAPSHOT, calstore_lookup), and a writer holds the
     * page of its collection's record and the page its new member goes to
     * until it commits.  Without versions those lookups queued behind the
     * writers (at 8 concurrent PUTs into one calendar, a third of all lock
     * waits); a writer now copies the two or three node pages it changes. */
    if ((ret = db_open(st, &st->meta, CALSTORE_DB_META, 0)) != 0
        || (ret = db_open_f(st, &st->nodes, CALSTORE_DB_NODES, 0,
                             DB_MULTIVERSION)) != 0
        || (ret = db_open(st, &st->byid, CALSTORE_DB_BYID, 0)) != 0
        || (ret = db_open(st, &st->bodies, CALSTORE_DB_BODIES,
                          CALSTORE_BODIES_PAGESIZE)) != 0
        || (ret = db_open(st, &st->props, CALSTORE_DB_PROPS, 0)) != 0) {
        rv = open_status(ret, st->dir, "opening the databases");
        handles_close(st);
        return rv;
    }

    if ((rv = init_store(st, &upgrade, pool)) != APR_SUCCESS) {
        handles_close(st);
        return rv;
    }

    /* The calendar databases and the change log only once the format is
     * known to be ours (or one upgraded in place, which has them all),
     * so that opening an older store refuses it without adding files. */
    if ((ret = db_open(st, &st->calobj, CALSTORE_DB_CALOBJ,
                       CALSTORE_BODIES_PAGESIZE)) != 0
        || (ret = db_open(st, &st->uid, CALSTORE_DB_UID, 0)) != 0
        || (ret = db_open(st, &st->tr, CALSTORE_DB_TR, 0)) != 0
        || (ret = db_open(st, &st->tredge, CALSTORE_DB_TREDGE, 0)) != 0
        || (ret = db_open(st, &st->changes, CALSTORE_DB_CHANGES, 0)) != 0
        || (ret = db_open(st, &st->chindex, CALSTORE_DB_CHINDEX, 0)) != 0) {
        rv = open_status(ret, st->dir, "opening the calendar and change-log "
                         "databases");
        handles_close(st);
        return rv;
    }
    if (upgrade && (rv = upgrade_store(st)) != APR_SUCCESS) {
        handles_close(st);
        return rv;
    }

    memset(&key, 0, sizeof(key));
    key.data = CALSTORE_META_NEXT_ID;
    key.size = sizeof(CALSTORE_META_NEXT_ID) - 1;
    if ((ret = db_sequence_create(&st->seq, st->meta, 0)) != 0) {
        st->seq = NULL;
    }
    else if ((ret = st->seq->initial_value(st->seq, CALSTORE_FIRST_ID)) != 0
             || (ret = st->seq->set_cachesize(st->seq,
                                              CALSTORE_ID_CACHE)) != 0
             || (ret = st->seq->set_flags(st->seq, DB_SEQ_INC)) != 0
             || (ret = st->seq->open(st->seq, NULL, &key,
                                     DB_CREATE | DB_THREAD)) != 0) {
        st->seq->close(st->seq, 0);
        st->seq = NULL;
    }
    if (ret != 0) {
        rv = open_status(ret, st->dir, "opening the id sequence");
        handles_close(st);
        return rv;
    }

    /* Only now: panic events raised during the open itself (recovery) must
     * not mark this fresh handle. */
    st->env->app_private = st;
    return APR_SUCCESS;
}

static apr_status_t store_cleanup(void *data)
{
    calstore_t *st = data;

    handles_close(st);
    if (st->claimed) {
        release_store(st->dev, st->ino);
        st->claimed = 0;
    }
    return APR_SUCCESS;
}

static apr_status_t check_options(const calstore_options_t *in,
                                  calstore_options_t *out)
{
    if (in == NULL) {
        calstore_options_default(out);
        return APR_SUCCESS;
    }
    *out = *in;
    if (out->durability != CALSTORE_DURABILITY_SYNC
        && out->durability != CALSTORE_DURABILITY_WRITE_NOSYNC) {
        return CALSTORE_EINVAL;
    }
    if (out->cache_bytes == 0) {
        out->cache_bytes = CALSTORE_DEFAULT_CACHE;
    }
    if (out->lock_timeout == 0) {
        out->lock_timeout = CALSTORE_DEFAULT_TIMEOUT;
    }
    if (out->max_retries == 0) {
        out->max_retries = CALSTORE_DEFAULT_RETRIES;
    }
    if (out->lock_timeout < 0 || out->max_retries < 0) {
        return CALSTORE_EINVAL;
    }
    if (out->lock_timeout > (apr_interval_time_t)0xFFFFFFFFu) {
        out->lock_timeout = (apr_interval_time_t)0xFFFFFFFFu;
    }
    return APR_SUCCESS;
}

apr_status_t calstore_open(calstore_t **stp, const char *dir,
                           const calstore_options_t *opts, apr_pool_t *pool)
{
    apr_pool_t *sub;
    calstore_t *st;
    apr_finfo_t finfo;
    apr_status_t rv;

    *stp = NULL;
    if (dir == NULL || *dir == '\0') {
        calcore_log(CALCORE_LOG_ERR, CALSTORE_EINVAL,
                    "calstore: no store directory given");
        return CALSTORE_EINVAL;
    }
    if ((rv = apr_pool_create(&sub, pool)) != APR_SUCCESS) {
        return rv;
    }
    apr_pool_tag(sub, "calstore");
    st = apr_pcalloc(sub, sizeof(*st));
    st->pool = sub;
    st->dir = apr_pstrdup(sub, dir);
    if ((rv = check_options(opts, &st->opts)) != APR_SUCCESS) {
        calcore_log(CALCORE_LOG_ERR, rv, "calstore: %s: bad options", dir);
        apr_pool_destroy(sub);
        return rv;
    }
    st->lock_timeout = (db_timeout_t)st->opts.lock_timeout;

    if (st->opts.create) {
        rv = apr_dir_make_recursive(dir, APR_FPROT_UREAD | APR_FPROT_UWRITE
                                         | APR_FPROT_UEXECUTE, sub);
        if (rv != APR_SUCCESS && !APR_STATUS_IS_EEXIST(rv)) {
            calcore_log(CALCORE_LOG_ERR, rv, "calstore: cannot create %s",
                        dir);
            apr_pool_destroy(sub);
            return rv;
        }
    }
    else {
        /* Do not let the environment open (which always creates its
         * region files) litter a directory that holds no store. */
        rv = apr_stat(&finfo, apr_pstrcat(sub, dir, "/" CALSTORE_DB_META,
                                          NULL), APR_FINFO_TYPE, sub);
        if (rv != APR_SUCCESS) {
            calcore_log(CALCORE_LOG_ERR, rv, "calstore: no store in %s",
                        dir);
            apr_pool_destroy(sub);
            return rv;
        }
    }

    if ((rv = apr_thread_mutex_create(&st->mutex, APR_THREAD_MUTEX_DEFAULT,
                                      sub)) != APR_SUCCESS) {
        apr_pool_destroy(sub);
        return rv;
    }
    if ((rv = claim_store(dir, &st->dev, &st->ino)) != APR_SUCCESS) {
        apr_pool_destroy(sub);
        return rv;
    }
    st->claimed = 1;
    apr_pool_cleanup_register(sub, st, store_cleanup,
                              apr_pool_cleanup_null);

    if ((rv = handles_open(st, 0, sub)) != APR_SUCCESS) {
        apr_pool_destroy(sub);
        return rv;
    }
    *stp = st;
    return APR_SUCCESS;
}

void calstore_close(calstore_t *st)
{
    if (st == NULL) {
        return;
    }
    apr_thread_mutex_lock(st->mutex);
    st->closed = 1;
    apr_thread_mutex_unlock(st->mutex);
    apr_pool_cleanup_run(st->pool, st, store_cleanup);
}

/* The cache size of the open environment, in bytes. */
static apr_uint64_t env_cache_bytes(DB_ENV *env)
{
    u_int32_t gb = 0, b = 0;
    int n = 0;

    if (env->get_cachesize(env, &gb, &b, &n) != 0) {
        return 0;
    }
    return ((apr_uint64_t)gb << 30) + b;
}

/* Whether a cache of 'actual' bytes is what set_cachesize('wanted') makes:
 * Berkeley DB adds 25% below 500 MB and rounds to its page allocation. */
static int cache_matches(apr_uint64_t actual, apr_uint64_t wanted)
{
    apr_uint64_t expect = wanted < (apr_uint64_t)500 * 1024 * 1024
                          ? wanted + wanted / 4 : wanted;

    return actual + expect / 16 >= expect && actual <= expect + expect / 16;
}

/* Open, checkpoint and close 'dir'; *cache receives the cache size the
 * environment has. */
static apr_status_t prepare_once(const char *dir,
                                 const calstore_options_t *opts,
                                 apr_uint64_t *cache, apr_pool_t *pool)
{
    apr_pool_t *sub;
    calstore_t *st;
    apr_status_t rv;
    int ret;

    *cache = 0;
    if ((rv = apr_pool_create(&sub, pool)) != APR_SUCCESS) {
        return rv;
    }
    rv = calstore_open(&st, dir, opts, sub);
    if (rv == APR_SUCCESS) {
        *cache = env_cache_bytes(st->env);
        /* Leave nothing for the children's opens to redo. */
        ret = st->env->txn_checkpoint(st->env, 0, 0, DB_FORCE);
        if (ret != 0) {
            rv = open_status(ret, dir, "checkpoint");
        }
    }
    apr_pool_destroy(sub);      /* closes the handles */
    return rv;
}

apr_status_t calstore_prepare(const char *dir, const calstore_options_t *opts,
                              apr_pool_t *pool)
{
    calstore_options_t o;
    apr_uint64_t cache;
    apr_status_t rv;
    DB_ENV *env;
    int ret;

    if ((rv = prepare_once(dir, opts, &cache, pool)) != APR_SUCCESS
        || (rv = check_options(opts, &o)) != APR_SUCCESS
        || cache_matches(cache, o.cache_bytes)) {
        return rv;
    }

    /* The region files keep the cache size they were created with, so a
     * changed size (CalDAVCacheSize) needs new regions.  Everything is
     * on disk after the checkpoint and close above; DB_ENV->remove
     * without DB_FORCE refuses (EBUSY) while any other process has the
     * environment open (caldavctl, children of a previous generation),
     * and then the old size stays until a start where nobody has. */
    if ((ret = db_env_create(&env, 0)) != 0) {
        return open_status(ret, dir, "db_env_create");
    }
    ret = env->remove(env, dir, 0);     /* frees 'env' */
    if (ret != 0) {
        calcore_log(CALCORE_LOG_WARN, APR_SUCCESS,
                    "calstore: %s: the cache stays at %" APR_UINT64_T_FMT
                    " MB, not the %" APR_UINT64_T_FMT " MB configured: the "
                    "environment is in use by another process (%s); the "
                    "new size takes effect at a start when it is not", dir,
                    cache >> 20, (apr_uint64_t)o.cache_bytes >> 20,
                    db_strerror(ret));
        return APR_SUCCESS;
    }
    rv = prepare_once(dir, opts, &cache, pool);
    if (rv == APR_SUCCESS) {
        calcore_log(CALCORE_LOG_NOTICE, APR_SUCCESS,
                    "calstore: %s: environment recreated with a cache of %"
                    APR_UINT64_T_FMT " MB", dir, cache >> 20);
    }
    return rv;
}

apr_uint64_t calstore_cache_bytes(calstore_t *st)
{
    return env_cache_bytes(st->env);
}

/* ---- maintenance -------------------------------------------------------- */

int calstore_stuck(calstore_t *st, apr_interval_time_t after)
{
    int stuck;

    apr_thread_mutex_lock(st->mutex);
    stuck = st->panicked && st->inside > 0 && !st->closed
            && apr_time_now() - st->panic_since > after;
    apr_thread_mutex_unlock(st->mutex);
    return stuck;
}

apr_status_t calstore_maintain(calstore_t *st, apr_interval_time_t stuck_after)
{
    apr_status_t rv = APR_SUCCESS;
    apr_pool_t *scratch;
    DB_ENV *env;
    int i, ret;

    apr_thread_mutex_lock(st->mutex);
    if (st->closed) {
        apr_thread_mutex_unlock(st->mutex);
        return CALSTORE_EINVAL;
    }
    if (st->reopening) {
        apr_thread_mutex_unlock(st->mutex);
        return CALSTORE_EPANIC;
    }
    if (!st->panicked && st->env != NULL) {
        st->inside++;
        env = st->env;
        apr_thread_mutex_unlock(st->mutex);

        /* BDB 5.3 returns EBUSY ("unable to destroy mutex") when the dead
         * process had a transaction open; the cleanup is done by then but
         * the rest of failchk was skipped, so run it again. */
        for (i = 0; i < 3; i++) {
            if ((ret = env->failchk(env, 0)) != EBUSY) {
                break;
            }
        }
        if (ret == DB_RUNRECOVERY) {
            /* A process died inside the library, maybe holding a mutex.
             * failchk does not panic the environment itself: do it, so that
             * nobody (our own close included) touches the region again and
             * every process reopens, the first one running recovery. */
            env->set_flags(env, DB_PANIC_ENVIRONMENT, 1);
            rv = calstore__db_status(st, ret, "failchk");
        }
        else if (ret != 0) {
            calcore_log(CALCORE_LOG_WARN, APR_SUCCESS,
                        "calstore: %s: failchk: %s", st->dir,
                        db_strerror(ret));
        }
        if (rv == APR_SUCCESS) {
            ret = env->lock_detect(env, 0, DB_LOCK_EXPIRE, NULL);
            if (ret == DB_RUNRECOVERY) {
                rv = calstore__db_status(st, ret, "lock_detect");
            }
        }
        if (rv == APR_SUCCESS) {
            /* A checkpoint writes every dirty page: under a steady write
             * load, taking one per MB of log cost ~5% of the CPU of a PUT.
             * Per CALSTORE_CHECKPOINT_KB of log (or a minute) bounds the
             * log that recovery replays after a crash to about that much
             * (well under a second). */
            ret = env->txn_checkpoint(env, CALSTORE_CHECKPOINT_KB, 1, 0);
            if (ret != 0) {
                rv = calstore__db_status(st, ret, "checkpoint");
            }
        }
        store_leave(st);
        if (rv != CALSTORE_EPANIC) {
            return rv;
        }
        apr_thread_mutex_lock(st->mutex);
    }

    /* Panicked: reopen once nobody is inside. */
    if (st->inside > 0) {
        rv = (stuck_after >= 0
              && apr_time_now() - st->panic_since > stuck_after)
             ? APR_TIMEUP : CALSTORE_EPANIC;
        apr_thread_mutex_unlock(st->mutex);
        if (rv == APR_TIMEUP) {
            calcore_log(CALCORE_LOG_ERR, rv,
                        "calstore: %s: threads still inside the store %"
                        APR_TIME_T_FMT " ms after the panic", st->dir,
                        (apr_time_now() - st->panic_since) / 1000);
        }
        return rv;
    }
    st->reopening = 1;
    apr_thread_mutex_unlock(st->mutex);

    handles_close(st);
    apr_pool_create(&scratch, st->pool);
    rv = handles_open(st, 1, scratch);
    apr_pool_destroy(scratch);

    apr_thread_mutex_lock(st->mutex);
    st->reopening = 0;
    if (rv == APR_SUCCESS) {
        st->panicked = 0;
        st->panic_since = 0;
    }
    apr_thread_mutex_unlock(st->mutex);
    if (rv != APR_SUCCESS) {
        calcore_log(CALCORE_LOG_ERR, rv, "calstore: %s: reopen failed; will "
                    "try again", st->dir);
        return CALSTORE_EPANIC;
    }
    calcore_log(CALCORE_LOG_NOTICE, APR_SUCCESS,
                "calstore: %s: environment reopened after a panic", st->dir);
    return APR_SUCCESS;
}

/* ---- test hooks --------------------------------------------------------- */

apr_status_t calstore__test_panic(calstore_t *st)
{
    int ret = st->env->set_flags(st->env, DB_PANIC_ENVIRONMENT, 1);

    return ret ? open_status(ret, st->dir, "set panic") : APR_SUCCESS;
}

apr_status_t calstore__test_enter(calstore_t *st)
{
    return store_enter(st);
}

void calstore__test_leave(calstore_t *st)
{
    store_leave(st);
}

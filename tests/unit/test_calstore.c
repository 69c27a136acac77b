/*
 * test_calstore.c - unit tests of repos/ (the Berkeley DB store).
 *
 * Groups: M strerror, A open/prepare/format, B put/read/conditions,
 * T (C paths, D list, E delete, F copy, G move, H properties, one shared
 * store), I threads and deadlock retry, J processes, K killed processes,
 * L panic and reopen, N calendar collections and objects, O copy/move with
 * calendars (and the check's damage detection), Q query_range against
 * brute force, R concurrent calendar writers and a reader, S query cost
 * against calendar size, X the change log against a model (every token
 * after every step of a scripted sequence), Y compaction, limits and
 * pruning, Z concurrent writers, a syncing reader and a pruner, P long
 * spans keyed by component (what a query of one kind reads), W window
 * edges grouped by boundary (what a query far from the windows reads), U
 * the in-place upgrade of format-5 and format-6 stores.  Every
 * group works in its own fresh directory under
 * /tmp, removed at the end; every wait is bounded (children carry alarm()).
 *
 * TEST_ONLY=KL runs only the named groups; TEST_VERBOSE=1 prints the
 * store's log messages (2: deadlock retries too).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "calcore.h"
#include "calcore_index.h"
#include "calcore_log.h"
#include "calstore.h"
#include "calstore_private.h"
#include "tap.h"

static apr_pool_t *gpool;
static int verbose;
static int log_errors;
static int log_retries;
static int log_upgrades;            /* "upgraded store format" notices */
static char log_upgrade_msg[256];   /* the last one */

static void test_log(void *baton, calcore_log_level_e level,
                     apr_status_t rv, const char *msg)
{
    if (level <= CALCORE_LOG_ERR) {
        __atomic_add_fetch(&log_errors, 1, __ATOMIC_SEQ_CST);
    }
    if (level == CALCORE_LOG_NOTICE
        && strstr(msg, "upgraded store format") != NULL) {
        __atomic_add_fetch(&log_upgrades, 1, __ATOMIC_SEQ_CST);
        apr_cpystrn(log_upgrade_msg, msg, sizeof(log_upgrade_msg));
    }
    if (strstr(msg, "(will retry)") != NULL) {
        __atomic_add_fetch(&log_retries, 1, __ATOMIC_SEQ_CST);
        if (level == CALCORE_LOG_DEBUG && verbose < 2) {
            return;
        }
    }
    if (verbose) {
        char buf[256];

        fprintf(stderr, "[log %d] %s%s%s\n", (int)level, msg,
                rv ? ": " : "",
                rv ? calstore_strerror(rv, buf, sizeof(buf)) : "");
    }
}

/* ---- helpers ------------------------------------------------------------ */

static char *make_tmpdir(const char *tag)
{
    char *tmpl = apr_psprintf(gpool, "/tmp/calstore-%s-XXXXXX", tag);

    if (mkdtemp(tmpl) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
    return tmpl;
}

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    return remove(path);
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static calstore_t *open_store(const char *dir, calstore_durability_e dur,
                              apr_pool_t *pool)
{
    calstore_options_t opts;
    calstore_t *st = NULL;
    apr_status_t rv;
    char buf[256];

    calstore_options_default(&opts);
    opts.durability = dur;
    opts.cache_bytes = 8 * 1024 * 1024;
    rv = calstore_open(&st, dir, &opts, pool);
    if (rv != APR_SUCCESS) {
        diag("calstore_open(%s): %s", dir,
             calstore_strerror(rv, buf, sizeof(buf)));
        return NULL;
    }
    return st;
}

static calstore_t *open_store_retries(const char *dir,
                                      calstore_durability_e dur,
                                      int retries, apr_pool_t *pool)
{
    calstore_options_t opts;
    calstore_t *st = NULL;
    char buf[256];
    apr_status_t rv;

    calstore_options_default(&opts);
    opts.durability = dur;
    opts.cache_bytes = 8 * 1024 * 1024;
    opts.max_retries = retries;
    rv = calstore_open(&st, dir, &opts, pool);
    if (rv != APR_SUCCESS) {
        diag("calstore_open(%s): %s", dir,
             calstore_strerror(rv, buf, sizeof(buf)));
        return NULL;
    }
    return st;
}

static apr_status_t put_str(calstore_t *st, const char *path, const char *s,
                            calstore_node_t **node, apr_pool_t *pool)
{
    return calstore_put(st, path, "text/calendar", s, strlen(s), NULL, node,
                        NULL, pool);
}

static calstore_node_t *node_at(calstore_t *st, const char *path,
                                apr_pool_t *pool)
{
    calstore_node_t *node = NULL;

    if (calstore_lookup(st, path, &node, NULL, pool) != APR_SUCCESS) {
        return NULL;
    }
    return node;
}

static apr_uint64_t rev_of(calstore_t *st, const char *path, apr_pool_t *pool)
{
    calstore_node_t *node = node_at(st, path, pool);

    return node ? node->revision : 0;
}

static calstore_id_t id_of(calstore_t *st, const char *path, apr_pool_t *pool)
{
    calstore_node_t *node = node_at(st, path, pool);

    return node ? node->id : 0;
}

static const char *read_str(calstore_t *st, const char *path,
                            apr_pool_t *pool)
{
    calstore_node_t *node = node_at(st, path, pool);
    const char *data;
    apr_size_t len;

    if (node == NULL
        || calstore_read(st, node->id, &data, &len, pool) != APR_SUCCESS) {
        return NULL;
    }
    return apr_pstrmemdup(pool, data, len);
}

static apr_status_t set_prop(calstore_t *st, calstore_id_t id,
                             const char *ns, const char *name,
                             const char *value, apr_pool_t *pool)
{
    apr_array_header_t *patch = apr_array_make(pool, 1,
                                               sizeof(calstore_prop_t));
    calstore_prop_t *p = apr_array_push(patch);

    p->ns = ns;
    p->name = name;
    p->value = value;
    p->len = value ? strlen(value) : 0;
    return calstore_prop_patch(st, id, patch, pool);
}

static const char *get_prop(calstore_t *st, calstore_id_t id, const char *ns,
                            const char *name, apr_pool_t *pool)
{
    const char *v;
    apr_size_t len;

    if (calstore_prop_get(st, id, ns, name, &v, &len, pool) != APR_SUCCESS) {
        return NULL;
    }
    return v;
}

static apr_status_t counts(calstore_t *st, apr_size_t c[5])
{
    return calstore__test_counts(st, c);
}

typedef struct collect_t {
    apr_array_header_t *names;  /* of char * */
    apr_array_header_t *ids;    /* of calstore_id_t */
    int stop_after;             /* return APR_EGENERAL after this many */
    calstore_t *st;
    int reenter;                /* call back into the store */
    int reenter_failures;
    apr_pool_t *pool;
} collect_t;

static apr_status_t collect_cb(void *baton, const calstore_node_t *node,
                               apr_pool_t *scratch)
{
    collect_t *c = baton;
    const char *data;
    apr_size_t len;
    calstore_node_t *again;

    APR_ARRAY_PUSH(c->names, char *) = apr_pstrdup(c->pool, node->name);
    APR_ARRAY_PUSH(c->ids, calstore_id_t) = node->id;
    if (c->reenter) {
        /* Reads and a write from inside the callback: no lock is held. */
        if (node->kind == CALSTORE_KIND_RESOURCE
            && calstore_read(c->st, node->id, &data, &len, scratch)
               != APR_SUCCESS) {
            c->reenter_failures++;
        }
        if (calstore_lookup(c->st, apr_psprintf(scratch, "big/%s",
                                                node->name),
                            &again, NULL, scratch) != APR_SUCCESS
            || again->id != node->id) {
            c->reenter_failures++;
        }
        if (c->names->nelts % 50 == 0
            && put_str(c->st, apr_psprintf(scratch, "other/w%d",
                                           c->names->nelts),
                       "x", NULL, scratch) != APR_SUCCESS) {
            c->reenter_failures++;
        }
    }
    if (c->stop_after && c->names->nelts >= c->stop_after) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static collect_t *collect_new(calstore_t *st, apr_pool_t *pool)
{
    collect_t *c = apr_pcalloc(pool, sizeof(*c));

    c->names = apr_array_make(pool, 16, sizeof(char *));
    c->ids = apr_array_make(pool, 16, sizeof(calstore_id_t));
    c->st = st;
    c->pool = pool;
    return c;
}

static int run_verify(const char *dir)
{
    char *cmd = apr_psprintf(gpool, "cd '%s' && db5.3_verify -q "
                             "meta.db nodes.db byid.db bodies.db props.db "
                             "calobj.db uid.db tr.db tredge.db "
                             "changes.db chindex.db "
                             ">/dev/null 2>&1", dir);
    int st = system(cmd);

    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Wait for 'pid' up to 'secs' seconds; kill it if it does not exit.
 * Returns its exit status, or -1 if it was killed/failed. */
static int wait_child(pid_t pid, int secs)
{
    int status, i;

    for (i = 0; i < secs * 100; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        if (r < 0) {
            return -1;
        }
        apr_sleep(apr_time_from_msec(10));
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    diag("child %d did not finish within %d s; killed", (int)pid, secs);
    return -1;
}

/* ---- A. open / prepare / format ----------------------------------------- */

static void test_open(void)
{
    apr_pool_t *pool;
    char *dir = make_tmpdir("open");
    char *sub = apr_pstrcat(gpool, dir, "/store", NULL);
    calstore_options_t opts;
    calstore_t *st, *st2;
    calstore_node_t *root, *n;
    apr_size_t c[5];
    struct stat sb;
    apr_status_t rv;
    DB_TXN *txn;
    DBT key, val;
    unsigned char fmt[4];

    diag("A. open / prepare / format");
    apr_pool_create(&pool, gpool);
    calstore_options_default(&opts);
    is_int(opts.durability, CALSTORE_DURABILITY_SYNC, "default durability");
    ok(opts.cache_bytes == 64 * 1024 * 1024 && opts.max_retries == 8
       && opts.lock_timeout == apr_time_from_sec(2) && opts.create == 1,
       "option defaults");

    /* Not there and not allowed to create. */
    opts.create = 0;
    st = (calstore_t *)1;
    rv = calstore_open(&st, sub, &opts, pool);
    ok(rv != APR_SUCCESS && st == NULL, "open without create fails on a "
       "missing store");
    ok(stat(sub, &sb) != 0, "... and creates nothing");

    opts.create = 1;
    is_int(calstore_prepare(sub, &opts, pool), APR_SUCCESS,
           "prepare creates the store");
    ok(stat(apr_pstrcat(pool, sub, "/nodes.db", NULL), &sb) == 0
       && (sb.st_mode & 077) == 0, "nodes.db exists with mode 0600");
    ok(stat(apr_pstrcat(pool, sub, "/__db.register", NULL), &sb) == 0,
       "environment uses DB_REGISTER");
    is_int(calstore_prepare(sub, &opts, pool), APR_SUCCESS,
           "prepare again is harmless");

    opts.create = 0;
    rv = calstore_open(&st, sub, &opts, pool);
    is_int(rv, APR_SUCCESS, "open an existing store without create");
    if (rv != APR_SUCCESS) {
        return;
    }
    is_str(calstore_dir(st), sub, "calstore_dir");
    is_int(calstore_open(&st2, sub, &opts, pool), CALSTORE_EINVAL,
           "second open of the same store in one process is refused");
    ok(st2 == NULL, "... with *st NULL");
    is_int(calstore_prepare(sub, &opts, pool), CALSTORE_EINVAL,
           "prepare while open in this process is refused");

    is_int(calstore_lookup(st, "", &root, NULL, pool), APR_SUCCESS,
           "lookup root");
    is_int(root->id, CALSTORE_ROOT_ID, "root id is 1");
    is_int(root->parent, 0, "root parent is 0");
    is_str(root->name, "", "root name is empty");
    is_int(root->kind, CALSTORE_KIND_COLLECTION, "root is a collection");
    is_int(root->revision, 1, "root revision starts at 1");
    ok(root->content_type == NULL && root->length == 0,
       "root has no type and no length");

    /* The format record. */
    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));
    key.data = "format";
    key.size = 6;
    val.data = fmt;
    val.ulen = sizeof(fmt);
    val.flags = DB_DBT_USERMEM;
    ok(st->meta->get(st->meta, NULL, &key, &val, 0) == 0 && val.size == 4
       && fmt[0] == 0 && fmt[1] == 0 && fmt[2] == 0
       && fmt[3] == CALSTORE_FORMAT_VERSION,
       "meta \"format\" is be32(%d)", CALSTORE_FORMAT_VERSION);
    is_int(counts(st, c), APR_SUCCESS, "count records");
    ok(c[0] == 2 && c[1] == 1 && c[2] == 1 && c[3] == 0 && c[4] == 0,
       "fresh store: format + sequence, one node, one byid, no bodies, "
       "no props (%lu %lu %lu %lu %lu)", (unsigned long)c[0],
       (unsigned long)c[1], (unsigned long)c[2], (unsigned long)c[3],
       (unsigned long)c[4]);

    is_int(calstore_mkcol(st, "cal", &n, pool), APR_SUCCESS, "mkcol cal");
    is_int(n->id, 2, "first allocated id is 2");
    is_int(put_str(st, "cal/a.ics", "persist me", NULL, pool), APR_SUCCESS,
           "put cal/a.ics");
    calstore_close(st);
    calstore_close(st);         /* twice is harmless */

    rv = calstore_open(&st, sub, &opts, pool);
    is_int(rv, APR_SUCCESS, "reopen");
    if (rv != APR_SUCCESS) {
        return;
    }
    is_str(read_str(st, "cal/a.ics", pool), "persist me",
           "data persists across close/open");
    is_int(calstore_mkcol(st, "cal2", &n, pool), APR_SUCCESS, "mkcol after "
           "reopen");
    ok(n->id > 3, "ids are not reused after reopen (got %" APR_UINT64_T_FMT
       ")", n->id);
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");

    /* The check notices damage (so its passes elsewhere mean something). */
    {
        unsigned char k[8], v[64];
        DBT bk, bv;

        memset(&bk, 0, sizeof(bk));
        memset(&bv, 0, sizeof(bv));
        calstore_put_be64(k, id_of(st, "cal", pool));
        bk.data = k;
        bk.size = 8;
        bv.data = v;
        bv.ulen = sizeof(v);
        bv.flags = DB_DBT_USERMEM;
        ok(st->byid->get(st->byid, NULL, &bk, &bv, 0) == 0
           && st->byid->del(st->byid, NULL, &bk, 0) == 0,
           "damage: remove the byid entry of cal");
        is_int(calstore__check(st, pool), CALSTORE_ECORRUPT,
               "check reports the missing byid entry");
        bv.flags = 0;
        ok(st->byid->put(st->byid, NULL, &bk, &bv, 0) == 0,
           "repair it");
        is_int(calstore__check(st, pool), APR_SUCCESS, "check passes again");
        calstore_put_be64(k, 999999);
        bk.size = 8;
        bv.data = "x";
        bv.size = 1;
        ok(st->bodies->put(st->bodies, NULL, &bk, &bv, 0) == 0,
           "damage: an orphan body");
        is_int(calstore__check(st, pool), CALSTORE_ECORRUPT,
               "check reports the orphan body");
        ok(st->bodies->del(st->bodies, NULL, &bk, 0) == 0, "repair it");
    }

    /* Unknown format versions: the older format 2 (no change log) and a
     * future one. */
    ok(st->env->txn_begin(st->env, NULL, &txn, 0) == 0, "begin raw txn");
    fmt[3] = 2;
    val.data = fmt;
    val.size = 4;
    val.flags = 0;
    ok(st->meta->put(st->meta, txn, &key, &val, 0) == 0
       && txn->commit(txn, 0) == 0, "write format 2");
    calstore_close(st);
    is_int(calstore_open(&st, sub, &opts, pool), CALSTORE_EFORMAT,
           "open refuses format 2 (a store older than the change log)");
    is_int(calstore_prepare(sub, &opts, pool), CALSTORE_EFORMAT,
           "prepare refuses format 2");
    {
        /* Rewrite the record with a raw environment handle. */
        DB_ENV *env;
        DB *meta;

        ok(db_env_create(&env, 0) == 0
           && env->open(env, sub, DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK
                        | DB_INIT_LOG | DB_INIT_MPOOL, 0600) == 0
           && db_create(&meta, env, 0) == 0
           && meta->open(meta, NULL, "meta.db", NULL, DB_BTREE,
                         DB_AUTO_COMMIT, 0600) == 0,
           "open meta.db raw");
        fmt[3] = CALSTORE_FORMAT_VERSION + 1;
        ok(meta->put(meta, NULL, &key, &val, 0) == 0, "write a future format");
        meta->close(meta, 0);
        env->close(env, 0);
    }
    is_int(calstore_open(&st, sub, &opts, pool), CALSTORE_EFORMAT,
           "open refuses a future format");

    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* ---- B. put / read / conditions ----------------------------------------- */

static void test_put(void)
{
    apr_pool_t *pool;
    char *dir = make_tmpdir("put");
    calstore_t *st;
    calstore_node_t *n, *n2, *col;
    calstore_cond_t cond;
    const char *data;
    apr_size_t len, i;
    char bin[256], *big, etag[CALSTORE_ETAG_LEN], etag2[CALSTORE_ETAG_LEN];
    char want[64];
    apr_uint64_t r0;
    apr_time_t m0;
    int created, pe;

    diag("B. put / read / conditions (durable commits)");
    apr_pool_create(&pool, gpool);
    st = open_store(dir, CALSTORE_DURABILITY_SYNC, pool);
    ok(st != NULL, "open durable store");
    if (st == NULL) {
        return;
    }
    is_int(calstore_mkcol(st, "cal", &col, pool), APR_SUCCESS, "mkcol cal");
    is_int(col->kind, CALSTORE_KIND_COLLECTION, "cal is a collection");
    is_int(col->revision, 1, "new collection has revision 1");
    is_int(rev_of(st, "", pool), 2, "mkcol bumped the root");

    r0 = rev_of(st, "cal", pool);
    m0 = node_at(st, "cal", pool)->modified;
    created = -1;
    is_int(calstore_put(st, "cal/a.ics", "text/calendar", "BEGIN:X\r\n", 9,
                        NULL, &n, &created, pool), APR_SUCCESS, "put a.ics");
    is_int(created, 1, "created");
    is_int(n->revision, 1, "revision 1");
    is_int(n->length, 9, "length");
    is_str(n->content_type, "text/calendar", "content type");
    is_str(n->name, "a.ics", "name");
    is_int(n->parent, col->id, "parent id");
    is_int(n->kind, CALSTORE_KIND_RESOURCE, "kind resource");
    ok(n->created == n->modified && n->created > 0, "created == modified");
    is_int(rev_of(st, "cal", pool), r0 + 1, "parent revision bumped");
    ok(node_at(st, "cal", pool)->modified >= m0, "parent modified updated");

    is_int(calstore_lookup(st, "cal/a.ics", &n2, NULL, pool), APR_SUCCESS,
           "lookup a.ics");
    ok(n2->id == n->id && n2->revision == 1 && n2->length == 9
       && n2->created == n->created, "lookup returns the same node");
    is_int(calstore_read(st, n->id, &data, &len, pool), APR_SUCCESS, "read");
    ok(len == 9 && memcmp(data, "BEGIN:X\r\n", 9) == 0 && data[9] == '\0',
       "body bytes exact (and NUL-terminated)");

    calstore_etag(n, etag);
    snprintf(want, sizeof(want), "\"%llx-1\"", (unsigned long long)n->id);
    is_str(etag, want, "etag format");

    /* Replace. */
    r0 = rev_of(st, "cal", pool);
    is_int(calstore_put(st, "cal/a.ics", NULL, "v2", 2, NULL, &n2, &created,
                        pool), APR_SUCCESS, "replace a.ics");
    is_int(created, 0, "not created");
    is_int(n2->id, n->id, "replace keeps the id");
    is_int(n2->revision, 2, "replace bumps the revision");
    ok(n2->content_type == NULL, "content type replaced (none)");
    is_int(n2->created, n->created, "created time kept");
    calstore_etag(n2, etag2);
    ok(strcmp(etag, etag2) != 0, "etag changed");
    is_int(rev_of(st, "cal", pool), r0 + 1, "parent revision bumped again");
    is_str(read_str(st, "cal/a.ics", pool), "v2", "new body");

    /* Binary with NULs, empty, 1 MB. */
    for (i = 0; i < sizeof(bin); i++) {
        bin[i] = (char)i;
    }
    is_int(calstore_put(st, "cal/bin", "application/octet-stream", bin,
                        sizeof(bin), NULL, &n, NULL, pool), APR_SUCCESS,
           "put binary");
    ok(calstore_read(st, n->id, &data, &len, pool) == APR_SUCCESS
       && len == sizeof(bin) && memcmp(data, bin, len) == 0,
       "binary body with NULs exact");
    is_int(calstore_put(st, "cal/empty", NULL, NULL, 0, NULL, &n, NULL,
                        pool), APR_SUCCESS, "put empty body");
    ok(calstore_read(st, n->id, &data, &len, pool) == APR_SUCCESS
       && len == 0 && data != NULL, "empty body reads as 0 bytes");
    big = apr_palloc(pool, 1024 * 1024);
    for (i = 0; i < 1024 * 1024; i++) {
        big[i] = (char)(i * 7 + (i >> 11));
    }
    is_int(calstore_put(st, "cal/big", NULL, big, 1024 * 1024, NULL, &n,
                        NULL, pool), APR_SUCCESS, "put 1 MB");
    ok(calstore_read(st, n->id, &data, &len, pool) == APR_SUCCESS
       && len == 1024 * 1024 && memcmp(data, big, len) == 0,
       "1 MB body exact");
    is_int(n->length, 1024 * 1024, "1 MB length recorded");

    /* Errors. */
    pe = -1;
    is_int(calstore_lookup(st, "cal/nope", &n, &pe, pool), CALSTORE_ENOENT,
           "lookup missing member");
    is_int(pe, 1, "... parent exists");
    ok(n == NULL, "... node NULL");
    pe = -1;
    is_int(calstore_lookup(st, "nope/x", &n, &pe, pool), CALSTORE_ENOENT,
           "lookup below missing collection");
    is_int(pe, 0, "... parent does not exist");
    pe = -1;
    is_int(calstore_lookup(st, "cal/a.ics/x", &n, &pe, pool),
           CALSTORE_ENOENT, "lookup below a resource");
    is_int(pe, 0, "... parent is not a collection");
    is_int(put_str(st, "nope/x", "x", NULL, pool), CALSTORE_ENOPARENT,
           "put below missing collection");
    is_int(put_str(st, "cal/a.ics/x", "x", NULL, pool), CALSTORE_ENOPARENT,
           "put below a resource");
    is_int(put_str(st, "cal", "x", NULL, pool), CALSTORE_EISCOLL,
           "put onto a collection");
    is_int(put_str(st, "", "x", NULL, pool), CALSTORE_EISCOLL,
           "put onto the root");
    is_int(calstore_mkcol(st, "cal", NULL, pool), CALSTORE_EEXIST,
           "mkcol existing collection");
    is_int(calstore_mkcol(st, "cal/a.ics", NULL, pool), CALSTORE_EEXIST,
           "mkcol over a resource");
    is_int(calstore_mkcol(st, "", NULL, pool), CALSTORE_EEXIST,
           "mkcol root");
    is_int(calstore_mkcol(st, "x/y", NULL, pool), CALSTORE_ENOPARENT,
           "mkcol below missing collection");
    is_int(calstore_read(st, col->id, &data, &len, pool), CALSTORE_EISCOLL,
           "read a collection");
    is_int(calstore_read(st, 999999, &data, &len, pool), CALSTORE_ENOENT,
           "read a missing id");
    {
        char *longtype = apr_palloc(pool, 2000);

        memset(longtype, 'a', 1999);
        longtype[1999] = '\0';
        is_int(calstore_put(st, "cal/t", longtype, "x", 1, NULL, NULL, NULL,
                            pool), CALSTORE_EINVAL, "overlong content type");
    }

    /* Conditions. */
    cond.id = 0;
    cond.revision = 0;
    is_int(calstore_put(st, "cal/new", NULL, "1", 1, &cond, &n, &created,
                        pool), APR_SUCCESS, "If-None-Match: * on new path");
    r0 = rev_of(st, "cal", pool);
    is_int(calstore_put(st, "cal/new", NULL, "2", 1, &cond, NULL, NULL, pool),
           CALSTORE_ECHANGED, "If-None-Match: * on existing path");
    is_str(read_str(st, "cal/new", pool), "1", "... body untouched");
    is_int(rev_of(st, "cal/new", pool), 1, "... revision untouched");
    is_int(rev_of(st, "cal", pool), r0, "... parent untouched");
    cond.id = n->id;
    cond.revision = 7;
    is_int(calstore_put(st, "cal/new", NULL, "3", 1, &cond, NULL, NULL, pool),
           CALSTORE_ECHANGED, "If-Match with the wrong revision");
    is_str(read_str(st, "cal/new", pool), "1", "... body untouched");
    cond.revision = 1;
    cond.id = n->id + 1000;
    is_int(calstore_put(st, "cal/new", NULL, "3", 1, &cond, NULL, NULL, pool),
           CALSTORE_ECHANGED, "If-Match with the wrong id");
    cond.id = n->id;
    is_int(calstore_put(st, "cal/new", NULL, "4", 1, &cond, &n2, NULL, pool),
           APR_SUCCESS, "If-Match with the right id and revision");
    is_int(n2->revision, 2, "... revision 2");
    is_int(calstore_put(st, "cal/missing", NULL, "5", 1, &cond, NULL, NULL,
                        pool), CALSTORE_ECHANGED, "If-Match on a missing "
           "path");
    is_int(calstore_lookup(st, "cal/missing", &n, NULL, pool),
           CALSTORE_ENOENT, "... nothing created");
    cond.revision = 1;
    is_int(calstore_delete(st, "cal/new", &cond, pool), CALSTORE_ECHANGED,
           "delete with a stale condition");
    ok(node_at(st, "cal/new", pool) != NULL, "... node still there");
    cond.revision = 2;
    r0 = rev_of(st, "cal", pool);
    is_int(calstore_delete(st, "cal/new", &cond, pool), APR_SUCCESS,
           "delete with the right condition");
    is_int(rev_of(st, "cal", pool), r0 + 1, "delete bumped the parent");
    is_int(calstore_delete(st, "cal/new", NULL, pool), CALSTORE_ENOENT,
           "delete again: ENOENT");
    is_int(calstore_delete(st, "cal/new", &cond, pool), CALSTORE_ECHANGED,
           "conditional delete of a missing node: ECHANGED");
    is_int(calstore_delete(st, "", NULL, pool), CALSTORE_EINVAL,
           "the root cannot be deleted");

    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
    calstore_close(st);
    is_int(run_verify(dir), 0, "db5.3_verify passes on every file");
    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* ---- C. paths ----------------------------------------------------------- */

static void test_paths(calstore_t *st, apr_pool_t *pool)
{
    calstore_node_t *n;
    char seg[300];

    diag("C. path validation");
    is_int(calstore_mkcol(st, "p", NULL, pool), APR_SUCCESS, "mkcol p");
    is_int(put_str(st, "p/r", "x", NULL, pool), APR_SUCCESS, "put p/r");
    is_int(id_of(st, "/p/r", pool), id_of(st, "p/r", pool),
           "a leading '/' is tolerated");
    is_int(id_of(st, "p/", pool), id_of(st, "p", pool),
           "a trailing '/' is tolerated");
    is_int(id_of(st, "/", pool), CALSTORE_ROOT_ID, "\"/\" is the root");
    is_int(calstore_lookup(st, "p//r", &n, NULL, pool), CALSTORE_EINVAL,
           "empty segment");
    is_int(calstore_lookup(st, "//p", &n, NULL, pool), CALSTORE_EINVAL,
           "two leading slashes");
    is_int(calstore_lookup(st, "p/r//", &n, NULL, pool), CALSTORE_EINVAL,
           "two trailing slashes");
    is_int(calstore_lookup(st, "./p", &n, NULL, pool), CALSTORE_EINVAL,
           "\".\" segment");
    is_int(calstore_lookup(st, "p/..", &n, NULL, pool), CALSTORE_EINVAL,
           "\"..\" segment");
    is_int(put_str(st, "p/../r", "x", NULL, pool), CALSTORE_EINVAL,
           "put with \"..\"");
    is_int(calstore_mkcol(st, "p/./q", NULL, pool), CALSTORE_EINVAL,
           "mkcol with \".\"");
    is_int(calstore_lookup(st, NULL, &n, NULL, pool), CALSTORE_EINVAL,
           "NULL path");
    memset(seg, 'x', sizeof(seg));
    seg[255] = '\0';
    is_int(put_str(st, apr_pstrcat(pool, "p/", seg, NULL), "x", NULL, pool),
           APR_SUCCESS, "255-byte segment accepted");
    seg[255] = 'x';
    seg[256] = '\0';
    is_int(put_str(st, apr_pstrcat(pool, "p/", seg, NULL), "x", NULL, pool),
           CALSTORE_EINVAL, "256-byte segment refused");
    is_int(put_str(st, "p/..x", "x", NULL, pool), APR_SUCCESS,
           "\"..x\" is an ordinary name");
    is_int(put_str(st, "p/caf\xc3\xa9 & co.ics", "x", NULL, pool),
           APR_SUCCESS, "UTF-8 and spaces in names");
    is_str(read_str(st, "p/caf\xc3\xa9 & co.ics", pool), "x",
           "... readable");
}

/* ---- D. list ------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_list(calstore_t *st, apr_pool_t *pool)
{
    calstore_node_t *big, *n;
    collect_t *c;
    apr_array_header_t *want;
    int i, in_order = 1, ids_ok = 1;
    apr_status_t rv;

    diag("D. list");
    is_int(calstore_mkcol(st, "big", &big, pool), APR_SUCCESS, "mkcol big");
    is_int(calstore_mkcol(st, "other", NULL, pool), APR_SUCCESS,
           "mkcol other");
    want = apr_array_make(pool, 300, sizeof(char *));
    rv = APR_SUCCESS;
    /* Insert in a scrambled order. */
    for (i = 0; i < 300 && rv == APR_SUCCESS; i++) {
        int k = (i * 7919) % 300;
        char *name = apr_psprintf(pool, "m%03d", k);

        APR_ARRAY_PUSH(want, char *) = name;
        rv = put_str(st, apr_pstrcat(pool, "big/", name, NULL), name, NULL,
                     pool);
    }
    is_int(rv, APR_SUCCESS, "300 puts");
    is_int(calstore_mkcol(st, "big/zcol", NULL, pool), APR_SUCCESS,
           "a member collection too");
    APR_ARRAY_PUSH(want, char *) = "zcol";
    qsort(want->elts, want->nelts, sizeof(char *), cmp_str);

    c = collect_new(st, pool);
    c->reenter = 1;
    is_int(calstore_list(st, big->id, collect_cb, c, pool), APR_SUCCESS,
           "list 301 members (callback re-enters the store)");
    is_int(c->names->nelts, 301, "every member seen once");
    for (i = 0; i < c->names->nelts && i < want->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(c->names, i, char *),
                   APR_ARRAY_IDX(want, i, char *)) != 0) {
            in_order = 0;
        }
        if (APR_ARRAY_IDX(c->ids, i, calstore_id_t)
            != id_of(st, apr_pstrcat(pool, "big/",
                                     APR_ARRAY_IDX(want, i, char *), NULL),
                     pool)) {
            ids_ok = 0;
        }
    }
    ok(in_order, "members in name order across batches");
    ok(ids_ok, "member ids match lookups");
    is_int(c->reenter_failures, 0, "reads and writes from the callback "
           "succeeded");
    is_int(rev_of(st, "other", pool), 1 + 6, "callback wrote 6 resources");

    c = collect_new(st, pool);
    is_int(calstore_list(st, CALSTORE_ROOT_ID, collect_cb, c, pool),
           APR_SUCCESS, "list the root");
    ok(c->names->nelts >= 3
       && !strcmp(APR_ARRAY_IDX(c->names, 0, char *), "big"),
       "root members listed (%d)", c->names->nelts);

    c = collect_new(st, pool);
    c->stop_after = 130;
    is_int(calstore_list(st, big->id, collect_cb, c, pool), APR_EGENERAL,
           "callback error stops the iteration and is returned");
    is_int(c->names->nelts, 130, "... after exactly 130 members");

    c = collect_new(st, pool);
    is_int(calstore_list(st, id_of(st, "big/m000", pool), collect_cb, c,
                         pool), CALSTORE_ENOTCOLL, "list a resource");
    is_int(calstore_list(st, 987654321, collect_cb, c, pool),
           CALSTORE_ENOENT, "list a missing id");
    is_int(calstore_list(st, id_of(st, "big/zcol", pool), collect_cb, c,
                         pool), APR_SUCCESS, "list an empty collection");
    is_int(c->names->nelts, 0, "... no callbacks");
    is_int(calstore_list(st, 0, collect_cb, c, pool), CALSTORE_EINVAL,
           "list id 0");

    /* Byte order of names. */
    calstore_mkcol(st, "ord", &n, pool);
    put_str(st, "ord/b", "x", NULL, pool);
    put_str(st, "ord/B", "x", NULL, pool);
    put_str(st, "ord/\xc3\xa4", "x", NULL, pool);
    put_str(st, "ord/a", "x", NULL, pool);
    put_str(st, "ord/ab", "x", NULL, pool);
    c = collect_new(st, pool);
    calstore_list(st, n->id, collect_cb, c, pool);
    ok(c->names->nelts == 5
       && !strcmp(APR_ARRAY_IDX(c->names, 0, char *), "B")
       && !strcmp(APR_ARRAY_IDX(c->names, 1, char *), "a")
       && !strcmp(APR_ARRAY_IDX(c->names, 2, char *), "ab")
       && !strcmp(APR_ARRAY_IDX(c->names, 3, char *), "b")
       && !strcmp(APR_ARRAY_IDX(c->names, 4, char *), "\xc3\xa4"),
       "names sort by bytes");
}

/* ---- E. delete ---------------------------------------------------------- */

static void test_delete(calstore_t *st, apr_pool_t *pool)
{
    apr_size_t c0[5], c1[5], c2[5];
    calstore_id_t ids[8];
    const char *paths[8] = { "t", "t/r0", "t/c1", "t/c1/r1", "t/c1/c2",
                             "t/c1/c2/r2", "t/c1/c2/c3", "t/c1/c2/c3/r3" };
    const char *data;
    apr_size_t len;
    apr_uint64_t rootrev;
    int i, gone = 1, propsgone = 1;

    diag("E. recursive delete");
    is_int(counts(st, c0), APR_SUCCESS, "baseline counts");
    for (i = 0; i < 8; i++) {
        apr_status_t rv = (i % 2 == 0) ? calstore_mkcol(st, paths[i], NULL,
                                                        pool)
                                       : put_str(st, paths[i], paths[i],
                                                 NULL, pool);

        ids[i] = id_of(st, paths[i], pool);
        if (rv != APR_SUCCESS || ids[i] == 0
            || set_prop(st, ids[i], "DAV:", "displayname", paths[i], pool)
               != APR_SUCCESS
            || set_prop(st, ids[i], "", "x", "y", pool) != APR_SUCCESS) {
            break;
        }
    }
    is_int(i, 8, "built a tree of depth 4 with properties");
    is_int(counts(st, c1), APR_SUCCESS, "counts with the tree");
    ok(c1[1] == c0[1] + 8 && c1[2] == c0[2] + 8 && c1[3] == c0[3] + 4
       && c1[4] == c0[4] + 16, "tree added 8 nodes, 8 byid, 4 bodies, "
       "16 props");
    rootrev = rev_of(st, "", pool);
    is_int(calstore_delete(st, "t", NULL, pool), APR_SUCCESS, "delete t");
    is_int(counts(st, c2), APR_SUCCESS, "counts after delete");
    ok(memcmp(c0, c2, sizeof(c0)) == 0, "every node, byid, body and "
       "property of the subtree is gone");
    for (i = 0; i < 8; i++) {
        if (node_at(st, paths[i], pool) != NULL) {
            gone = 0;
        }
        if (get_prop(st, ids[i], "DAV:", "displayname", pool) != NULL) {
            propsgone = 0;
        }
    }
    ok(gone, "no path of the subtree resolves");
    ok(propsgone, "no property of the subtree is readable");
    is_int(calstore_read(st, ids[7], &data, &len, pool), CALSTORE_ENOENT,
           "deepest body is gone");
    is_int(set_prop(st, ids[3], "", "x", "y", pool), CALSTORE_ENOENT,
           "prop_patch on a deleted id: ENOENT");
    is_int(rev_of(st, "", pool), rootrev + 1, "parent bumped once");

    /* Wider than one batch. */
    calstore_mkcol(st, "w", NULL, pool);
    calstore_mkcol(st, "w/sub", NULL, pool);
    for (i = 0; i < 300; i++) {
        put_str(st, apr_psprintf(pool, "w/%s%d", i % 2 ? "sub/" : "", i),
                "x", NULL, pool);
    }
    is_int(calstore_delete(st, "w", NULL, pool), APR_SUCCESS,
           "delete a collection of 300 resources");
    is_int(counts(st, c2), APR_SUCCESS, "counts");
    ok(memcmp(c0, c2, sizeof(c0)) == 0, "... all gone");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
}

/* ---- F. copy ------------------------------------------------------------ */

static void test_copy(calstore_t *st, apr_pool_t *pool)
{
    calstore_node_t *n, *old;
    collect_t *c;
    apr_size_t c0[5], c1[5];
    calstore_id_t src_id, a_id;

    diag("F. copy");
    calstore_mkcol(st, "src", NULL, pool);
    calstore_mkcol(st, "src/sub", NULL, pool);
    put_str(st, "src/a.ics", "AAA", NULL, pool);
    put_str(st, "src/sub/b.ics", "BBB", NULL, pool);
    src_id = id_of(st, "src", pool);
    a_id = id_of(st, "src/a.ics", pool);
    set_prop(st, src_id, "DAV:", "displayname", "Source", pool);
    set_prop(st, a_id, "urn:x", "color", "red", pool);
    set_prop(st, id_of(st, "src/sub/b.ics", pool), "", "p", "b", pool);

    counts(st, c0);
    is_int(calstore_copy(st, "src", "dst0", 0, 0, &n, pool), APR_SUCCESS,
           "copy depth 0");
    ok(n->id != src_id && n->kind == CALSTORE_KIND_COLLECTION
       && n->revision == 1, "new collection with a new id");
    is_str(get_prop(st, n->id, "DAV:", "displayname", pool), "Source",
           "properties copied");
    c = collect_new(st, pool);
    calstore_list(st, n->id, collect_cb, c, pool);
    is_int(c->names->nelts, 0, "no members copied at depth 0");
    counts(st, c1);
    ok(c1[1] == c0[1] + 1 && c1[2] == c0[2] + 1 && c1[3] == c0[3]
       && c1[4] == c0[4] + 1, "depth 0 added 1 node and 1 property");

    is_int(calstore_copy(st, "src", "dst", -1, 0, &n, pool), APR_SUCCESS,
           "copy depth infinity");
    c = collect_new(st, pool);
    calstore_list(st, n->id, collect_cb, c, pool);
    ok(c->names->nelts == 2
       && !strcmp(APR_ARRAY_IDX(c->names, 0, char *), "a.ics")
       && !strcmp(APR_ARRAY_IDX(c->names, 1, char *), "sub"),
       "members copied");
    is_str(read_str(st, "dst/sub/b.ics", pool), "BBB", "deep body copied");
    ok(id_of(st, "dst/a.ics", pool) != a_id
       && id_of(st, "dst/sub", pool) != id_of(st, "src/sub", pool)
       && id_of(st, "dst/sub/b.ics", pool)
          != id_of(st, "src/sub/b.ics", pool), "every copy has a new id");
    is_str(get_prop(st, id_of(st, "dst/a.ics", pool), "urn:x", "color",
                    pool), "red", "member property copied");
    is_str(get_prop(st, id_of(st, "dst/sub/b.ics", pool), "", "p", pool),
           "b", "deep property copied");
    is_int(rev_of(st, "dst/a.ics", pool), 1, "copies start at revision 1");
    is_str(read_str(st, "src/a.ics", pool), "AAA", "source untouched");

    is_int(calstore_copy(st, "src/a.ics", "src/a2.ics", 0, 0, &n, pool),
           APR_SUCCESS, "copy a resource");
    ok(n->id != a_id && n->length == 3, "new id, same length");
    is_str(read_str(st, "src/a2.ics", pool), "AAA", "same body");

    /* Overwrite. */
    is_int(calstore_copy(st, "src/a.ics", "dst/sub", 0, 0, NULL, pool),
           CALSTORE_EEXIST, "copy onto an existing node");
    old = node_at(st, "dst/sub", pool);
    counts(st, c0);
    is_int(calstore_copy(st, "src/a.ics", "dst/sub", 0, 1, &n, pool),
           APR_SUCCESS, "copy with overwrite");
    is_int(n->kind, CALSTORE_KIND_RESOURCE, "destination replaced");
    ok(n->id != old->id, "... by a new id");
    is_str(read_str(st, "dst/sub", pool), "AAA", "... with the source body");
    ok(node_at(st, "dst/sub/b.ics", pool) == NULL,
       "the replaced subtree is gone");
    counts(st, c1);
    ok(c1[1] == c0[1] - 1 && c1[4] == c0[4], "2 nodes out, 1 in; 1 property "
       "out, 1 in");

    is_int(calstore_copy(st, "src", "src", -1, 1, NULL, pool),
           CALSTORE_EINVAL, "copy onto itself");
    is_int(calstore_copy(st, "src", "src/sub/x", -1, 0, NULL, pool),
           CALSTORE_EINVAL, "copy into own subtree");
    is_int(calstore_copy(st, "src/sub", "src", -1, 1, NULL, pool),
           CALSTORE_EINVAL, "copy over own ancestor with overwrite");
    is_int(calstore_copy(st, "src/sub", "src", -1, 0, NULL, pool),
           CALSTORE_EEXIST, "copy over own ancestor without overwrite");
    is_int(calstore_copy(st, "", "x", -1, 0, NULL, pool), CALSTORE_EINVAL,
           "copy the root");
    is_int(calstore_copy(st, "nope", "x", -1, 0, NULL, pool),
           CALSTORE_ENOENT, "copy a missing source");
    is_int(calstore_copy(st, "src", "nope/x", -1, 0, NULL, pool),
           CALSTORE_ENOPARENT, "copy below a missing collection");
    is_int(calstore_copy(st, "src", "y", 1, 0, NULL, pool), CALSTORE_EINVAL,
           "depth 1 is not a copy depth");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
}

/* ---- G. move ------------------------------------------------------------ */

static void test_move(calstore_t *st, apr_pool_t *pool)
{
    calstore_node_t *n, *x, *victim;
    char e1[CALSTORE_ETAG_LEN], e2[CALSTORE_ETAG_LEN];
    apr_uint64_t r1, r2;
    calstore_id_t mid;

    diag("G. move");
    calstore_mkcol(st, "m", NULL, pool);
    calstore_mkcol(st, "m/sub", NULL, pool);
    put_str(st, "m/x.ics", "XXX", NULL, pool);
    put_str(st, "m/sub/y.ics", "YYY", NULL, pool);
    calstore_mkcol(st, "dest", NULL, pool);
    mid = id_of(st, "m", pool);
    set_prop(st, mid, "DAV:", "displayname", "M", pool);

    is_int(calstore_move(st, "m", "m2", 0, &n, pool), APR_SUCCESS,
           "move a collection");
    is_int(n->id, mid, "id kept");
    is_str(n->name, "m2", "new name");
    ok(node_at(st, "m", pool) == NULL, "old path gone");
    is_str(read_str(st, "m2/sub/y.ics", pool), "YYY", "members followed");
    is_str(get_prop(st, mid, "DAV:", "displayname", pool), "M",
           "properties followed");
    {
        calstore_node_t *g;
        const char *gp;
        calstore_id_t yid = id_of(st, "m2/sub/y.ics", pool);

        is_int(calstore_get_node(st, yid, &g, &gp, pool), APR_SUCCESS,
               "get_node by id");
        ok(g && g->id == yid && !strcmp(g->name, "y.ics"), "... the node");
        is_str(gp, "m2/sub/y.ics", "... its path after the move");
        is_int(calstore_get_node(st, CALSTORE_ROOT_ID, &g, &gp, pool),
               APR_SUCCESS, "get_node of the root");
        is_str(gp, "", "... path \"\"");
        is_int(calstore_get_node(st, APR_UINT64_C(0x7FFFFFFFFFFF), &g, &gp,
                                 pool), CALSTORE_ENOENT,
               "an unknown id: ENOENT");
        ok(g == NULL && gp == NULL, "... outputs cleared");
    }

    x = node_at(st, "m2/x.ics", pool);
    calstore_etag(x, e1);
    set_prop(st, x->id, "", "keep", "me", pool);
    r1 = rev_of(st, "m2", pool);
    r2 = rev_of(st, "dest", pool);
    is_int(calstore_move(st, "m2/x.ics", "dest/x.ics", 0, &n, pool),
           APR_SUCCESS, "move a resource to another collection");
    calstore_etag(n, e2);
    ok(n->id == x->id && n->revision == x->revision && !strcmp(e1, e2),
       "id, revision and etag kept");
    is_int(n->parent, id_of(st, "dest", pool), "new parent");
    is_int(rev_of(st, "m2", pool), r1 + 1, "source parent bumped");
    is_int(rev_of(st, "dest", pool), r2 + 1, "destination parent bumped");
    is_str(get_prop(st, x->id, "", "keep", pool), "me", "property kept");
    r2 = rev_of(st, "dest", pool);
    is_int(calstore_move(st, "dest/x.ics", "dest/renamed.ics", 0, NULL,
                         pool), APR_SUCCESS, "rename within a collection");
    is_int(rev_of(st, "dest", pool), r2 + 2, "parent bumped twice (old name "
           "removed, new name added)");
    is_int(id_of(st, "dest/renamed.ics", pool), x->id, "same id");

    /* Overwrite. */
    put_str(st, "dest/victim.ics", "VVV", &victim, pool);
    set_prop(st, victim->id, "", "v", "1", pool);
    is_int(calstore_move(st, "dest/renamed.ics", "dest/victim.ics", 0, NULL,
                         pool), CALSTORE_EEXIST, "move onto an existing node");
    is_int(calstore_move(st, "dest/renamed.ics", "dest/victim.ics", 1, &n,
                         pool), APR_SUCCESS, "move with overwrite");
    is_int(n->id, x->id, "moved node keeps its id");
    is_str(read_str(st, "dest/victim.ics", pool), "XXX", "destination "
           "replaced");
    ok(node_at(st, "dest/renamed.ics", pool) == NULL, "source gone");
    ok(get_prop(st, victim->id, "", "v", pool) == NULL,
       "overwritten node's properties are gone");
    is_int(calstore_move(st, "m2", "m2/sub/z", 0, NULL, pool),
           CALSTORE_EINVAL, "move into own subtree");
    is_int(calstore_move(st, "m2", "m2", 1, NULL, pool), CALSTORE_EINVAL,
           "move onto itself");
    is_int(calstore_move(st, "m2/sub", "m2", 1, NULL, pool),
           CALSTORE_EINVAL, "move over own ancestor");
    is_int(calstore_move(st, "", "r", 0, NULL, pool), CALSTORE_EINVAL,
           "move the root");
    is_int(calstore_move(st, "m2", "", 1, NULL, pool), CALSTORE_EINVAL,
           "move onto the root");
    is_int(calstore_move(st, "nope", "x", 0, NULL, pool), CALSTORE_ENOENT,
           "move a missing node");
    is_int(calstore_move(st, "m2", "nope/x", 0, NULL, pool),
           CALSTORE_ENOPARENT, "move below a missing collection");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
}

/* ---- H. properties ------------------------------------------------------ */

static void test_props(calstore_t *st, apr_pool_t *pool)
{
    apr_array_header_t *patch, *list;
    calstore_prop_t *p;
    calstore_node_t *n;
    const char *v;
    apr_size_t len;
    char etag1[CALSTORE_ETAG_LEN], etag2[CALSTORE_ETAG_LEN];

    diag("H. dead properties");
    put_str(st, "pr.ics", "x", &n, pool);
    calstore_etag(n, etag1);
    patch = apr_array_make(pool, 4, sizeof(calstore_prop_t));
    p = apr_array_push(patch);
    p->ns = "urn:x";
    p->name = "bin";
    p->value = "a\0b";
    p->len = 3;
    p = apr_array_push(patch);
    p->ns = "DAV:";
    p->name = "displayname";
    p->value = "Home";
    p->len = 4;
    p = apr_array_push(patch);
    p->ns = "";
    p->name = "plain";
    p->value = "first";
    p->len = 5;
    p = apr_array_push(patch);
    p->ns = "";
    p->name = "plain";
    p->value = "v1";
    p->len = 2;
    is_int(calstore_prop_patch(st, n->id, patch, pool), APR_SUCCESS,
           "patch sets 3 properties (one twice)");
    ok(calstore_prop_get(st, n->id, "urn:x", "bin", &v, &len, pool)
       == APR_SUCCESS && len == 3 && memcmp(v, "a\0b", 3) == 0,
       "binary value exact");
    is_str(get_prop(st, n->id, "", "plain", pool), "v1",
           "no-namespace property, last set wins");
    is_str(get_prop(st, n->id, "DAV:", "displayname", pool), "Home",
           "namespaced property");
    ok(get_prop(st, n->id, "DAV:", "plain", pool) == NULL
       && get_prop(st, n->id, "", "displayname", pool) == NULL,
       "namespace is part of the name");
    is_int(calstore_prop_list(st, n->id, &list, pool), APR_SUCCESS,
           "list properties");
    ok(list->nelts == 3
       && !strcmp(APR_ARRAY_IDX(list, 0, calstore_prop_t).ns, "")
       && !strcmp(APR_ARRAY_IDX(list, 0, calstore_prop_t).name, "plain")
       && !strcmp(APR_ARRAY_IDX(list, 1, calstore_prop_t).ns, "DAV:")
       && !strcmp(APR_ARRAY_IDX(list, 2, calstore_prop_t).ns, "urn:x")
       && APR_ARRAY_IDX(list, 2, calstore_prop_t).len == 3,
       "three properties in key order");

    apr_array_clear(patch);
    p = apr_array_push(patch);
    p->ns = "DAV:";
    p->name = "displayname";
    p->value = NULL;
    p = apr_array_push(patch);
    p->ns = "DAV:";
    p->name = "never-set";
    p->value = NULL;
    is_int(calstore_prop_patch(st, n->id, patch, pool), APR_SUCCESS,
           "remove one set and one unset property");
    is_int(calstore_prop_get(st, n->id, "DAV:", "displayname", &v, &len,
                             pool), CALSTORE_ENOENT, "removed");
    calstore_prop_list(st, n->id, &list, pool);
    is_int(list->nelts, 2, "two left");
    calstore_etag(node_at(st, "pr.ics", pool), etag2);
    is_str(etag2, etag1, "properties do not change the etag");
    is_int(calstore_prop_patch(st, 424242, patch, pool), CALSTORE_ENOENT,
           "patch a missing node");
    calstore_prop_list(st, 424242, &list, pool);
    is_int(list->nelts, 0, "a missing node has no properties");
    is_int(calstore_prop_get(st, n->id, NULL, "x", &v, &len, pool),
           CALSTORE_EINVAL, "NULL namespace refused");
    is_int(set_prop(st, n->id, "", "", "x", pool), CALSTORE_EINVAL,
           "empty name refused");
}

/* ---- I. threads --------------------------------------------------------- */

#define NTHREADS 4
#define NPUTS    200

typedef struct thread_arg_t {
    calstore_t *st;
    const calstore_node_t *parent;  /* I4: the calendar put into */
    int n;
    int failures;
    apr_status_t last;
} thread_arg_t;

/* Run 'fn' in 'n' threads, thread i on a fresh thread_arg_t { st, parent,
 * i }, wait for them all, report those that failed; returns the number of
 * failures of all of them. */
static int run_threads(apr_thread_start_t fn, int n, calstore_t *st,
                       const calstore_node_t *parent, apr_pool_t *pool)
{
    apr_thread_t **th = apr_pcalloc(pool, n * sizeof(*th));
    thread_arg_t *args = apr_pcalloc(pool, n * sizeof(*args));
    apr_status_t trv;
    int i, failures = 0;
    char buf[128];

    for (i = 0; i < n; i++) {
        args[i].st = st;
        args[i].parent = parent;
        args[i].n = i;
        args[i].last = APR_SUCCESS;
        apr_thread_create(&th[i], NULL, fn, &args[i], pool);
    }
    for (i = 0; i < n; i++) {
        apr_thread_join(&trv, th[i]);
        failures += args[i].failures;
        if (args[i].failures) {
            diag("thread %d: %d failures, last %s", i, args[i].failures,
                 calstore_strerror(args[i].last, buf, sizeof(buf)));
        }
    }
    return failures;
}

static void *APR_THREAD_FUNC writer(apr_thread_t *t, void *data)
{
    thread_arg_t *a = data;
    apr_pool_t *pool, *iter;
    apr_status_t rv;
    int i;

    apr_pool_create(&pool, NULL);
    apr_pool_create(&iter, pool);
    for (i = 0; i < NPUTS; i++) {
        apr_pool_clear(iter);
        if (i % 4 == 0) {
            rv = put_str(a->st, "c/shared", apr_psprintf(iter, "%d-%d", a->n,
                                                         i), NULL, iter);
        }
        else {
            rv = put_str(a->st, apr_psprintf(iter, "c/t%d-%d", a->n, i),
                         "x", NULL, iter);
        }
        if (rv != APR_SUCCESS) {
            a->failures++;
            a->last = rv;
        }
    }
    apr_pool_destroy(pool);
    /* Return rather than apr_thread_exit(): pthread_exit() skips the
     * frame epilogue and trips AddressSanitizer's stack checks. */
    return NULL;
}

static void test_threads(void)
{
    apr_pool_t *pool;
    char *dir = make_tmpdir("threads");
    calstore_t *st;
    collect_t *c;
    int failures;
    apr_time_t t0;

    diag("I. %d threads x %d conflicting puts", NTHREADS, NPUTS);
    apr_pool_create(&pool, gpool);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL, "open (WRITE_NOSYNC)");
    if (st == NULL) {
        return;
    }
    calstore_mkcol(st, "c", NULL, pool);
    put_str(st, "c/shared", "0", NULL, pool);
    t0 = apr_time_now();
    failures = run_threads(writer, NTHREADS, st, NULL, pool);
    diag("%d puts in %" APR_TIME_T_FMT " ms", NTHREADS * NPUTS,
         (apr_time_now() - t0) / 1000);
    is_int(failures, 0, "every put succeeded");
    is_int(rev_of(st, "c", pool), 1 + 1 + NTHREADS * NPUTS,
           "collection revision counts every write exactly once");
    is_int(rev_of(st, "c/shared", pool), 1 + NTHREADS * NPUTS / 4,
           "shared resource revision counts every replace");
    c = collect_new(st, pool);
    calstore_list(st, id_of(st, "c", pool), collect_cb, c, pool);
    is_int(c->names->nelts, 1 + NTHREADS * NPUTS * 3 / 4, "member count");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
    calstore_close(st);
    is_int(run_verify(dir), 0, "db5.3_verify passes");
    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* Ids belong to their store: after one store is closed, another opened
 * (perhaps at the same address) starts from its own sequence, and ids
 * handed out to several threads never repeat (a guard for any cache of
 * ids kept outside the sequence). */
typedef struct idput_arg_t {
    calstore_t *st;
    int failures;
} idput_arg_t;

static void *APR_THREAD_FUNC idput_worker(apr_thread_t *t, void *data)
{
    idput_arg_t *a = data;
    apr_pool_t *pool;
    int i;

    apr_pool_create(&pool, NULL);
    for (i = 0; i < 70; i++) {
        if (put_str(a->st, apr_psprintf(pool, "t%d", i), "x", NULL, pool)
            != APR_SUCCESS) {
            a->failures++;
        }
    }
    apr_pool_destroy(pool);
    return NULL;
}

static void test_id_blocks(void)
{
    apr_pool_t *pool;
    char *d1 = make_tmpdir("ids1"), *d2 = make_tmpdir("ids2");
    calstore_t *st;
    calstore_node_t *n1 = NULL, *n2 = NULL;
    apr_thread_t *th;
    idput_arg_t arg;
    apr_status_t trv;
    collect_t *c;
    apr_hash_t *seen;
    int i, dups = 0;

    diag("I. ids per store, across threads");
    apr_pool_create(&pool, gpool);
    st = open_store(d1, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL && put_str(st, "a", "x", &n1, pool) == APR_SUCCESS,
       "a first store, one put");
    calstore_close(st);
    st = open_store(d2, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL && put_str(st, "b", "x", &n2, pool) == APR_SUCCESS,
       "a second store, one put from the same thread");
    if (st == NULL || n1 == NULL || n2 == NULL) {
        return;
    }
    is_int(n2->id, n1->id, "the second store's first id is its own "
           "sequence's first");
    arg.st = st;
    arg.failures = 0;
    apr_thread_create(&th, NULL, idput_worker, &arg, pool);
    apr_thread_join(&trv, th);
    is_int(arg.failures, 0, "70 puts from another thread");
    c = collect_new(st, pool);
    calstore_list(st, 1, collect_cb, c, pool);
    seen = apr_hash_make(pool);
    for (i = 0; i < c->ids->nelts; i++) {
        calstore_id_t *id = &APR_ARRAY_IDX(c->ids, i, calstore_id_t);

        if (apr_hash_get(seen, id, sizeof(*id))) {
            dups++;
        }
        apr_hash_set(seen, id, sizeof(*id), id);
    }
    is_int(c->ids->nelts, 71, "71 members");
    is_int(dups, 0, "no id handed out twice");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
    calstore_close(st);
    apr_pool_destroy(pool);
    rm_rf(d1);
    rm_rf(d2);
}

/* Two threads moving resources in opposite directions between two
 * collections whose records sit on different B-tree pages: each move
 * write-locks its source collection first, then the destination, so the
 * two threads deadlock and Berkeley DB's detector makes one retry. */

#define NMOVES 50

typedef struct mover_arg_t {
    calstore_t *st;
    const char *from;
    const char *to;
    const char *prefix;
    int failures;
    apr_status_t last;
} mover_arg_t;

static void *APR_THREAD_FUNC mover(apr_thread_t *t, void *data)
{
    mover_arg_t *a = data;
    apr_pool_t *pool;
    apr_status_t rv;
    int i;

    apr_pool_create(&pool, NULL);
    for (i = 0; i < NMOVES; i++) {
        apr_pool_clear(pool);
        rv = calstore_move(a->st,
                           apr_psprintf(pool, "%s/%s%d", a->from, a->prefix,
                                        i),
                           apr_psprintf(pool, "%s/%s%d", a->to, a->prefix,
                                        i), 0, NULL, pool);
        if (rv != APR_SUCCESS) {
            a->failures++;
            a->last = rv;
        }
    }
    apr_pool_destroy(pool);
    return NULL;
}

static void test_deadlocks(void)
{
    apr_pool_t *pool, *iter;
    char *dir = make_tmpdir("deadlock");
    calstore_t *st;
    apr_thread_t *th[2];
    mover_arg_t args[2];
    apr_status_t trv, rv = APR_SUCCESS;
    apr_uint64_t ra, rz;
    collect_t *ca, *cz;
    int i, retries0;
    char buf[128];

    diag("I2. opposite moves (deadlock retry)");
    apr_pool_create(&pool, gpool);
    /* The movers are made to deadlock on purpose, over and over: with the
     * default 8 retries an unlucky run (a loaded machine) can exhaust them
     * (seen once).  What is tested here is that deadlocks are retried and
     * nothing is lost, so give the retries room. */
    st = open_store_retries(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, 200, pool);
    ok(st != NULL, "open");
    if (st == NULL) {
        return;
    }
    apr_pool_create(&iter, pool);
    calstore_mkcol(st, "a", NULL, pool);
    calstore_mkcol(st, "z", NULL, pool);
    /* Fillers between "a" and "z" push their records onto different
     * pages. */
    for (i = 0; i < 400 && rv == APR_SUCCESS; i++) {
        apr_pool_clear(iter);
        rv = put_str(st, apr_psprintf(iter, "m%03d-filler-filler", i), "x",
                     NULL, iter);
    }
    for (i = 0; i < NMOVES && rv == APR_SUCCESS; i++) {
        apr_pool_clear(iter);
        rv = put_str(st, apr_psprintf(iter, "a/p%d", i), "pa", NULL, iter);
        if (rv == APR_SUCCESS) {
            rv = put_str(st, apr_psprintf(iter, "z/q%d", i), "qz", NULL,
                         iter);
        }
    }
    is_int(rv, APR_SUCCESS, "set up");
    ra = rev_of(st, "a", pool);
    rz = rev_of(st, "z", pool);
    retries0 = log_retries;
    calstore__test_move_delay = 1000;
    args[0].st = args[1].st = st;
    args[0].from = args[1].to = "a";
    args[0].to = args[1].from = "z";
    args[0].prefix = "p";
    args[1].prefix = "q";
    for (i = 0; i < 2; i++) {
        args[i].failures = 0;
        args[i].last = APR_SUCCESS;
        apr_thread_create(&th[i], NULL, mover, &args[i], pool);
    }
    for (i = 0; i < 2; i++) {
        apr_thread_join(&trv, th[i]);
        if (args[i].failures) {
            diag("mover %d: %d failures, last %s", i, args[i].failures,
                 calstore_strerror(args[i].last, buf, sizeof(buf)));
        }
    }
    calstore__test_move_delay = 0;
    ok(log_retries > retries0, "deadlocks happened and were retried (%d)",
       log_retries - retries0);
    is_int(args[0].failures + args[1].failures, 0, "every move succeeded");
    is_int(rev_of(st, "a", pool), ra + 2 * NMOVES, "a: every move out and "
           "in counted once");
    is_int(rev_of(st, "z", pool), rz + 2 * NMOVES, "z: likewise");
    ca = collect_new(st, pool);
    cz = collect_new(st, pool);
    calstore_list(st, id_of(st, "a", pool), collect_cb, ca, pool);
    calstore_list(st, id_of(st, "z", pool), collect_cb, cz, pool);
    ok(ca->names->nelts == NMOVES && cz->names->nelts == NMOVES
       && APR_ARRAY_IDX(ca->names, 0, char *)[0] == 'q'
       && APR_ARRAY_IDX(cz->names, 0, char *)[0] == 'p',
       "the two sets swapped collections");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
    calstore_close(st);
    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* ---- J. processes ------------------------------------------------------- */

#define NCHILD_PUTS 150

static int child_writer(const char *dir, int n)
{
    apr_pool_t *pool, *iter;
    calstore_t *st;
    int i, bad = 0;

    alarm(30);
    apr_pool_create(&pool, NULL);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    if (st == NULL) {
        return 2;
    }
    apr_pool_create(&iter, pool);
    for (i = 0; i < NCHILD_PUTS; i++) {
        apr_pool_clear(iter);
        if (put_str(st, apr_psprintf(iter, "c/p%d-%d", n, i), "x", NULL,
                    iter) != APR_SUCCESS) {
            bad++;
        }
    }
    calstore_close(st);
    return bad ? 1 : 0;
}

static void test_processes(void)
{
    apr_pool_t *pool, *iter;
    char *dir = make_tmpdir("procs");
    calstore_t *st;
    pid_t pids[2];
    collect_t *c;
    int i, bad = 0, status[2];

    diag("J. two processes and the parent writing at once");
    apr_pool_create(&pool, gpool);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL, "open");
    if (st == NULL) {
        return;
    }
    calstore_mkcol(st, "c", NULL, pool);
    fflush(stdout);
    for (i = 0; i < 2; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            _exit(child_writer(dir, i));
        }
    }
    apr_pool_create(&iter, pool);
    for (i = 0; i < 100; i++) {
        apr_pool_clear(iter);
        if (put_str(st, apr_psprintf(iter, "c/parent-%d", i), "x", NULL,
                    iter) != APR_SUCCESS) {
            bad++;
        }
    }
    for (i = 0; i < 2; i++) {
        status[i] = wait_child(pids[i], 30);
    }
    is_int(bad, 0, "parent's 100 puts succeeded");
    ok(status[0] == 0 && status[1] == 0, "both children's %d puts succeeded "
       "(exit %d, %d)", NCHILD_PUTS, status[0], status[1]);
    c = collect_new(st, pool);
    calstore_list(st, id_of(st, "c", pool), collect_cb, c, pool);
    is_int(c->names->nelts, 100 + 2 * NCHILD_PUTS, "every write is present");
    is_int(rev_of(st, "c", pool), 1 + 100 + 2 * NCHILD_PUTS,
           "collection revision counts every write");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
    calstore_close(st);
    is_int(run_verify(dir), 0, "db5.3_verify passes");
    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* ---- K. crashes --------------------------------------------------------- */

/* Options of every process in group K.  The lock timeout is environment-
 * wide and the last process to open sets it, so all must agree. */
static calstore_options_t crash_opts;

static calstore_t *open_crash_store(const char *dir, apr_pool_t *pool)
{
    calstore_t *st = NULL;

    return calstore_open(&st, dir, &crash_opts, pool) == APR_SUCCESS
           ? st : NULL;
}

/* Child: open, write-lock 'path' in a transaction, tell the parent, wait to
 * be killed. */
static void child_hold(const char *dir, const char *path, int fd)
{
    apr_pool_t *pool;
    calstore_t *st;
    char ok_byte = 'h';

    alarm(30);
    apr_pool_create(&pool, NULL);
    st = open_crash_store(dir, pool);
    if (st == NULL || calstore__test_hold(st, path) != APR_SUCCESS) {
        ok_byte = 'e';
    }
    if (write(fd, &ok_byte, 1) != 1) {
        _exit(3);
    }
    for (;;) {
        pause();
    }
}

/* Fork a holder and wait until it holds its locks.  Returns its pid, or
 * -1 (after killing it) if it did not report success. */
static pid_t start_holder(const char *dir, const char *path)
{
    int fds[2];
    pid_t pid;
    char b = 0;
    struct pollfd pfd;

    if (pipe(fds) != 0) {
        return -1;
    }
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child_hold(dir, path, fds[1]);
    }
    close(fds[1]);
    pfd.fd = fds[0];
    pfd.events = POLLIN;
    if (poll(&pfd, 1, 15000) != 1 || read(fds[0], &b, 1) != 1) {
        b = 0;
    }
    close(fds[0]);
    if (b != 'h') {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return pid;
}

/* kill -9 and reap (a zombie would still count as alive). */
static void kill_child(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
}

static int kill_holder(const char *dir, const char *path)
{
    pid_t pid = start_holder(dir, path);

    kill_child(pid);
    return pid > 0;
}

/* A thread calling calstore_maintain() every 50 ms, as the adapter's
 * maintenance thread would: its lock_detect(DB_LOCK_EXPIRE) is what ends
 * lock waits that exceed the lock timeout. */
typedef struct maintainer_t {
    calstore_t *st;
    volatile int stop;
} maintainer_t;

static void *APR_THREAD_FUNC maintainer(apr_thread_t *t, void *data)
{
    maintainer_t *m = data;

    while (!m->stop) {
        calstore_maintain(m->st, apr_time_from_sec(10));
        apr_sleep(apr_time_from_msec(50));
    }
    return NULL;
}

static int child_open_put(const char *dir)
{
    apr_pool_t *pool;
    calstore_t *st;
    apr_status_t rv;

    alarm(20);
    apr_pool_create(&pool, NULL);
    st = open_crash_store(dir, pool);
    if (st == NULL) {
        return 2;
    }
    rv = put_str(st, "k/x", "from child", NULL, pool);
    calstore_close(st);
    return rv == APR_SUCCESS ? 0 : 1;
}

/* Retry 'put' through maintain() if the store panicked meanwhile. */
static apr_status_t put_recovering(calstore_t *st, const char *path,
                                   const char *s, apr_pool_t *pool,
                                   int *reopened)
{
    apr_status_t rv;
    int i;

    for (i = 0; i < 100; i++) {
        rv = put_str(st, path, s, NULL, pool);
        if (rv != CALSTORE_EPANIC) {
            return rv;
        }
        (*reopened)++;
        calstore_maintain(st, apr_time_from_sec(10));
        apr_sleep(apr_time_from_msec(50));
    }
    return rv;
}

static int child_busy_writer(const char *dir)
{
    apr_pool_t *pool, *iter;
    calstore_t *st;
    int i;

    alarm(30);
    apr_pool_create(&pool, NULL);
    st = open_crash_store(dir, pool);
    if (st == NULL) {
        return 2;
    }
    apr_pool_create(&iter, pool);
    for (i = 0; ; i++) {
        apr_pool_clear(iter);
        put_str(st, apr_psprintf(iter, "busy/%d", i % 500), "xyz", NULL,
                iter);
    }
    return 0;
}

static void test_crash(void)
{
    apr_pool_t *pool;
    char *dir = make_tmpdir("crash");
    calstore_t *st;
    apr_time_t t0;
    apr_status_t rv, trv;
    apr_thread_t *th;
    maintainer_t mt;
    calstore_node_t *n;
    pid_t pid;
    int reopened = 0, i;

    diag("K. killed processes");
    apr_pool_create(&pool, gpool);
    calstore_options_default(&crash_opts);
    crash_opts.durability = CALSTORE_DURABILITY_WRITE_NOSYNC;
    crash_opts.lock_timeout = apr_time_from_msec(500);
    crash_opts.max_retries = 2;
    crash_opts.cache_bytes = 8 * 1024 * 1024;
    st = open_crash_store(dir, pool);
    ok(st != NULL, "open");
    if (st == NULL) {
        return;
    }
    calstore_mkcol(st, "k", NULL, pool);
    put_str(st, "k/x", "v1", NULL, pool);

    /* 0. A live holder: the lock timeout (enforced by maintain's
     * lock_detect) ends our waits, and retries run out: EBUSY. */
    pid = start_holder(dir, "k/x");
    ok(pid > 0, "a live child holds write locks on k/x");
    mt.st = st;
    mt.stop = 0;
    apr_thread_create(&th, NULL, maintainer, &mt, pool);
    t0 = apr_time_now();
    is_int(put_str(st, "k/x", "blocked", NULL, pool), CALSTORE_EBUSY,
           "a write to the locked node fails with EBUSY");
    ok(apr_time_now() - t0 >= apr_time_from_msec(1400)
       && apr_time_now() - t0 < apr_time_from_sec(5),
       "... after 3 lock timeouts of 0.5 s (%" APR_TIME_T_FMT " ms)",
       (apr_time_now() - t0) / 1000);
    /* A lookup is a snapshot of nodes.db: it reads the last committed
     * version of the page and never waits for the holder. */
    t0 = apr_time_now();
    n = NULL;
    is_int(calstore_lookup(st, "k/x", &n, NULL, pool), APR_SUCCESS,
           "a lookup of the locked node reads the committed version");
    ok(apr_time_now() - t0 < apr_time_from_msec(400),
       "... without waiting (%" APR_TIME_T_FMT " ms)",
       (apr_time_now() - t0) / 1000);
    ok(n != NULL && n->revision == 1 && n->length == 2,
       "... which is v1's node");
    /* A read that locks (by id: byid, then the node) is bounded. */
    t0 = apr_time_now();
    is_int(n ? calstore_get_node(st, n->id, &n, NULL, pool) : -1,
           CALSTORE_EBUSY, "a locking read of the locked page is bounded "
           "the same way");
    ok(apr_time_now() - t0 < apr_time_from_sec(5), "... (%" APR_TIME_T_FMT
       " ms)", (apr_time_now() - t0) / 1000);
    mt.stop = 1;
    apr_thread_join(&trv, th);
    kill_child(pid);

    /* 1. Holder killed outside the library; our failchk cleans up. */
    ok(kill_holder(dir, "k/x"), "child held write locks, then was killed");
    t0 = apr_time_now();
    is_int(calstore_maintain(st, apr_time_from_sec(10)), APR_SUCCESS,
           "maintain (failchk) after the death");
    is_int(put_str(st, "k/x", "v2", NULL, pool), APR_SUCCESS,
           "write to the locked node proceeds");
    ok(apr_time_now() - t0 < apr_time_from_msec(400),
       "... without waiting for a lock timeout (%" APR_TIME_T_FMT " ms)",
       (apr_time_now() - t0) / 1000);
    is_str(read_str(st, "k/x", pool), "v2", "dead transaction rolled back");

    /* 2. Holder killed; a fresh process's open recovers (no maintain). */
    ok(kill_holder(dir, "k/x"), "second holder killed");
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        _exit(child_open_put(dir));
    }
    is_int(wait_child(pid, 20), 0, "a fresh process opens and writes the "
           "locked node");
    rv = put_recovering(st, "k/x", "v3", pool, &reopened);
    is_int(rv, APR_SUCCESS, "parent writes afterwards");
    if (reopened) {
        diag("parent had to reopen %d time(s)", reopened);
    }
    is_str(read_str(st, "k/x", pool), "v3", "latest value");

    /* 3. A writer killed at a random point in a tight loop: it may die
     * inside Berkeley DB, then failchk panics and we reopen. */
    calstore_mkcol(st, "busy", NULL, pool);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        _exit(child_busy_writer(dir));
    }
    apr_sleep(apr_time_from_msec(300));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    t0 = apr_time_now();
    for (i = 0; i < 200; i++) {
        rv = calstore_maintain(st, apr_time_from_sec(10));
        if (rv == APR_SUCCESS) {
            break;
        }
        apr_sleep(apr_time_from_msec(50));
    }
    is_int(rv, APR_SUCCESS, "maintain recovers after a writer's death "
           "(%" APR_TIME_T_FMT " ms)", (apr_time_now() - t0) / 1000);
    reopened = 0;
    is_int(put_recovering(st, "busy/0", "after", pool, &reopened),
           APR_SUCCESS, "writes proceed after the writer's death");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");

    calstore_close(st);
    is_int(run_verify(dir), 0, "db5.3_verify passes");
    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* ---- L. panic -> reopen ------------------------------------------------- */

static void test_panic(void)
{
    apr_pool_t *pool;
    char *dir = make_tmpdir("panic");
    calstore_t *st;
    calstore_node_t *n;
    const char *data;
    apr_size_t len;

    diag("L. panic, stuck threads, reopen");
    apr_pool_create(&pool, gpool);
    st = open_store(dir, CALSTORE_DURABILITY_SYNC, pool);
    ok(st != NULL, "open");
    if (st == NULL) {
        return;
    }
    calstore_mkcol(st, "c", NULL, pool);
    put_str(st, "c/a", "before", &n, pool);
    is_int(calstore_maintain(st, apr_time_from_sec(1)), APR_SUCCESS,
           "maintain on a healthy store");
    is_int(calstore_stuck(st, 0), 0, "a healthy store is not stuck");

    is_int(calstore__test_enter(st), APR_SUCCESS, "a thread is inside");
    is_int(calstore__test_panic(st), APR_SUCCESS, "panic the environment");
    is_int(calstore_lookup(st, "c/a", &n, NULL, pool), CALSTORE_EPANIC,
           "calls see the panic");
    is_int(calstore_read(st, 2, &data, &len, pool), CALSTORE_EPANIC,
           "... and are refused at once afterwards");
    is_int(calstore_maintain(st, apr_time_from_msec(200)), CALSTORE_EPANIC,
           "maintain waits while a thread is inside");
    is_int(calstore_stuck(st, apr_time_from_msec(200)), 0,
           "not stuck yet: the panic is younger than 'after'");
    apr_sleep(apr_time_from_msec(300));
    is_int(calstore_stuck(st, apr_time_from_msec(200)), 1,
           "stuck: panicked, a thread inside for longer than 'after'");
    is_int(calstore_maintain(st, apr_time_from_msec(200)), APR_TIMEUP,
           "maintain reports threads stuck past stuck_after");
    calstore__test_leave(st);
    is_int(calstore_stuck(st, apr_time_from_msec(200)), 0,
           "not stuck once the thread left");
    is_int(calstore_maintain(st, apr_time_from_msec(200)), APR_SUCCESS,
           "maintain reopens once nobody is inside (forced recovery)");
    is_str(read_str(st, "c/a", pool), "before", "committed data survived");
    is_int(put_str(st, "c/b", "after", NULL, pool), APR_SUCCESS,
           "writes work again");
    is_int(calstore_maintain(st, apr_time_from_sec(1)), APR_SUCCESS,
           "maintain is healthy again");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
    calstore_close(st);
    is_int(calstore_maintain(st, 0), CALSTORE_EINVAL,
           "maintain on a closed store");
    is_int(run_verify(dir), 0, "db5.3_verify passes");
    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* ---- calendar helpers --------------------------------------------------- */

#define T0      ((apr_int64_t)1700000000)   /* 2023-11-14 */
#define HOUR    ((apr_int64_t)3600)
#define DAY     ((apr_int64_t)86400)
#define WEEK    (7 * DAY)
#define YEAR    (365 * DAY)
#define TMIN    ((apr_int64_t)-62167219200LL)  /* CALCORE_TIME_MIN */
#define TMAX    ((apr_int64_t)253402300800LL)  /* CALCORE_TIME_MAX */

#define COMP_EVENT    1u     /* calcore_comp_e values */
#define COMP_TODO     2u
#define COMP_JOURNAL  4u

/* A calinfo with 'n' instances given as start, end pairs in 'se'; the
 * record is "REC:<uid>". */
static calstore_calinfo_t *cal_info(apr_pool_t *pool, const char *uid,
                                    apr_uint32_t comp, apr_int64_t from,
                                    apr_int64_t until, int before, int after,
                                    int n, const apr_int64_t *se)
{
    calstore_calinfo_t *ci = apr_pcalloc(pool, sizeof(*ci));
    apr_array_header_t *inst = apr_array_make(pool, n ? n : 1,
                                              sizeof(calstore_span_t));
    calstore_span_t *sp;
    int i;

    for (i = 0; i < n; i++) {
        sp = apr_array_push(inst);
        sp->start = se[2 * i];
        sp->end = se[2 * i + 1];
    }
    ci->uid = uid;
    ci->comp = comp;
    ci->record = apr_pstrcat(pool, "REC:", uid, NULL);
    ci->record_len = strlen(ci->record);
    ci->win_from = from;
    ci->win_until = until;
    ci->before = before;
    ci->after = after;
    ci->instances = inst;
    return ci;
}

/* One instance [s, e], window [T0 - YEAR, T0 + 2 YEAR). */
static calstore_calinfo_t *cal_one(apr_pool_t *pool, const char *uid,
                                   apr_uint32_t comp, apr_int64_t s,
                                   apr_int64_t e)
{
    apr_int64_t se[2];

    se[0] = s;
    se[1] = e;
    return cal_info(pool, uid, comp, T0 - YEAR, T0 + 2 * YEAR, 0, 0, 1, se);
}

static apr_status_t put_cal(calstore_t *st, const char *path,
                            const calstore_calinfo_t *ci,
                            const char **conflict, calstore_node_t **node,
                            apr_pool_t *pool)
{
    const char *body = apr_psprintf(pool, "BEGIN:VCALENDAR\r\nUID:%s\r\n"
                                    "END:VCALENDAR\r\n",
                                    ci ? ci->uid : "-");

    return calstore_put_ex(st, path, "text/calendar", body, strlen(body),
                           NULL, ci, conflict, node, NULL, pool);
}

static apr_status_t cal_counts(calstore_t *st, apr_size_t c[4])
{
    return calstore__test_cal_counts(st, c);
}

/* Objects reported by the queries. */
typedef struct objs_t {
    apr_array_header_t *names;      /* char *, in callback order */
    apr_array_header_t *ids;        /* calstore_id_t */
    apr_hash_t *seen;
    int dups;
    int bad_records;                /* record != "REC:<uid>..." */
    int stop_after;
    apr_hash_t *proven;             /* names reported as proven          */
    int proven_with_record;         /* a proven report with a record      */
    calstore_t *st;                 /* re-enter the store from the callback */
    int reenter_failures;
    apr_pool_t *pool;
} objs_t;

static objs_t *objs_new(apr_pool_t *pool)
{
    objs_t *o = apr_pcalloc(pool, sizeof(*o));

    o->names = apr_array_make(pool, 16, sizeof(char *));
    o->ids = apr_array_make(pool, 16, sizeof(calstore_id_t));
    o->seen = apr_hash_make(pool);
    o->proven = apr_hash_make(pool);
    o->pool = pool;
    return o;
}

/* calstore_query_range_proven()'s 'proven' callback: as objs_cb, without
 * a record. */
static apr_status_t objs_proven_cb(void *baton, const calstore_node_t *node,
                                   const void *record, apr_size_t len,
                                   apr_pool_t *scratch)
{
    objs_t *o = baton;
    char *name = apr_pstrdup(o->pool, node->name);

    if (apr_hash_get(o->seen, name, APR_HASH_KEY_STRING)) {
        o->dups++;
    }
    apr_hash_set(o->seen, name, APR_HASH_KEY_STRING, name);
    apr_hash_set(o->proven, name, APR_HASH_KEY_STRING, name);
    APR_ARRAY_PUSH(o->names, char *) = name;
    APR_ARRAY_PUSH(o->ids, calstore_id_t) = node->id;
    if (record != NULL || len != 0) {
        o->proven_with_record++;
    }
    return APR_SUCCESS;
}

static apr_status_t objs_cb(void *baton, const calstore_node_t *node,
                            const void *record, apr_size_t len,
                            apr_pool_t *scratch)
{
    objs_t *o = baton;
    char *name = apr_pstrdup(o->pool, node->name);
    const void *again;
    apr_size_t alen;

    if (apr_hash_get(o->seen, name, APR_HASH_KEY_STRING)) {
        o->dups++;
    }
    apr_hash_set(o->seen, name, APR_HASH_KEY_STRING, name);
    APR_ARRAY_PUSH(o->names, char *) = name;
    APR_ARRAY_PUSH(o->ids, calstore_id_t) = node->id;
    if (len < 4 || memcmp(record, "REC:", 4) != 0) {
        o->bad_records++;
    }
    if (o->st != NULL
        && (calstore_get_record(o->st, node->id, &again, &alen, scratch)
            != APR_SUCCESS || alen != len || memcmp(again, record, len))) {
        o->reenter_failures++;
    }
    if (o->stop_after && o->names->nelts >= o->stop_after) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* The names reported, sorted and joined with ',' (for exact comparison). */
static const char *objs_joined(objs_t *o, apr_pool_t *pool)
{
    apr_array_header_t *copy = apr_array_copy(pool, o->names);

    qsort(copy->elts, copy->nelts, sizeof(char *), cmp_str);
    return apr_array_pstrcat(pool, copy, ',');
}

static const char *range_names(calstore_t *st, calstore_id_t coll,
                               apr_int64_t s, apr_int64_t e,
                               apr_uint32_t mask, apr_pool_t *pool)
{
    objs_t *o = objs_new(pool);

    if (calstore_query_range(st, coll, s, e, mask, objs_cb, o, pool)
        != APR_SUCCESS || o->dups) {
        return "(error)";
    }
    return objs_joined(o, pool);
}

static const char *all_names(calstore_t *st, calstore_id_t coll,
                             apr_uint32_t mask, apr_pool_t *pool)
{
    objs_t *o = objs_new(pool);

    if (calstore_query_all(st, coll, mask, objs_cb, o, pool)
        != APR_SUCCESS) {
        return "(error)";
    }
    return apr_array_pstrcat(pool, o->names, ',');   /* in callback order */
}

static const char *uid_name(calstore_t *st, calstore_id_t coll,
                            const char *uid, apr_pool_t *pool)
{
    const char *name;

    return calstore_uid_lookup(st, coll, uid, &name, pool) == APR_SUCCESS
           ? name : NULL;
}

static const char *record_of(calstore_t *st, calstore_id_t id,
                             apr_pool_t *pool)
{
    const void *rec;
    apr_size_t len;

    if (calstore_get_record(st, id, &rec, &len, pool) != APR_SUCCESS) {
        return NULL;
    }
    return apr_pstrmemdup(pool, rec, len);
}

static int counts_are(calstore_t *st, apr_size_t calobj, apr_size_t uid,
                      apr_size_t tr, apr_size_t tredge)
{
    apr_size_t c[4];

    if (cal_counts(st, c) != APR_SUCCESS) {
        return 0;
    }
    if (c[0] != calobj || c[1] != uid || c[2] != tr || c[3] != tredge) {
        diag("calendar counts: calobj %lu uid %lu tr %lu tredge %lu",
             (unsigned long)c[0], (unsigned long)c[1], (unsigned long)c[2],
             (unsigned long)c[3]);
        return 0;
    }
    return 1;
}

/* ---- N. calendar collections -------------------------------------------- */

/* calstore_put_in: a put with the parent the caller looked up. */
static apr_status_t put_in(calstore_t *st, const calstore_node_t *parent,
                           const char *path, const calstore_calinfo_t *ci,
                           calstore_node_t **node, int *created,
                           apr_pool_t *pool)
{
    const char *body = apr_psprintf(pool, "BEGIN:VCALENDAR\r\nUID:%s\r\n"
                                    "END:VCALENDAR\r\n", ci->uid);

    return calstore_put_in(st, parent, path, "text/calendar", body,
                           strlen(body), NULL, ci, NULL, node, created, pool);
}

/* I4. Many writers into one calendar, with few retries: a transaction
 * that lost a deadlock must win the next one (calstore__run raises its
 * priority), so none runs out of retries.  With Berkeley DB's own choice
 * (the first locker of the cycle found) the same put could lose again and
 * again: without the priorities, 5 retries ran out on dozens of puts in
 * each of 4 runs (6 retries too); with them, on none in 10 runs. */
#define STORM_THREADS 16
#define STORM_PUTS    150
#define STORM_RETRIES 5

static void *APR_THREAD_FUNC stormer(apr_thread_t *t, void *data)
{
    thread_arg_t *a = data;
    apr_pool_t *pool, *iter;
    calstore_node_t *node;
    apr_status_t rv;
    int i, created;

    apr_pool_create(&pool, NULL);
    apr_pool_create(&iter, pool);
    for (i = 0; i < STORM_PUTS; i++) {
        const char *uid;

        apr_pool_clear(iter);
        uid = apr_psprintf(iter, "storm-%d-%d", a->n, i);
        rv = put_in(a->st, a->parent,
                    apr_psprintf(iter, "h/cal/%s.ics", uid),
                    cal_one(iter, uid, COMP_EVENT, T0 + i * HOUR,
                            T0 + i * HOUR + HOUR),
                    &node, &created, iter);
        if (rv != APR_SUCCESS) {
            a->failures++;
            a->last = rv;
        }
    }
    apr_pool_destroy(pool);
    return NULL;
}

static void test_put_storm(void)
{
    apr_pool_t *pool;
    char *dir = make_tmpdir("storm");
    calstore_t *st;
    calstore_node_t *cal = NULL;
    collect_t *c;
    int failures, retries0;

    diag("I4. %d threads x %d puts into one calendar, %d retries each",
         STORM_THREADS, STORM_PUTS, STORM_RETRIES);
    apr_pool_create(&pool, gpool);
    st = open_store_retries(dir, CALSTORE_DURABILITY_WRITE_NOSYNC,
                            STORM_RETRIES, pool);
    ok(st != NULL, "open");
    if (st == NULL) {
        return;
    }
    calstore_mkcol(st, "h", NULL, pool);
    is_int(calstore_mkcol_ex(st, "h/cal", CALSTORE_COLL_CALENDAR, NULL, &cal,
                             pool), APR_SUCCESS, "mkcalendar h/cal");
    if (cal == NULL) {
        calstore_close(st);
        return;
    }
    retries0 = log_retries;
    failures = run_threads(stormer, STORM_THREADS, st, cal, pool);
    diag("%d deadlocks retried", log_retries - retries0);
    is_int(failures, 0, "no put ran out of retries");
    c = collect_new(st, pool);
    calstore_list(st, cal->id, collect_cb, c, pool);
    is_int(c->names->nelts, STORM_THREADS * STORM_PUTS, "every object stored");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
    calstore_close(st);
    apr_pool_destroy(pool);
    rm_rf(dir);
}

static void test_put_in(void)
{
    apr_pool_t *pool;
    char *dir = make_tmpdir("putin");
    calstore_t *st;
    calstore_node_t *n = NULL, *parent = NULL, *cal = NULL, *other = NULL;
    apr_uint64_t r0;
    int created = 0;

    diag("N2. calstore_put_in: a put with the parent already looked up");
    apr_pool_create(&pool, gpool);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL, "open");
    if (st == NULL) {
        return;
    }
    calstore_mkcol(st, "h", NULL, pool);
    is_int(calstore_mkcol_ex(st, "h/cal", CALSTORE_COLL_CALENDAR, NULL, &cal,
                             pool), APR_SUCCESS, "mkcalendar h/cal");
    is_int(calstore_mkcol_ex(st, "h/other", CALSTORE_COLL_CALENDAR, NULL,
                             &other, pool), APR_SUCCESS, "mkcalendar h/other");
    is_int(calstore_lookup_ex(st, "h/cal/a.ics", &n, &parent, pool),
           CALSTORE_ENOENT, "lookup of a new member");
    ok(parent != NULL && cal != NULL && parent->id == cal->id,
       "... gives its parent");
    r0 = parent ? parent->revision : 0;

    /* A 10-day event: the calendar's longest short instance grows, so a
     * query in its middle must still find it. */
    is_int(put_in(st, parent, "h/cal/a.ics",
                  cal_one(pool, "a", COMP_EVENT, T0, T0 + 10 * DAY),
                  &n, &created, pool), APR_SUCCESS, "put_in a.ics");
    ok(created && n != NULL && cal != NULL && n->parent == cal->id,
       "... created in h/cal");
    is_str(read_str(st, "h/cal/a.ics", pool), "BEGIN:VCALENDAR\r\nUID:a\r\n"
           "END:VCALENDAR\r\n", "... with its body");
    is_str(range_names(st, cal->id, T0 + 5 * DAY, T0 + 6 * DAY, 0, pool),
           "a.ics", "... and a query inside the long instance finds it");
    ok(node_at(st, "h/cal", pool) != NULL
       && node_at(st, "h/cal", pool)->revision == r0 + 1,
       "... the calendar's revision moved on by one");

    /* The same parent again, replacing: not created, UID checked. */
    is_int(put_in(st, parent, "h/cal/a.ics",
                  cal_one(pool, "a", COMP_EVENT, T0, T0 + HOUR),
                  &n, &created, pool), APR_SUCCESS, "put_in replaces");
    ok(!created && n != NULL && n->revision == 2, "... revision 2");
    is_int(put_in(st, parent, "h/cal/b.ics",
                  cal_one(pool, "a", COMP_EVENT, T0, T0 + HOUR),
                  &n, &created, pool), CALSTORE_EUIDCONFLICT,
           "put_in checks the UID");

    /* A parent that is not the path's: ignored, the path decides. */
    is_int(put_in(st, other, "h/cal/c.ics",
                  cal_one(pool, "c", COMP_EVENT, T0, T0 + HOUR),
                  &n, &created, pool), APR_SUCCESS,
           "put_in with another collection as parent");
    ok(n != NULL && n->parent == cal->id, "... lands where the path says");

    /* The parent replaced since the lookup: run again from the root. */
    is_int(calstore_delete(st, "h/cal", NULL, pool), APR_SUCCESS,
           "delete h/cal");
    cal = NULL;
    is_int(calstore_mkcol_ex(st, "h/cal", CALSTORE_COLL_CALENDAR, NULL, &cal,
                             pool), APR_SUCCESS, "... and make it again");
    is_int(put_in(st, parent, "h/cal/d.ics",
                  cal_one(pool, "d", COMP_EVENT, T0, T0 + HOUR),
                  &n, &created, pool), APR_SUCCESS,
           "put_in with the old parent");
    ok(n != NULL && cal != NULL && parent != NULL && n->parent == cal->id
       && cal->id != parent->id, "... lands in the new h/cal");
    is_str(range_names(st, cal->id, T0, T0 + DAY, 0, pool), "d.ics",
           "... indexed there");

    /* The parent moved away since the lookup (same id, another key): its
     * members and UIDs are no business of the path any more. */
    is_int(calstore_lookup_ex(st, "h/cal/f.ics", &n, &parent, pool),
           CALSTORE_ENOENT, "lookup of h/cal/f.ics");
    is_int(calstore_move(st, "h/cal", "h/moved", 0, NULL, pool),
           APR_SUCCESS, "move h/cal to h/moved");
    is_int(put_in(st, parent, "h/cal/f.ics",
                  cal_one(pool, "d", COMP_EVENT, T0, T0 + HOUR),
                  &n, &created, pool), CALSTORE_ENOPARENT,
           "put_in with the moved parent is ENOPARENT, not a UID conflict "
           "with the moved calendar's d.ics");

    /* The parent gone: the plain put's answer. */
    is_int(calstore_delete(st, "h/other", NULL, pool), APR_SUCCESS,
           "delete h/other");
    is_int(put_in(st, other, "h/other/e.ics",
                  cal_one(pool, "e", COMP_EVENT, T0, T0 + HOUR),
                  &n, &created, pool), CALSTORE_ENOPARENT,
           "put_in below a deleted parent is ENOPARENT");
    calstore_close(st);
    is_int(run_verify(dir), 0, "db5.3_verify passes");
    apr_pool_destroy(pool);
    rm_rf(dir);
}

static void test_calendars(void)
{
    apr_pool_t *pool;
    char *dir = make_tmpdir("cal");
    calstore_t *st;
    calstore_node_t *n, *cal;
    apr_array_header_t *props;
    calstore_prop_t *p;
    calstore_calinfo_t *ci;
    const char *conflict;
    apr_size_t c0[5], c1[5];
    apr_uint64_t r0;
    apr_int64_t se[8];
    calstore_id_t cal_id, a_id, home_id;
    int created;
    objs_t *o;

    diag("N. calendar collections and calendar objects");
    apr_pool_create(&pool, gpool);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL, "open");
    if (st == NULL) {
        return;
    }

    /* mkcol_ex: all or nothing. */
    props = apr_array_make(pool, 2, sizeof(calstore_prop_t));
    p = apr_array_push(props);
    p->ns = "urn:ietf:params:xml:ns:caldav";
    p->name = "calendar-description";
    p->value = "<C:calendar-description>Work</C:calendar-description>";
    p->len = strlen(p->value);
    p = apr_array_push(props);
    p->ns = "DAV:";
    p->name = "displayname";
    p->value = "Work";
    p->len = 4;
    counts(st, c0);
    r0 = rev_of(st, "", pool);
    is_int(calstore_mkcol_ex(st, "nope/cal", CALSTORE_COLL_CALENDAR, props,
                             &n, pool), CALSTORE_ENOPARENT,
           "mkcol_ex below a missing collection");
    ok(n == NULL, "... no result");
    is_int(calstore_mkcol_ex(st, "a/../cal", CALSTORE_COLL_CALENDAR, props,
                             &n, pool), CALSTORE_EINVAL,
           "mkcol_ex with an invalid path");
    is_int(calstore_mkcol_ex(st, "cal", 0x2, props, &n, pool),
           CALSTORE_EINVAL, "mkcol_ex with an unknown store flag");
    p->value = NULL;
    is_int(calstore_mkcol_ex(st, "cal", CALSTORE_COLL_CALENDAR, props, &n,
                             pool), CALSTORE_EINVAL,
           "mkcol_ex with a property without a value");
    p->value = "Work";
    counts(st, c1);
    ok(memcmp(c0, c1, sizeof(c0)) == 0 && rev_of(st, "", pool) == r0,
       "... nothing written by the failures");
    is_int(calstore_mkcol_ex(st, "cal", CALSTORE_COLL_CALENDAR, props, &cal,
                             pool), APR_SUCCESS, "mkcol_ex a calendar with "
           "two properties");
    is_int(cal->flags, CALSTORE_COLL_CALENDAR, "result has the calendar flag");
    cal_id = cal->id;
    is_int(node_at(st, "cal", pool)->flags, CALSTORE_COLL_CALENDAR,
           "lookup shows the calendar flag");
    is_str(get_prop(st, cal_id, "DAV:", "displayname", pool), "Work",
           "first property stored");
    is_str(get_prop(st, cal_id, "urn:ietf:params:xml:ns:caldav",
                    "calendar-description", pool),
           "<C:calendar-description>Work</C:calendar-description>",
           "second property stored");
    counts(st, c1);
    ok(c1[1] == c0[1] + 1 && c1[2] == c0[2] + 1 && c1[4] == c0[4] + 2,
       "one node, one byid entry, two properties");
    is_int(rev_of(st, "", pool), r0 + 1, "parent bumped once");
    counts(st, c0);
    is_int(calstore_mkcol_ex(st, "cal", CALSTORE_COLL_CALENDAR, props, &n,
                             pool), CALSTORE_EEXIST, "mkcol_ex existing");
    is_int(calstore_mkcol(st, "cal/sub", &n, pool), CALSTORE_ENESTED,
           "mkcol inside a calendar: ENESTED");
    is_int(calstore_mkcol_ex(st, "cal/sub", 0, props, &n, pool),
           CALSTORE_ENESTED, "mkcol_ex inside a calendar: ENESTED");
    is_int(calstore_mkcol_ex(st, "cal/sub", CALSTORE_COLL_CALENDAR, NULL, &n,
                             pool), CALSTORE_ENESTED,
           "a calendar inside a calendar: ENESTED");
    is_int(calstore_mkcol(st, "cal/sub/deeper", &n, pool),
           CALSTORE_ENOPARENT, "below a calendar's missing member: "
           "ENOPARENT");
    counts(st, c1);
    ok(memcmp(c0, c1, sizeof(c0)) == 0, "... nothing written");
    is_int(calstore_mkcol(st, "home", &n, pool), APR_SUCCESS, "mkcol home");
    home_id = n->id;
    is_int(calstore_mkcol_ex(st, "home/cal2", CALSTORE_COLL_CALENDAR, NULL,
                             &n, pool), APR_SUCCESS,
           "a calendar inside a plain collection");
    is_int(calstore_mkcol_ex(st, "plain", 0, NULL, &n, pool), APR_SUCCESS,
           "mkcol_ex a plain collection without properties");
    is_int(n->flags, 0, "... no flags");
    is_int(calstore_mkcol_ex(st, "home/cal3", CALSTORE_COLL_CALENDAR
                             | (0x13u << 8) | 0x80000000u, NULL, &n, pool),
           APR_SUCCESS, "mkcol_ex a calendar with caller flag bits");
    is_int(node_at(st, "home/cal3", pool)->flags,
           CALSTORE_COLL_CALENDAR | (0x13u << 8) | 0x80000000u,
           "... kept as given");
    is_int(calstore_copy(st, "home/cal3", "home/cal4", 0, 0, &n, pool),
           APR_SUCCESS, "copy it");
    is_int(n->flags, CALSTORE_COLL_CALENDAR | (0x13u << 8) | 0x80000000u,
           "... the copy has them too");
    is_int(calstore_move(st, "home/cal4", "cal5", 0, &n, pool),
           APR_SUCCESS, "move the copy");
    is_int(node_at(st, "cal5", pool)->flags,
           CALSTORE_COLL_CALENDAR | (0x13u << 8) | 0x80000000u,
           "... and keeps them");

    /* put / put_ex. */
    counts(st, c0);
    r0 = rev_of(st, "cal", pool);
    is_int(put_str(st, "cal/plain.txt", "x", NULL, pool),
           CALSTORE_ENOTCALOBJ, "plain put into a calendar: ENOTCALOBJ");
    is_int(put_cal(st, "cal/plain.txt", NULL, NULL, NULL, pool),
           CALSTORE_ENOTCALOBJ, "put_ex without calendar data: ENOTCALOBJ");
    counts(st, c1);
    ok(memcmp(c0, c1, sizeof(c0)) == 0 && rev_of(st, "cal", pool) == r0
       && counts_are(st, 0, 0, 0, 0), "... nothing written");

    se[0] = T0;
    se[1] = T0 + HOUR;
    se[2] = T0 + WEEK;
    se[3] = T0 + WEEK + HOUR;
    ci = cal_info(pool, "uid-a", COMP_EVENT, T0 - YEAR, T0 + YEAR, 0, 0, 2,
                  se);
    created = -1;
    is_int(calstore_put_ex(st, "cal/a.ics", "text/calendar", "A", 1, NULL,
                           ci, &conflict, &n, &created, pool), APR_SUCCESS,
           "put_ex a.ics (two instances)");
    is_int(created, 1, "... created");
    is_int(n->flags, COMP_EVENT, "node flags carry the component");
    a_id = n->id;
    is_int(rev_of(st, "cal", pool), r0 + 1, "calendar bumped (ctag)");
    ok(counts_are(st, 1, 1, 1, 0), "one record, one UID, one tr entry (a "
       "run of both instances)");
    is_str(record_of(st, a_id, pool), "REC:uid-a", "get_record");
    is_str(uid_name(st, cal_id, "uid-a", pool), "a.ics", "uid_lookup");
    ok(uid_name(st, cal_id, "uid-b", pool) == NULL, "uid_lookup of an "
       "unknown UID");
    ok(uid_name(st, home_id, "uid-a", pool) == NULL, "uid_lookup in another "
       "collection");
    ok(record_of(st, cal_id, pool) == NULL, "a collection has no record");
    ok(record_of(st, 987654, pool) == NULL, "a missing id has no record");

    counts(st, c0);
    r0 = rev_of(st, "cal", pool);
    conflict = NULL;
    is_int(put_cal(st, "cal/b.ics", cal_one(pool, "uid-a", COMP_EVENT, T0,
                                            T0 + 60),
                   &conflict, &n, pool), CALSTORE_EUIDCONFLICT,
           "another resource with the same UID: EUIDCONFLICT");
    is_str(conflict, "a.ics", "... naming the other member");
    ok(n == NULL && node_at(st, "cal/b.ics", pool) == NULL,
       "... b.ics not created");
    counts(st, c1);
    ok(memcmp(c0, c1, sizeof(c0)) == 0 && rev_of(st, "cal", pool) == r0
       && counts_are(st, 1, 1, 1, 0), "... nothing written");
    is_int(put_cal(st, "cal/b.ics", cal_one(pool, "uid-a", COMP_EVENT, T0,
                                            T0 + 60), NULL, NULL, pool),
           CALSTORE_EUIDCONFLICT, "conflict with a NULL 'conflict'");

    /* Replace a.ics: same UID, three instances, open-ended. */
    se[4] = T0 + 2 * WEEK;
    se[5] = T0 + 2 * WEEK + HOUR;
    ci = cal_info(pool, "uid-a", COMP_EVENT, T0 - YEAR, T0 + YEAR, 0, 1, 3,
                  se);
    is_int(calstore_put_ex(st, "cal/a.ics", "text/calendar", "A2", 2, NULL,
                           ci, &conflict, &n, &created, pool), APR_SUCCESS,
           "replace a.ics with the same UID (no conflict with itself)");
    ok(created == 0 && n->id == a_id && n->revision == 2, "... same id, "
       "revision 2");
    ok(counts_are(st, 1, 1, 1, 1), "one run of the three instances and an "
       "'H' edge");
    /* Change its UID. */
    ci = cal_info(pool, "uid-a2", COMP_TODO, T0 - YEAR, T0 + YEAR, 0, 0, 1,
                  se);
    is_int(put_cal(st, "cal/a.ics", ci, &conflict, &n, pool), APR_SUCCESS,
           "replace a.ics with another UID and kind");
    is_int(n->flags, COMP_TODO, "... node flags follow the kind");
    ok(uid_name(st, cal_id, "uid-a", pool) == NULL, "old UID gone");
    is_str(uid_name(st, cal_id, "uid-a2", pool), "a.ics", "new UID found");
    ok(counts_are(st, 1, 1, 1, 0), "one UID entry, one tr entry, no edge");
    is_str(record_of(st, a_id, pool), "REC:uid-a2", "record replaced");
    is_int(put_cal(st, "cal/b.ics", cal_one(pool, "uid-a", COMP_EVENT,
                                            T0 + DAY, T0 + DAY + HOUR),
                   &conflict, &n, pool), APR_SUCCESS,
           "the freed UID can be used by b.ics");
    ok(counts_are(st, 2, 2, 2, 0), "two objects indexed");

    /* Malformed calendar data. */
    ci = cal_one(pool, "bad", COMP_EVENT, T0 + 10, T0);
    is_int(put_cal(st, "cal/bad.ics", ci, NULL, NULL, pool), CALSTORE_EINVAL,
           "an instance ending before it starts: EINVAL");
    ci = cal_one(pool, "", COMP_EVENT, T0, T0);
    is_int(put_cal(st, "cal/bad.ics", ci, NULL, NULL, pool), CALSTORE_EINVAL,
           "an empty UID: EINVAL");
    ci = cal_one(pool, "bad", COMP_EVENT, T0, T0);
    ci->win_from = T0 + 1;
    ci->win_until = T0;
    is_int(put_cal(st, "cal/bad.ics", ci, NULL, NULL, pool), CALSTORE_EINVAL,
           "a window ending before it starts: EINVAL");
    ci = cal_one(pool, "bad", COMP_EVENT, T0, (apr_int64_t)1 << 62);
    ci->instances = apr_array_make(pool, 1, sizeof(int));
    is_int(put_cal(st, "cal/bad.ics", ci, NULL, NULL, pool), CALSTORE_EINVAL,
           "instances of the wrong element size: EINVAL");
    ok(node_at(st, "cal/bad.ics", pool) == NULL, "... nothing created");

    /* Calendar data outside a calendar is ignored. */
    is_int(put_cal(st, "plain/x.ics", cal_one(pool, "uid-a", COMP_EVENT, T0,
                                              T0 + 1), NULL, &n, pool),
           APR_SUCCESS, "put_ex with calendar data into a plain collection");
    ok(n->flags == 0 && record_of(st, n->id, pool) == NULL
       && counts_are(st, 2, 2, 2, 0), "... stored as a plain resource");

    /* Long, zero-length and same-start instances. */
    se[0] = T0 + 3 * DAY;               /* 10 days: long */
    se[1] = T0 + 13 * DAY;
    se[2] = T0 + 20 * DAY;              /* zero length */
    se[3] = T0 + 20 * DAY;
    se[4] = T0 + 30 * DAY;              /* two with one start: merged */
    se[5] = T0 + 30 * DAY + HOUR;
    se[6] = T0 + 30 * DAY;
    se[7] = T0 + 30 * DAY + 2 * HOUR;
    ci = cal_info(pool, "uid-c", COMP_EVENT, T0 - YEAR, T0 + YEAR, 1, 1, 4,
                  se);
    is_int(put_cal(st, "cal/c.ics", ci, NULL, &n, pool), APR_SUCCESS,
           "put c.ics: a long, a zero-length and two same-start instances, "
           "before and after");
    ok(counts_are(st, 3, 3, 3, 3), "one run (the zero-length and the "
       "merged instance), a 'G', an 'L' and an 'H' edge");
    is_str(range_names(st, cal_id, T0 + 12 * DAY, T0 + 12 * DAY + 1, 0,
                       pool), "c.ics", "the long instance is found");
    is_str(range_names(st, cal_id, T0 + 20 * DAY, T0 + 20 * DAY, 0, pool),
           "c.ics", "the zero-length instance is found by an empty range "
           "at its time");
    is_str(range_names(st, cal_id, T0 + 30 * DAY + 90 * 60,
                       T0 + 31 * DAY, 0, pool), "c.ics",
           "same-start instances keep the latest end");
    is_str(range_names(st, cal_id, T0 + 2 * YEAR, T0 + 3 * YEAR, 0, pool),
           "c.ics", "after the window: found by its 'H' edge");
    is_str(range_names(st, cal_id, T0 - 3 * YEAR, T0 - 2 * YEAR, 0, pool),
           "c.ics", "before the window: found by its 'L' edge");
    is_str(range_names(st, cal_id, T0 - 3 * YEAR, T0 - 2 * YEAR, COMP_TODO,
                       pool), "", "... but not by a query for to-dos (the "
           "edge carries the component)");
    is_str(range_names(st, cal_id, T0 + 12 * DAY, T0 + 12 * DAY + 1,
                       COMP_TODO, pool), "", "nor is its long instance");
    is_str(range_names(st, cal_id, T0 + 30 * DAY + 90 * 60, T0 + 31 * DAY,
                       COMP_TODO, pool), "", "nor a short one");
    /* The same object, told how far its set reaches: the edges are only
     * followed for ranges the set can meet. */
    ci->uid = "uid-c2";
    ci->first = T0 - 2 * YEAR;
    ci->last = T0 + 3 * YEAR;
    is_int(put_cal(st, "cal/c2.ics", ci, NULL, NULL, pool), APR_SUCCESS,
           "put c2.ics: as c.ics, first start 2 years before T0, last end "
           "3 years after");
    is_str(range_names(st, cal_id, T0 - 3 * YEAR, T0 - 2 * YEAR - 1, 0,
                       pool), "c.ics", "a range before its first start "
           "skips its 'L' edge");
    is_str(range_names(st, cal_id, T0 - 3 * YEAR, T0 - 2 * YEAR, 0, pool),
           "c.ics,c2.ics", "a range reaching its first start follows it");
    is_str(range_names(st, cal_id, T0 + 3 * YEAR + 1, T0 + 4 * YEAR, 0,
                       pool), "c.ics", "a range after its last end skips "
           "its 'H' edge");
    is_str(range_names(st, cal_id, T0 + 3 * YEAR, T0 + 4 * YEAR, 0, pool),
           "c.ics,c2.ics", "a range reaching its last end follows it");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
    is_int(calstore_delete(st, "cal/c2.ics", NULL, pool), APR_SUCCESS,
           "delete c2.ics");
    /* Duration classes: one 6-day event does not make a query of an hour
     * read back a week of one-hour meetings. */
    {
        calstore_node_t *dc;
        apr_uint64_t v0;
        int k, ok_all = 1;

        is_int(calstore_mkcol_ex(st, "dcls", CALSTORE_COLL_CALENDAR, NULL,
                                 &dc, pool), APR_SUCCESS,
               "a calendar for the class test");
        se[0] = T0;
        se[1] = T0 + 6 * DAY;
        ok_all &= put_cal(st, "dcls/long.ics",
                          cal_info(pool, "dc-long", COMP_EVENT, T0 - YEAR,
                                   T0 + YEAR, 0, 0, 1, se),
                          NULL, NULL, pool) == APR_SUCCESS;
        for (k = 0; k < 168; k++) {            /* hourly for 7 days */
            se[0] = T0 + k * HOUR;
            se[1] = se[0] + HOUR;
            ok_all &= put_cal(st, apr_psprintf(pool, "dcls/h%03d.ics", k),
                              cal_info(pool, apr_psprintf(pool, "dc-%d", k),
                                       COMP_EVENT, T0 - YEAR, T0 + YEAR, 0,
                                       0, 1, se),
                              NULL, NULL, pool) == APR_SUCCESS;
        }
        ok(ok_all, "put a 6-day event and 168 one-hour events");
        v0 = calstore__test_visited;
        is_str(range_names(st, dc->id, T0 + 100 * HOUR + 1,
                           T0 + 101 * HOUR - 1, 0, pool),
               "h100.ics,long.ics", "an hour's query finds its meeting and "
               "the 6-day event");
        ok(calstore__test_visited - v0 <= 12, "... reading %lu index "
           "entries, not the week of meetings before it",
           (unsigned long)(calstore__test_visited - v0));
        is_int(calstore_delete(st, "dcls", NULL, pool), APR_SUCCESS,
               "delete the class test's calendar");
    }
    /* The longest short instance of a class decides how far back tr is
     * read: one that long must be found by a range starting exactly at its
     * end, and the longest long one (class 0: up to 14 days) likewise. */
    se[0] = T0 + 100 * DAY;
    se[1] = T0 + 106 * DAY;
    se[2] = T0 + 200 * DAY;
    se[3] = T0 + 214 * DAY;
    is_int(put_cal(st, "cal/m.ics", cal_info(pool, "uid-m", COMP_EVENT,
                                             T0, T0 + YEAR, 0, 0, 2, se),
                   NULL, NULL, pool), APR_SUCCESS, "put m.ics (6 days, "
           "14 days)");
    is_str(range_names(st, cal_id, T0 + 106 * DAY, T0 + 106 * DAY, 0, pool),
           "m.ics", "the longest short instance, at its very end");
    is_str(range_names(st, cal_id, T0 + 106 * DAY + 1, T0 + 107 * DAY, 0,
                       pool), "", "... not after it");
    is_str(range_names(st, cal_id, T0 + 214 * DAY, T0 + 214 * DAY, 0, pool),
           "m.ics", "the longest class-0 instance, at its very end");
    is_str(range_names(st, cal_id, T0 + 214 * DAY + 1, T0 + 215 * DAY, 0,
                       pool), "", "... not after it");
    is_int(calstore_delete(st, "cal/m.ics", NULL, pool), APR_SUCCESS,
           "delete m.ics again");
    is_str(range_names(st, cal_id, T0, T0 + 2 * DAY, 0, pool),
           "a.ics,b.ics", "a two-day range");
    is_str(range_names(st, cal_id, T0, T0 + 2 * DAY, COMP_EVENT, pool),
           "b.ics", "... only VEVENTs");
    is_str(range_names(st, cal_id, T0, T0 + 2 * DAY,
                       COMP_TODO | COMP_JOURNAL, pool), "a.ics",
           "... only VTODOs and VJOURNALs");
    is_str(range_names(st, home_id, TMIN, TMAX, 0, pool), "",
           "a plain collection has no calendar objects");
    o = objs_new(pool);
    is_int(calstore_query_range(st, a_id, TMIN, TMAX, 0, objs_cb, o, pool),
           CALSTORE_ENOTCOLL, "query_range on a resource: ENOTCOLL");
    is_int(calstore_query_range(st, 987654, TMIN, TMAX, 0, objs_cb, o, pool),
           CALSTORE_ENOENT, "query_range on a missing id: ENOENT");
    is_int(calstore_query_range(st, cal_id, T0 + 1, T0, 0, objs_cb, o, pool),
           CALSTORE_EINVAL, "query_range with end before start: EINVAL");
    is_int(o->names->nelts, 0, "... no callbacks");

    /* query_all. */
    is_str(all_names(st, cal_id, 0, pool), "a.ics,b.ics,c.ics",
           "query_all in name order");
    is_str(all_names(st, cal_id, COMP_TODO, pool), "a.ics",
           "query_all of VTODOs");
    is_str(all_names(st, home_id, 0, pool), "", "query_all of a plain "
           "collection");
    is_int(calstore_query_all(st, a_id, 0, objs_cb, o, pool),
           CALSTORE_ENOTCOLL, "query_all on a resource: ENOTCOLL");
    is_int(calstore_query_all(st, 987654, 0, objs_cb, o, pool),
           CALSTORE_ENOENT, "query_all on a missing id: ENOENT");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");

    /* Delete. */
    r0 = rev_of(st, "cal", pool);
    is_int(calstore_delete(st, "cal/c.ics", NULL, pool), APR_SUCCESS,
           "delete c.ics");
    ok(counts_are(st, 2, 2, 2, 0), "its record, UID, tr and edge entries "
       "are gone");
    is_int(rev_of(st, "cal", pool), r0 + 1, "calendar bumped");
    ok(uid_name(st, cal_id, "uid-c", pool) == NULL, "its UID is free");
    is_str(range_names(st, cal_id, TMIN, TMAX, 0, pool), "a.ics,b.ics",
           "queries no longer see it");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
    is_int(put_cal(st, "home/cal2/x.ics", cal_one(pool, "uid-x", COMP_EVENT,
                                                  T0, T0 + HOUR),
                   NULL, NULL, pool), APR_SUCCESS, "an object in home/cal2");
    is_int(put_cal(st, "home/cal2/y.ics", cal_one(pool, "uid-y", COMP_EVENT,
                                                  T0, T0 + 30 * DAY),
                   NULL, NULL, pool), APR_SUCCESS, "a long one too");
    ok(counts_are(st, 4, 4, 3, 1), "four objects");
    is_int(calstore_delete(st, "cal", NULL, pool), APR_SUCCESS,
           "delete the calendar cal");
    ok(counts_are(st, 2, 2, 1, 1), "... its objects' entries are gone");
    ok(uid_name(st, cal_id, "uid-a2", pool) == NULL, "... and its UIDs");
    is_int(calstore_delete(st, "home", NULL, pool), APR_SUCCESS,
           "delete home (an ancestor of a calendar)");
    ok(counts_are(st, 0, 0, 0, 0), "no calendar data left at all");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");

    calstore_close(st);
    is_int(run_verify(dir), 0, "db5.3_verify passes");
    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* ---- O. copy and move with calendars ------------------------------------ */

static void test_cal_copy_move(void)
{
    apr_pool_t *pool;
    char *dir = make_tmpdir("calcm");
    calstore_t *st;
    calstore_node_t *n, *n2, *c1, *c2;
    calstore_calinfo_t *ci;
    const char *conflict;
    apr_size_t c0[5], cc[4];
    apr_uint64_t r1, r2;
    calstore_id_t x_id, z_id, c1_id, c2_id;
    apr_int64_t se[4];
    int i, damage_ok;
    const char *damages = "TtUuEM";

    diag("O. copy and move with calendar collections");
    apr_pool_create(&pool, gpool);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL, "open");
    if (st == NULL) {
        return;
    }
    calstore_mkcol_ex(st, "c1", CALSTORE_COLL_CALENDAR, NULL, &c1, pool);
    calstore_mkcol_ex(st, "c2", CALSTORE_COLL_CALENDAR, NULL, &c2, pool);
    c1_id = c1->id;
    c2_id = c2->id;
    calstore_mkcol(st, "p", NULL, pool);
    calstore_mkcol(st, "p/sub", NULL, pool);
    se[0] = T0;
    se[1] = T0 + HOUR;
    se[2] = T0 + 20 * DAY;          /* long */
    se[3] = T0 + 40 * DAY;
    ci = cal_info(pool, "X", COMP_EVENT, T0 - YEAR, T0 + YEAR, 1, 0, 2, se);
    is_int(put_cal(st, "c1/x.ics", ci, NULL, &n, pool), APR_SUCCESS,
           "c1/x.ics (uid X: a short and a long instance, before)");
    x_id = n->id;
    is_int(put_cal(st, "c1/y.ics", cal_one(pool, "Y", COMP_TODO, T0 + DAY,
                                           T0 + DAY), NULL, NULL, pool),
           APR_SUCCESS, "c1/y.ics (uid Y)");
    is_int(put_str(st, "p/z.txt", "plain", &n, pool), APR_SUCCESS,
           "p/z.txt (plain)");
    z_id = n->id;
    ok(counts_are(st, 2, 2, 2, 2), "baseline index entries");

    /* COPY of objects. */
    conflict = NULL;
    is_int(calstore_copy_ex(st, "c1/x.ics", "c1/x2.ics", 0, 0, NULL,
                            &conflict, &n, pool), CALSTORE_EUIDCONFLICT,
           "copy within one calendar: EUIDCONFLICT");
    is_str(conflict, "x.ics", "... naming the source");
    is_int(calstore_copy(st, "c1/x.ics", "c1/x2.ics", 0, 0, &n, pool),
           CALSTORE_EUIDCONFLICT, "calstore_copy too");
    ok(node_at(st, "c1/x2.ics", pool) == NULL
       && counts_are(st, 2, 2, 2, 2), "... nothing written");
    r2 = rev_of(st, "c2", pool);
    is_int(calstore_copy(st, "c1/x.ics", "c2/x.ics", 0, 0, &n, pool),
           APR_SUCCESS, "copy x.ics into c2");
    ok(n->id != x_id && n->flags == COMP_EVENT, "new id, component kept");
    is_int(rev_of(st, "c2", pool), r2 + 1, "c2 bumped");
    is_str(record_of(st, n->id, pool), "REC:X", "record copied");
    is_str(uid_name(st, c2_id, "X", pool), "x.ics", "UID indexed in c2");
    ok(counts_are(st, 3, 3, 3, 4), "entries for the copy");
    is_str(range_names(st, c2_id, T0 + 30 * DAY, T0 + 31 * DAY, 0, pool),
           "x.ics", "its long instance is found in c2");
    is_str(range_names(st, c2_id, T0 - 5 * YEAR, T0 - 4 * YEAR, 0, pool),
           "x.ics", "its 'before' edge too");
    is_int(calstore_copy(st, "c1/x.ics", "c2/x.ics", 0, 1, &n, pool),
           APR_SUCCESS, "copy again over the copy (same UID: no conflict)");
    ok(counts_are(st, 3, 3, 3, 4), "... replaced, not added");
    is_int(calstore_copy(st, "c1/y.ics", "c2/other.ics", 0, 0, &n, pool),
           APR_SUCCESS, "copy y.ics into c2");
    conflict = NULL;
    is_int(calstore_copy_ex(st, "c1/y.ics", "c2/third.ics", 0, 0, NULL,
                            &conflict, &n, pool), CALSTORE_EUIDCONFLICT,
           "copy y.ics into c2 again under another name: conflict");
    is_str(conflict, "other.ics", "... naming c2's member");
    is_int(calstore_copy(st, "c1/y.ics", "c2/x.ics", 0, 1, &n, pool),
           CALSTORE_EUIDCONFLICT, "overwriting x.ics with Y while other.ics "
           "has Y: conflict");
    is_str(uid_name(st, c2_id, "X", pool), "x.ics", "... x.ics untouched");
    is_int(calstore_delete(st, "c2/other.ics", NULL, pool), APR_SUCCESS,
           "delete c2/other.ics");
    is_int(calstore_copy(st, "c1/y.ics", "c2/x.ics", 0, 1, &n, pool),
           APR_SUCCESS, "now overwrite c2/x.ics with Y");
    ok(uid_name(st, c2_id, "X", pool) == NULL
       && !strcmp(uid_name(st, c2_id, "Y", pool), "x.ics"),
       "... the UID entries follow");
    ok(counts_are(st, 3, 3, 3, 2), "entries after the overwrite");

    /* Out of and into calendars. */
    is_int(calstore_copy(st, "c1/x.ics", "p/x.ics", 0, 0, &n, pool),
           APR_SUCCESS, "copy x.ics out of the calendar");
    ok(n->flags == 0 && record_of(st, n->id, pool) == NULL,
       "... a plain resource there");
    ok(counts_are(st, 3, 3, 3, 2), "... no entries added");
    is_int(calstore_copy(st, "p/z.txt", "c1/z.ics", 0, 0, &n, pool),
           CALSTORE_ENOTCALOBJ, "copy a plain resource into a calendar: "
           "ENOTCALOBJ");
    is_int(calstore_move(st, "p/z.txt", "c1/z.ics", 0, &n, pool),
           CALSTORE_ENOTCALOBJ, "move it there: ENOTCALOBJ");
    ci = cal_one(pool, "Z", COMP_JOURNAL, T0 + 2 * DAY, T0 + 2 * DAY);
    is_int(calstore_copy_ex(st, "p/z.txt", "c1/z.ics", 0, 0, ci, NULL, &n,
                            pool), APR_SUCCESS, "copy_ex it with dst_cal");
    ok(n->flags == COMP_JOURNAL && !strcmp(record_of(st, n->id, pool),
                                           "REC:Z"), "... indexed");
    is_int(calstore_delete(st, "c1/z.ics", NULL, pool), APR_SUCCESS,
           "delete the copy");
    ci = cal_one(pool, "X", COMP_JOURNAL, T0 + 2 * DAY, T0 + 2 * DAY);
    conflict = NULL;
    is_int(calstore_move_ex(st, "p/z.txt", "c1/z.ics", 0, ci, &conflict, &n,
                            pool), CALSTORE_EUIDCONFLICT, "move_ex with a "
           "dst_cal whose UID is taken: conflict");
    is_str(conflict, "x.ics", "... naming x.ics");
    ci = cal_one(pool, "Z", COMP_JOURNAL, T0 + 2 * DAY, T0 + 2 * DAY);
    r1 = rev_of(st, "c1", pool);
    is_int(calstore_move_ex(st, "p/z.txt", "c1/z.ics", 0, ci, &conflict, &n,
                            pool), APR_SUCCESS, "move_ex p/z.txt into c1");
    ok(n->id == z_id && n->flags == COMP_JOURNAL, "... same id, flags set");
    is_int(rev_of(st, "c1", pool), r1 + 1, "c1 bumped");
    is_str(uid_name(st, c1_id, "Z", pool), "z.ics", "... indexed");
    ok(counts_are(st, 4, 4, 4, 2), "entries for z.ics");
    is_int(calstore_move(st, "c1/z.ics", "c1/zz.ics", 0, &n, pool),
           APR_SUCCESS, "rename within the calendar (no conflict with "
           "itself)");
    ok(n->id == z_id && !strcmp(uid_name(st, c1_id, "Z", pool), "zz.ics"),
       "... the UID entry names the new member");
    is_str(range_names(st, c1_id, T0 + 2 * DAY, T0 + 2 * DAY + 1, 0, pool),
           "zz.ics", "... and queries find it under its new name");
    ok(counts_are(st, 4, 4, 4, 2), "... same number of entries");
    r1 = rev_of(st, "c1", pool);
    r2 = rev_of(st, "c2", pool);
    is_int(calstore_move(st, "c1/zz.ics", "c2/z.ics", 0, &n, pool),
           APR_SUCCESS, "move zz.ics from c1 to c2");
    ok(uid_name(st, c1_id, "Z", pool) == NULL
       && !strcmp(uid_name(st, c2_id, "Z", pool), "z.ics"),
       "... re-keyed to c2");
    ok(rev_of(st, "c1", pool) == r1 + 1 && rev_of(st, "c2", pool) == r2 + 1,
       "... both calendars bumped");
    is_str(range_names(st, c1_id, T0 + 2 * DAY, T0 + 2 * DAY + 1, 0, pool),
           "", "... c1 no longer finds it");
    is_str(range_names(st, c2_id, T0 + 2 * DAY, T0 + 2 * DAY + 1, 0, pool),
           "z.ics", "... c2 does");
    se[0] = T0 + 5 * DAY;
    se[1] = T0 + 5 * DAY + HOUR;
    ci = cal_info(pool, "Z", COMP_EVENT, T0, T0 + YEAR, 0, 1, 1, se);
    is_int(calstore_move_ex(st, "c2/z.ics", "c2/z2.ics", 0, ci, NULL, &n,
                            pool), APR_SUCCESS, "move_ex within c2 with a "
           "new dst_cal (re-indexed)");
    ok(n->flags == COMP_EVENT, "... new component");
    is_str(range_names(st, c2_id, T0 + 2 * DAY, T0 + 2 * DAY + 1, 0, pool),
           "", "... old instance gone");
    is_str(range_names(st, c2_id, T0 + 5 * DAY, T0 + 5 * DAY + 1, 0, pool),
           "z2.ics", "... new instance found");
    is_str(range_names(st, c2_id, T0 + 3 * YEAR, T0 + 4 * YEAR, 0, pool),
           "z2.ics", "... with its 'after' edge");
    is_int(calstore_move(st, "c2/z2.ics", "p/z.txt", 0, &n, pool),
           APR_SUCCESS, "move it out of the calendar");
    ok(n->flags == 0 && record_of(st, z_id, pool) == NULL
       && uid_name(st, c2_id, "Z", pool) == NULL,
       "... its calendar data is dropped");
    ok(counts_are(st, 3, 3, 3, 2), "back to three objects");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");

    /* Collections never land in a calendar. */
    counts(st, c0);
    is_int(calstore_copy(st, "p/sub", "c1/sub", -1, 0, &n, pool),
           CALSTORE_ENESTED, "copy an empty collection into a calendar");
    is_int(calstore_move(st, "p/sub", "c1/sub", 0, &n, pool),
           CALSTORE_ENESTED, "move it there");
    is_int(calstore_copy(st, "c2", "c1/c2", 0, 0, &n, pool),
           CALSTORE_ENESTED, "copy a calendar into a calendar");
    is_int(calstore_move(st, "c2", "c1/c2", 0, &n, pool), CALSTORE_ENESTED,
           "move a calendar into a calendar");
    is_int(calstore_move(st, "p/sub", "c1/x.ics", 1, &n, pool),
           CALSTORE_ENESTED, "... also when overwriting a member");
    is_int(calstore_move(st, "p/sub", "c1/x.ics", 0, &n, pool),
           CALSTORE_EEXIST, "... an existing member without overwrite: "
           "EEXIST first");
    ok(node_at(st, "c1/x.ics", pool) != NULL, "... x.ics still there");
    {
        apr_size_t c1c[5];

        counts(st, c1c);
        ok(memcmp(c0, c1c, sizeof(c0)) == 0 && counts_are(st, 3, 3, 3, 2),
           "... nothing written");
    }

    /* Whole calendars. */
    is_int(calstore_move(st, "c1", "p/c1", 0, &n, pool), APR_SUCCESS,
           "move calendar c1 into a plain collection");
    ok(n->id == c1_id && n->flags == CALSTORE_COLL_CALENDAR, "... id and "
       "flag kept");
    ok(counts_are(st, 3, 3, 3, 2), "... no entry re-keyed");
    is_str(range_names(st, c1_id, TMIN, TMAX, 0, pool), "x.ics,y.ics",
           "... queries by its id still work");
    is_str(uid_name(st, c1_id, "X", pool), "x.ics", "... and UID lookups");
    is_int(calstore_copy(st, "p/c1", "c3", -1, 0, &n, pool), APR_SUCCESS,
           "copy calendar p/c1 to c3 (depth infinity)");
    ok(n->id != c1_id && n->flags == CALSTORE_COLL_CALENDAR,
       "... a new calendar");
    is_str(range_names(st, n->id, TMIN, TMAX, 0, pool), "x.ics,y.ics",
           "... its copies are indexed under the new id");
    is_str(range_names(st, n->id, T0 + 30 * DAY, T0 + 31 * DAY, 0, pool),
           "x.ics", "... long instance included");
    is_str(uid_name(st, n->id, "Y", pool), "y.ics", "... with their UIDs");
    ok(counts_are(st, 5, 5, 5, 4), "... two more objects' entries");
    is_int(calstore_copy(st, "p", "p2", -1, 0, &n, pool), APR_SUCCESS,
           "copy p (holding calendar c1) to p2");
    ok(counts_are(st, 7, 7, 7, 6), "... the nested calendar's objects are "
       "indexed too");
    n2 = node_at(st, "p2/c1", pool);
    is_str(n2 ? range_names(st, n2->id, TMIN, TMAX, 0, pool) : NULL,
           "x.ics,y.ics", "... found in p2/c1");
    is_int(calstore_copy(st, "p/c1", "c4", 0, 0, &n, pool), APR_SUCCESS,
           "copy a calendar at depth 0");
    ok(n->flags == CALSTORE_COLL_CALENDAR
       && !strcmp(range_names(st, n->id, TMIN, TMAX, 0, pool), ""),
       "... an empty calendar");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
    is_int(calstore_delete(st, "p2", NULL, pool), APR_SUCCESS, "delete p2");
    is_int(calstore_copy(st, "c3", "p/c1", -1, 1, &n, pool), APR_SUCCESS,
           "copy c3 over p/c1 (overwrite a calendar)");
    ok(counts_are(st, 5, 5, 5, 4), "... the replaced calendar's entries "
       "went");
    ok(uid_name(st, c1_id, "X", pool) == NULL, "... nothing left under its "
       "id");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");

    /* The check catches every kind of index damage. */
    damage_ok = 1;
    for (i = 0; damages[i]; i++) {
        apr_status_t d = calstore__test_damage(st, damages[i]);
        apr_status_t c = calstore__check(st, pool);
        apr_status_t u = calstore__test_damage(st, 0);
        apr_status_t c2r = calstore__check(st, pool);

        if (d != APR_SUCCESS || c != CALSTORE_ECORRUPT || u != APR_SUCCESS
            || c2r != APR_SUCCESS) {
            diag("damage '%c': damage %d, check %d, undo %d, check %d",
                 damages[i], d, c, u, c2r);
            damage_ok = 0;
        }
    }
    ok(damage_ok, "the check reports each damage (%s) and passes once it "
       "is undone", damages);
    is_int(calstore__test_damage(st, 0), CALSTORE_ENOENT,
           "nothing left to undo");
    cal_counts(st, cc);
    calstore_close(st);
    is_int(run_verify(dir), 0, "db5.3_verify passes");
    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* ---- Q. query_range against brute force --------------------------------- */

static apr_uint64_t rng_state;

static apr_uint64_t rnd64(void)
{
    apr_uint64_t x = rng_state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* Uniform in [0, n). */
static apr_int64_t rnd(apr_int64_t n)
{
    return n > 0 ? (apr_int64_t)(rnd64() % (apr_uint64_t)n) : 0;
}

/* A synthetic calendar object: its true instances, and what the store is
 * told (the instances overlapping the window, the before/after flags). */
typedef struct bobj_t {
    const char *name;
    const char *uid;
    apr_uint32_t comp;
    apr_int64_t from, until;
    int before, after;
    apr_int64_t first, last;        /* the set's reach; 0/0 = unknown     */
    apr_array_header_t *truth;      /* calstore_span_t */
    apr_array_header_t *listed;     /* calstore_span_t */
    int present;
    int exact;                      /* calinfo 'exact' (VEVENTs only)   */
} bobj_t;

static void bobj_push(apr_array_header_t *arr, apr_int64_t s, apr_int64_t e)
{
    calstore_span_t *sp = apr_array_push(arr);

    sp->start = s;
    sp->end = e;
}

/* Split 'o->truth' by the window [from, until) as core's expansion does:
 * listed = the instances overlapping the window; the others end at or
 * before 'from' (before) or start at or after 'until' (after). */
static void bobj_index(bobj_t *o)
{
    int i;

    apr_array_clear(o->listed);
    o->before = 0;
    for (i = 0; i < o->truth->nelts; i++) {
        calstore_span_t *sp = &APR_ARRAY_IDX(o->truth, i, calstore_span_t);

        if (sp->end > o->from && sp->start < o->until) {
            *(calstore_span_t *)apr_array_push(o->listed) = *sp;
        }
        else if (sp->end <= o->from) {
            o->before = 1;
        }
        else {
            o->after = 1;
        }
    }
}

static calstore_calinfo_t *bobj_info(const bobj_t *o, apr_pool_t *pool)
{
    calstore_calinfo_t *ci = apr_pcalloc(pool, sizeof(*ci));

    ci->uid = o->uid;
    ci->comp = o->comp;
    ci->record = apr_pstrcat(pool, "REC:", o->uid, NULL);
    ci->record_len = strlen(ci->record);
    ci->win_from = o->from;
    ci->win_until = o->until;
    ci->before = o->before;
    ci->after = o->after;
    ci->first = o->first;
    ci->last = o->last;
    ci->instances = o->listed;
    ci->exact = o->exact;
    return ci;
}

static apr_int64_t rnd_dur(void)
{
    int r = (int)rnd(100);

    if (r < 15) {
        return 0;
    }
    if (r < 65) {
        return rnd(6 * HOUR);
    }
    if (r < 85) {
        return DAY + rnd(5 * DAY);
    }
    if (r < 90) {
        return WEEK - DAY / 2 + rnd(DAY);        /* around the 7-day limit */
    }
    return 8 * DAY + rnd(400 * DAY);
}

/* Window boundaries shared by many objects (as the store's writers share
 * one per day), so that 'L' / 'H' groups hold several edges. */
#define B_SHARED 6

static void bobj_random(bobj_t *o, int i, int version, apr_pool_t *pool)
{
    int k, j, r = (int)rnd(10);

    o->name = apr_psprintf(pool, "o%03d.ics", i);
    o->uid = apr_psprintf(pool, "uid-%d-%d", i, version);
    o->comp = r < 6 ? COMP_EVENT : r < 9 ? COMP_TODO : COMP_JOURNAL;
    /* Half of the windows start on one of a few shared days, half
     * anywhere; likewise (independently) their ends. */
    o->from = rnd(2) ? T0 - YEAR + rnd(B_SHARED) * DAY
                     : T0 - YEAR + rnd(2 * YEAR);
    o->until = rnd(20) == 0 ? o->from
               : rnd(2) ? T0 + YEAR + rnd(B_SHARED) * DAY
                        : o->from + 30 * DAY + rnd(2 * YEAR);
    if (o->until < o->from) {
        o->until = o->from;
    }
    o->truth = apr_array_make(pool, 8, sizeof(calstore_span_t));
    o->listed = apr_array_make(pool, 8, sizeof(calstore_span_t));
    o->after = rnd(10) == 0;                /* a rule without end */
    o->present = 1;
    k = (int)rnd(9);
    if (rnd(3) == 0) {
        /* A series, as a recurrence rule gives: its short instances are
         * indexed in runs (CALSTORE_RUN_CLASS), its long ones each on its
         * own. */
        static const apr_int64_t steps[] = {
            3 * HOUR, DAY, WEEK, 2 * WEEK, 30 * DAY
        };
        apr_int64_t s = T0 - 3 * YEAR + rnd(7 * YEAR);
        apr_int64_t step = steps[rnd(5)];

        k = 2 + (int)rnd(40);
        for (j = 0; j < k; j++) {
            bobj_push(o->truth, s + j * step, s + j * step + rnd_dur());
        }
    }
    for (j = 0; j < k && o->truth->nelts < k; j++) {
        apr_int64_t s;

        switch (rnd(12)) {
        case 0:         /* on a window edge */
            s = rnd(2) ? o->from : o->until;
            break;
        case 1:         /* same start as the previous one */
            s = j ? APR_ARRAY_IDX(o->truth, j - 1, calstore_span_t).start
                  : T0;
            break;
        default:
            s = T0 - 3 * YEAR + rnd(7 * YEAR);
            break;
        }
        bobj_push(o->truth, s, s + rnd_dur());
    }
    if (k > 0 && rnd(2)) {
        /* Half of them list every instance (no edges unless 'after'). */
        o->from = TMAX;
        o->until = TMIN;
        for (j = 0; j < k; j++) {
            calstore_span_t *sp = &APR_ARRAY_IDX(o->truth, j,
                                                 calstore_span_t);

            o->from = sp->start < o->from ? sp->start : o->from;
            o->until = sp->end + 1 > o->until ? sp->end + 1 : o->until;
        }
    }
    if (i == 0) {
        bobj_push(o->truth, TMIN, TMAX);    /* a VTODO without dates */
    }
    else if (i == 1) {
        bobj_push(o->truth, T0, TMAX);      /* CREATED only */
    }
    else if (i == 2) {
        bobj_push(o->truth, TMIN, T0 - 2 * YEAR);
    }
    bobj_index(o);
    o->exact = o->comp == COMP_EVENT && i > 2 && rnd(3) != 0;
    /* Most know how far their set reaches (the edges are then ordered by
     * it within a boundary); the others leave it unknown (0/0: the widest
     * range). */
    o->first = o->last = 0;
    if (o->truth->nelts > 0 && rnd(5) != 0) {
        o->first = TMAX;
        o->last = TMIN;
        for (j = 0; j < o->truth->nelts; j++) {
            calstore_span_t *sp = &APR_ARRAY_IDX(o->truth, j,
                                                 calstore_span_t);

            o->first = sp->start < o->first ? sp->start : o->first;
            o->last = sp->end > o->last ? sp->end : o->last;
        }
        if (o->after && rnd(2)) {
            o->last = TMAX;             /* a rule without end */
        }
        if (o->first == 0 && o->last == 0) {
            o->last = 1;
        }
    }
}

/* The reach the store keeps for 'o' (0/0: the widest). */
static apr_int64_t bobj_first(const bobj_t *o)
{
    return o->first == 0 && o->last == 0 ? APR_INT64_MIN : o->first;
}

static apr_int64_t bobj_last(const bobj_t *o)
{
    return o->first == 0 && o->last == 0 ? APR_INT64_MAX : o->last;
}

/* What calstore_query_range() promises: sorted joined names. */
static const char *brute_names(bobj_t *objs, int n, apr_int64_t qs,
                               apr_int64_t qe, apr_uint32_t mask,
                               apr_pool_t *pool)
{
    apr_array_header_t *names = apr_array_make(pool, 16, sizeof(char *));
    int i, j, hit;

    for (i = 0; i < n; i++) {
        bobj_t *o = &objs[i];

        if (!o->present || (mask && !(mask & o->comp))) {
            continue;
        }
        hit = (o->before && o->from >= qs && bobj_first(o) <= qe)
              || (o->after && o->until <= qe && bobj_last(o) >= qs);
        for (j = 0; !hit && j < o->listed->nelts; j++) {
            calstore_span_t *sp = &APR_ARRAY_IDX(o->listed, j,
                                                 calstore_span_t);

            hit = sp->start <= qe && sp->end >= qs;
        }
        if (hit) {
            APR_ARRAY_PUSH(names, const char *) = o->name;
        }
    }
    qsort(names->elts, names->nelts, sizeof(char *), cmp_str);
    return apr_array_pstrcat(pool, names, ',');
}

/* Objects with a true instance meeting [qs, qe] that the query missed. */
static int truth_missed(bobj_t *objs, int n, apr_hash_t *got,
                        apr_int64_t qs, apr_int64_t qe, apr_uint32_t mask)
{
    int i, j, missed = 0;

    for (i = 0; i < n; i++) {
        bobj_t *o = &objs[i];

        if (!o->present || (mask && !(mask & o->comp))) {
            continue;
        }
        for (j = 0; j < o->truth->nelts; j++) {
            calstore_span_t *sp = &APR_ARRAY_IDX(o->truth, j,
                                                 calstore_span_t);

            if (sp->start <= qe && sp->end >= qs) {
                if (!apr_hash_get(got, o->name, APR_HASH_KEY_STRING)) {
                    missed++;
                }
                break;
            }
        }
    }
    return missed;
}

/* Run 'nq' random queries; count mismatches against the promise and
 * against the true instances. */
static void run_random_queries(calstore_t *st, calstore_id_t coll,
                               bobj_t *objs, int n, int nq,
                               const char *what, apr_pool_t *pool)
{
    static const apr_int64_t lens[] = { 0, 1, HOUR, DAY, WEEK, 30 * DAY,
                                        YEAR, 10 * YEAR };
    static const apr_uint32_t masks[] = { COMP_EVENT, COMP_TODO,
                                          COMP_EVENT | COMP_JOURNAL };
    apr_pool_t *iter;
    int q, wrong = 0, missed = 0, dups = 0, bad_rec = 0, total = 0;
    int proven = 0, false_proofs = 0, with_record = 0;

    apr_pool_create(&iter, pool);
    for (q = 0; q < nq; q++) {
        apr_int64_t qs, qe;
        apr_uint32_t mask = 0;
        objs_t *o;
        const char *want, *got;
        int r = (int)rnd(16);

        apr_pool_clear(iter);
        qs = T0 - 4 * YEAR + rnd(9 * YEAR);
        qe = qs + lens[rnd(4)];
        if (r < 6) {
            /* An edge of some instance or window, exactly or off by one,
             * as the start or the end of a short range. */
            bobj_t *b = &objs[rnd(n)];
            apr_int64_t edge = b->from;

            if (b->listed->nelts && rnd(3)) {
                calstore_span_t *sp = &APR_ARRAY_IDX(
                    b->listed, rnd(b->listed->nelts), calstore_span_t);

                edge = rnd(2) ? sp->start : sp->end;
            }
            else if (rnd(2)) {
                edge = b->until;
            }
            if (rnd(2)) {
                edge += rnd(3) - 1;
            }
            if (rnd(2)) {
                qs = edge;
                qe = qs + lens[rnd(5)];
            }
            else {
                qe = edge;
                qs = qe - lens[rnd(5)];
            }
        }
        else if (r < 8) {
            /* Exactly at the 'before' edge / 'after' edge of an object
             * that has one. */
            bobj_t *b = &objs[rnd(n)];
            int tries;

            for (tries = 0; tries < 50 && !(r == 6 ? b->before : b->after);
                 tries++) {
                b = &objs[rnd(n)];
            }
            /* The boundary itself, or just past it (the next group of
             * edges, or none of this one), as a range's start ('L') or
             * end ('H'). */
            if (r == 6) {
                qs = b->from + (rnd(3) == 0 ? 1 : 0);
                qe = qs + lens[rnd(4)];
            }
            else {
                qe = b->until - (rnd(3) == 0 ? 1 : 0);
                qs = qe - lens[rnd(4)];
            }
        }
        else if (r == 12 || r == 13) {
            /* Exactly at (or one off) the reach of an 'L' edge (the range
             * ends at its first start) or of an 'H' edge (the range starts
             * at its last end): where a group's reading stops. */
            bobj_t *b = &objs[rnd(n)];
            int tries;

            for (tries = 0;
                 tries < 50 && !((r == 12 ? b->before : b->after)
                                 && (b->first != 0 || b->last != 0));
                 tries++) {
                b = &objs[rnd(n)];
            }
            if (r == 12) {
                qe = b->first + rnd(3) - 1;
                qs = qe - lens[rnd(4)];
            }
            else {
                qs = b->last + rnd(3) - 1;
                qe = qs + lens[rnd(4)];
            }
        }
        else if (r == 8) {
            qs = TMIN;
        }
        else if (r == 9) {
            qe = TMAX;
        }
        else if (r == 10) {
            qs = TMIN;
            qe = TMAX;
        }
        else if (r == 11) {
            qe = qs + lens[rnd(8)];
        }
        if (rnd(4) == 0) {
            mask = masks[rnd(3)];
        }
        o = objs_new(iter);
        if ((q % 2
             ? calstore_query_range_proven(st, coll, qs, qe, mask, objs_cb,
                                           objs_proven_cb, o, iter)
             : calstore_query_range(st, coll, qs, qe, mask, objs_cb, o,
                                    iter)) != APR_SUCCESS) {
            wrong++;
            continue;
        }
        /* Every proof must hold: an exact object with a listed instance
         * that meets [qs, qe) by the VEVENT rule of RFC 4791 9.9. */
        {
            apr_hash_index_t *hi;

            for (hi = apr_hash_first(iter, o->proven); hi;
                 hi = apr_hash_next(hi)) {
                const char *name = apr_hash_this_key(hi);
                bobj_t *b = &objs[atoi(name + 1)];
                int j, holds = 0;

                proven++;
                for (j = 0; b->exact && !holds && j < b->listed->nelts;
                     j++) {
                    calstore_span_t *sp = &APR_ARRAY_IDX(b->listed, j,
                                                         calstore_span_t);

                    holds = sp->end > sp->start
                            ? sp->start < qe && sp->end > qs
                            : qs <= sp->start && sp->start < qe;
                }
                if (!holds && false_proofs++ == 0) {
                    diag("%s proven for [%" APR_INT64_T_FMT ", %"
                         APR_INT64_T_FMT ") without an instance there",
                         name, qs, qe);
                }
            }
            with_record += o->proven_with_record;
        }
        total += o->names->nelts;
        dups += o->dups;
        bad_rec += o->bad_records;
        want = brute_names(objs, n, qs, qe, mask, iter);
        got = objs_joined(o, iter);
        if (strcmp(want, got) != 0) {
            if (wrong++ == 0) {
                diag("query [%" APR_INT64_T_FMT ", %" APR_INT64_T_FMT
                     "] mask %u: want %s; got %s", qs, qe, mask, want, got);
            }
        }
        missed += truth_missed(objs, n, o->seen, qs, qe, mask);
    }
    apr_pool_destroy(iter);
    is_int(wrong, 0, "%s: %d queries return exactly the promised objects "
           "(%d reported in all)", what, nq, total);
    is_int(missed, 0, "%s: no object with a true instance in the range is "
           "missed", what);
    is_int(dups, 0, "%s: no object reported twice", what);
    is_int(bad_rec, 0, "%s: every record handed back", what);
    ok(proven > 0, "%s: %d objects proven from the index alone", what,
       proven);
    is_int(false_proofs, 0, "%s: every proof holds (an exact VEVENT "
           "instance meets the range)", what);
    is_int(with_record, 0, "%s: proven objects come without a record", what);
}

#define QOBJS 400

static void test_query_brute(void)
{
    apr_pool_t *pool;
    char *dir = make_tmpdir("query");
    calstore_t *st;
    calstore_node_t *cal;
    bobj_t *objs;
    objs_t *o, *o2;
    apr_status_t rv = APR_SUCCESS;
    int i, same, nonempty;

    diag("Q. query_range against brute force (%d random objects)", QOBJS);
    apr_pool_create(&pool, gpool);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL, "open");
    if (st == NULL) {
        return;
    }
    calstore_mkcol_ex(st, "q", CALSTORE_COLL_CALENDAR, NULL, &cal, pool);
    rng_state = APR_UINT64_C(0x2545F4914F6CDD1D);
    objs = apr_pcalloc(pool, QOBJS * sizeof(*objs));
    for (i = 0; i < QOBJS && rv == APR_SUCCESS; i++) {
        bobj_random(&objs[i], i, 0, pool);
        rv = put_cal(st, apr_pstrcat(pool, "q/", objs[i].name, NULL),
                     bobj_info(&objs[i], pool), NULL, NULL, pool);
    }
    is_int(rv, APR_SUCCESS, "%d objects stored", QOBJS);
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");

    run_random_queries(st, cal->id, objs, QOBJS, 400, "fresh", pool);

    /* Everything, twice: the same order both times, across batches. */
    o = objs_new(pool);
    o->st = st;
    o2 = objs_new(pool);
    ok(calstore_query_range(st, cal->id, TMIN, TMAX, 0, objs_cb, o, pool)
       == APR_SUCCESS && calstore_query_range(st, cal->id, TMIN, TMAX, 0,
                                              objs_cb, o2, pool)
       == APR_SUCCESS, "query the whole time line twice");
    for (i = 0, nonempty = 0; i < QOBJS; i++) {
        nonempty += objs[i].listed->nelts > 0 || objs[i].before
                    || objs[i].after;
    }
    is_int(o->names->nelts, nonempty, "every object with an instance or an "
           "edge, more than one batch (%d)", nonempty);
    same = o->names->nelts == o2->names->nelts;
    for (i = 0; same && i < o->names->nelts; i++) {
        same = !strcmp(APR_ARRAY_IDX(o->names, i, char *),
                       APR_ARRAY_IDX(o2->names, i, char *));
    }
    ok(same, "... in the same order both times");
    is_int(o->reenter_failures, 0, "the callback could read the store");
    o = objs_new(pool);
    o->stop_after = 130;
    is_int(calstore_query_range(st, cal->id, TMIN, TMAX, 0, objs_cb, o,
                                pool), APR_EGENERAL,
           "a callback error stops the query and is returned");
    is_int(o->names->nelts, 130, "... after exactly 130 objects");
    o = objs_new(pool);
    o->stop_after = 150;
    is_int(calstore_query_all(st, cal->id, 0, objs_cb, o, pool),
           APR_EGENERAL, "... query_all too");
    is_int(o->names->nelts, 150, "... after exactly 150 objects");
    o = objs_new(pool);
    ok(calstore_query_all(st, cal->id, 0, objs_cb, o, pool) == APR_SUCCESS
       && o->names->nelts == QOBJS, "query_all reports all %d objects",
       QOBJS);

    /* Replace and delete some, then again. */
    rv = APR_SUCCESS;
    for (i = 0; i < QOBJS && rv == APR_SUCCESS; i++) {
        const char *path = apr_pstrcat(pool, "q/", objs[i].name, NULL);

        if (i % 5 == 0) {
            rv = calstore_delete(st, path, NULL, pool);
            objs[i].present = 0;
        }
        else if (i % 7 == 0) {
            bobj_random(&objs[i], i, 1, pool);
            rv = put_cal(st, path, bobj_info(&objs[i], pool), NULL, NULL,
                         pool);
        }
    }
    is_int(rv, APR_SUCCESS, "deleted every 5th object, replaced every 7th");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
    run_random_queries(st, cal->id, objs, QOBJS, 300, "after changes", pool);
    calstore_close(st);
    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* ---- R. concurrent calendar writers and readers ------------------------- */

#define RTHREADS 4
#define RPUTS    100
#define RUIDS    50

typedef struct race_arg_t {
    calstore_t *st;
    calstore_id_t coll;
    int n;                      /* writer number; -1: reader */
    volatile int *stop;
    int ok;                     /* puts that succeeded / queries run */
    int conflicts;              /* EUIDCONFLICT naming a real member */
    int failures;
    apr_status_t last;
} race_arg_t;

static void *APR_THREAD_FUNC race_worker(apr_thread_t *t, void *data)
{
    race_arg_t *a = data;
    apr_pool_t *pool, *iter;
    const char *conflict;
    apr_status_t rv;
    int i;

    apr_pool_create(&pool, NULL);
    apr_pool_create(&iter, pool);
    /* The reader queries at least once, then until the writers are done. */
    for (i = 0; a->n >= 0 ? i < RPUTS : i == 0 || !*a->stop; i++) {
        apr_pool_clear(iter);
        if (a->n < 0) {
            objs_t *o = objs_new(iter);

            rv = calstore_query_range(a->st, a->coll, T0, T0 + 30 * DAY, 0,
                                      objs_cb, o, iter);
            if (rv == APR_SUCCESS && o->dups == 0) {
                a->ok++;
            }
            else {
                a->failures++;
                a->last = rv;
            }
            continue;
        }
        conflict = NULL;
        rv = put_cal(a->st, apr_psprintf(iter, "race/t%d-%03d.ics", a->n, i),
                     cal_one(iter, apr_psprintf(iter, "u%d", i % RUIDS),
                             COMP_EVENT, T0 + (i % 30) * DAY,
                             T0 + (i % 30) * DAY + HOUR),
                     &conflict, NULL, iter);
        if (rv == APR_SUCCESS) {
            a->ok++;
        }
        else if (rv == CALSTORE_EUIDCONFLICT && conflict != NULL
                 && conflict[0] == 't') {
            a->conflicts++;
        }
        else {
            a->failures++;
            a->last = rv;
        }
    }
    apr_pool_destroy(pool);
    return NULL;
}

static void test_cal_race(void)
{
    apr_pool_t *pool;
    char *dir = make_tmpdir("race");
    calstore_t *st;
    calstore_node_t *cal;
    apr_thread_t *th[RTHREADS + 1];
    race_arg_t args[RTHREADS + 1];
    volatile int stop = 0;
    apr_status_t trv;
    int i, wins = 0, conflicts = 0, failures = 0, uids_ok = 1;
    char buf[128];

    diag("R. %d threads putting clashing UIDs into one calendar, one "
         "querying", RTHREADS);
    apr_pool_create(&pool, gpool);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL, "open");
    if (st == NULL) {
        return;
    }
    calstore_mkcol_ex(st, "race", CALSTORE_COLL_CALENDAR, NULL, &cal, pool);
    for (i = 0; i <= RTHREADS; i++) {
        memset(&args[i], 0, sizeof(args[i]));
        args[i].st = st;
        args[i].coll = cal->id;
        args[i].n = i < RTHREADS ? i : -1;
        args[i].stop = &stop;
        apr_thread_create(&th[i], NULL, race_worker, &args[i], pool);
    }
    for (i = 0; i < RTHREADS; i++) {
        apr_thread_join(&trv, th[i]);
    }
    stop = 1;
    apr_thread_join(&trv, th[RTHREADS]);
    for (i = 0; i <= RTHREADS; i++) {
        if (i < RTHREADS) {
            wins += args[i].ok;
            conflicts += args[i].conflicts;
        }
        failures += args[i].failures;
        if (args[i].failures) {
            diag("thread %d: %d failures, last %s", i, args[i].failures,
                 calstore_strerror(args[i].last, buf, sizeof(buf)));
        }
    }
    is_int(failures, 0, "no put or query failed otherwise");
    is_int(wins, RUIDS, "exactly one put per UID won");
    is_int(conflicts, RTHREADS * RPUTS - RUIDS, "every other one was a UID "
           "conflict naming a member");
    ok(args[RTHREADS].ok > 0, "the reader ran %d queries meanwhile",
       args[RTHREADS].ok);
    for (i = 0; i < RUIDS; i++) {
        if (uid_name(st, cal->id, apr_psprintf(pool, "u%d", i), pool)
            == NULL) {
            uids_ok = 0;
        }
    }
    ok(uids_ok && counts_are(st, RUIDS, RUIDS, RUIDS, 0), "one object and "
       "one UID entry per UID");
    is_int(rev_of(st, "race", pool), 1 + RUIDS, "ctag counts the winning "
           "writes only");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
    calstore_close(st);
    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* ---- S. cost follows the matches, not the calendar's size --------------- */

/* Fill calendar 'coll' with 'n' objects spread over ten years
 * [T0 - 7 YEAR, T0 + 3 YEAR): 85% single (15 min to 4 h), 9% weekly series
 * of 4-60 weeks, 3% daily series of 2-20 days, 2% weekly series without
 * end (listed over [T0 - YEAR, T0 + 2 YEAR), before/after edges), 1% long
 * (8-40 days).  Finite sets are listed whole (the adapter's best
 * practice). */
static apr_status_t fill_scaled(calstore_t *st, const char *coll, int n,
                                bobj_t *objs, apr_pool_t *pool)
{
    apr_pool_t *iter;
    apr_status_t rv = APR_SUCCESS;
    int i, j, k, r;

    apr_pool_create(&iter, pool);
    for (i = 0; i < n && rv == APR_SUCCESS; i++) {
        bobj_t *o = &objs[i];
        apr_int64_t t = T0 - 7 * YEAR + rnd(10 * YEAR), dur;

        apr_pool_clear(iter);
        o->name = apr_psprintf(pool, "s%05d.ics", i);
        o->uid = apr_psprintf(pool, "s-%d", i);
        o->comp = COMP_EVENT;
        o->truth = apr_array_make(pool, 1, sizeof(calstore_span_t));
        o->listed = o->truth;
        o->present = 1;
        r = (int)rnd(100);
        dur = 15 * 60 + rnd(4 * HOUR - 15 * 60);
        if (r < 85) {
            bobj_push(o->truth, t, t + dur);
        }
        else if (r < 94) {
            for (k = 4 + (int)rnd(57), j = 0; j < k; j++) {
                bobj_push(o->truth, t + j * WEEK, t + j * WEEK + dur);
            }
        }
        else if (r < 97) {
            for (k = 2 + (int)rnd(19), j = 0; j < k; j++) {
                bobj_push(o->truth, t + j * DAY, t + j * DAY + dur);
            }
        }
        else if (r < 99) {
            /* Unbounded: instances from t on, listed in the window. */
            apr_int64_t s = t;

            o->listed = apr_array_make(pool, 8, sizeof(calstore_span_t));
            o->from = T0 - YEAR;
            o->until = T0 + 2 * YEAR;
            o->before = t < o->from;
            o->after = 1;
            if (s < o->from) {
                s += ((o->from - s + WEEK - 1) / WEEK) * WEEK;
            }
            for (; s < o->until; s += WEEK) {
                bobj_push(o->listed, s, s + dur);
            }
        }
        else {
            bobj_push(o->truth, t, t + 8 * DAY + rnd(32 * DAY));
        }
        if (o->listed == o->truth) {
            calstore_span_t *last = &APR_ARRAY_IDX(o->truth,
                                                   o->truth->nelts - 1,
                                                   calstore_span_t);

            o->from = APR_ARRAY_IDX(o->truth, 0, calstore_span_t).start;
            o->until = last->end + 1;
        }
        rv = put_cal(st, apr_pstrcat(iter, coll, "/", o->name, NULL),
                     bobj_info(o, iter), NULL, NULL, iter);
    }
    apr_pool_destroy(iter);
    return rv;
}

static void test_scaling(void)
{
    apr_pool_t *pool;
    char *dir = make_tmpdir("scale");
    calstore_t *st;
    calstore_node_t *small, *big;
    bobj_t *objs_s, *objs_b;
    apr_int64_t qs = T0 + 100 * DAY, qe = qs + WEEK;
    apr_uint64_t v0, visited_s, visited_b;
    int matches_s, matches_b;
    objs_t *o;
    apr_time_t t0;

    diag("S. a one-week query in 1,000 vs 20,000 objects");
    apr_pool_create(&pool, gpool);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL, "open");
    if (st == NULL) {
        return;
    }
    calstore_mkcol_ex(st, "small", CALSTORE_COLL_CALENDAR, NULL, &small,
                      pool);
    calstore_mkcol_ex(st, "big", CALSTORE_COLL_CALENDAR, NULL, &big, pool);
    rng_state = APR_UINT64_C(0x9E3779B97F4A7C15);
    objs_s = apr_pcalloc(pool, 1000 * sizeof(*objs_s));
    objs_b = apr_pcalloc(pool, 20000 * sizeof(*objs_b));
    t0 = apr_time_now();
    is_int(fill_scaled(st, "small", 1000, objs_s, pool), APR_SUCCESS,
           "1,000 objects stored");
    is_int(fill_scaled(st, "big", 20000, objs_b, pool), APR_SUCCESS,
           "20,000 objects stored");
    diag("21,000 puts in %" APR_TIME_T_FMT " ms",
         (apr_time_now() - t0) / 1000);

    o = objs_new(pool);
    v0 = calstore__test_visited;
    ok(calstore_query_range(st, small->id, qs, qe, 0, objs_cb, o, pool)
       == APR_SUCCESS, "one-week query, 1,000 objects");
    visited_s = calstore__test_visited - v0;
    matches_s = o->names->nelts;
    is_str(objs_joined(o, pool),
           brute_names(objs_s, 1000, qs, qe, 0, pool), "... exact result");
    o = objs_new(pool);
    v0 = calstore__test_visited;
    ok(calstore_query_range(st, big->id, qs, qe, 0, objs_cb, o, pool)
       == APR_SUCCESS, "one-week query, 20,000 objects");
    visited_b = calstore__test_visited - v0;
    matches_b = o->names->nelts;
    is_str(objs_joined(o, pool),
           brute_names(objs_b, 20000, qs, qe, 0, pool), "... exact result");
    diag("1,000 objects: %d matches, %" APR_UINT64_T_FMT " index entries "
         "visited; 20,000 objects: %d matches, %" APR_UINT64_T_FMT
         " visited", matches_s, visited_s, matches_b, visited_b);
    ok(matches_s > 0 && matches_b > 10 * matches_s, "the big calendar has "
       "many more matches");
    /* A fixed overhead per scan (positioning reads) plus entries
     * proportional to the matches. */
    ok(visited_s <= 3 * (apr_uint64_t)matches_s + 16,
       "1,000: visited <= 3 x matches + 16");
    ok(visited_b <= 3 * (apr_uint64_t)matches_b + 16,
       "20,000: visited <= 3 x matches + 16");
    ok((double)visited_b / matches_b
       < 3.0 * ((double)visited_s / matches_s) + 1.0,
       "entries visited per match do not grow with the calendar "
       "(%.2f vs %.2f)", (double)visited_b / matches_b,
       (double)visited_s / matches_s);

    /* The whole time line of the big one: many scan budgets and batches. */
    o = objs_new(pool);
    t0 = apr_time_now();
    ok(calstore_query_range(st, big->id, TMIN, TMAX, 0, objs_cb, o, pool)
       == APR_SUCCESS && o->names->nelts == 20000 && o->dups == 0,
       "the whole time line reports each of the 20,000 objects once");
    diag("full query in %" APR_TIME_T_FMT " ms",
         (apr_time_now() - t0) / 1000);
    t0 = apr_time_now();
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
    diag("check in %" APR_TIME_T_FMT " ms", (apr_time_now() - t0) / 1000);
    calstore_close(st);
    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* ---- sync helpers -------------------------------------------------------- */

/* One change as reported by calstore_changes(). */
typedef struct chrec_t {
    const char *name;
    int removed;
    apr_uint64_t seq;
    calstore_id_t id;           /* additions */
    apr_uint64_t revision;      /* additions */
} chrec_t;

typedef struct chset_t {
    apr_array_header_t *v;      /* chrec_t, in callback order */
    int stop_after;             /* return APR_EGENERAL after this many */
    int pause_every;            /* sleep 200 us every so many changes */
    int bad_node;               /* node NULL for an addition, or not for a
                                   removal, or named otherwise */
    apr_pool_t *pool;
} chset_t;

static apr_status_t chset_cb(void *baton, const calstore_change_t *ch,
                             apr_pool_t *scratch)
{
    chset_t *cs = baton;
    chrec_t *r = apr_array_push(cs->v);

    r->name = apr_pstrdup(cs->pool, ch->name);
    r->removed = ch->removed;
    r->seq = ch->seq;
    r->id = ch->node ? ch->node->id : 0;
    r->revision = ch->node ? ch->node->revision : 0;
    if (ch->removed ? ch->node != NULL
                    : ch->node == NULL || strcmp(ch->node->name, ch->name)) {
        cs->bad_node++;
    }
    if (cs->stop_after && cs->v->nelts >= cs->stop_after) {
        return APR_EGENERAL;
    }
    if (cs->pause_every && cs->v->nelts % cs->pause_every == 0) {
        apr_sleep(200);         /* let writers in between two batches */
    }
    return APR_SUCCESS;
}

static chset_t *chset_new(apr_pool_t *pool)
{
    chset_t *cs = apr_pcalloc(pool, sizeof(*cs));

    cs->v = apr_array_make(pool, 16, sizeof(chrec_t));
    cs->pool = pool;
    return cs;
}

/* calstore_changes() into a fresh set. */
static apr_status_t changes_of(calstore_t *st, calstore_id_t coll,
                               apr_uint64_t since, unsigned limit,
                               chset_t **out, apr_uint64_t *now, int *trunc,
                               apr_pool_t *pool)
{
    *out = chset_new(pool);
    return calstore_changes(st, coll, since, limit, chset_cb, *out, now,
                            trunc, pool);
}

/* Are the seqs of 'cs' strictly increasing and within (lo, hi]? */
static int chset_ordered(const chset_t *cs, apr_uint64_t lo, apr_uint64_t hi)
{
    apr_uint64_t prev = lo;
    int i;

    for (i = 0; i < cs->v->nelts; i++) {
        const chrec_t *r = &APR_ARRAY_IDX(cs->v, i, chrec_t);

        if (r->seq <= prev || r->seq > hi) {
            return 0;
        }
        prev = r->seq;
    }
    return 1;
}

/* Follow 'since' with pages of 'limit' until the report is complete,
 * appending every page to 'all'.  Returns the status; *pages counts the
 * calls, *final is the last token. */
static apr_status_t changes_paged(calstore_t *st, calstore_id_t coll,
                                  apr_uint64_t since, unsigned limit,
                                  chset_t *all, int *pages,
                                  apr_uint64_t *final, int *bad,
                                  apr_pool_t *pool)
{
    apr_uint64_t tok = since, now;
    apr_status_t rv;
    chset_t *page;
    int trunc, i;

    *pages = 0;
    for (;;) {
        rv = changes_of(st, coll, tok, limit, &page, &now, &trunc, pool);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        (*pages)++;
        if ((unsigned)page->v->nelts > limit
            || (trunc && (unsigned)page->v->nelts != limit)
            || (since != 0 && !chset_ordered(page, tok, now))
            || now < tok || page->bad_node || *pages > 10000) {
            (*bad)++;
        }
        for (i = 0; i < page->v->nelts; i++) {
            APR_ARRAY_PUSH(all->v, chrec_t) = APR_ARRAY_IDX(page->v, i,
                                                            chrec_t);
        }
        tok = now;
        if (!trunc || *pages > 10000) {
            break;
        }
    }
    *final = tok;
    return APR_SUCCESS;
}

/* Apply the changes of 'cs' in order to 'copy' (name -> chrec_t *), as a
 * client would: an addition stores the member, a removal forgets it. */
static void chset_apply(apr_hash_t *copy, const chset_t *cs)
{
    int i;

    for (i = 0; i < cs->v->nelts; i++) {
        chrec_t *r = &APR_ARRAY_IDX(cs->v, i, chrec_t);

        apr_hash_set(copy, r->name, APR_HASH_KEY_STRING,
                     r->removed ? NULL : r);
    }
}

/* ---- X. the change log against a model ---------------------------------- */

/* The model: for every modelled collection, every member name it ever had,
 * whether it exists now and the step of its last change.  The changes since
 * the token taken after step j are exactly the names whose last change is
 * after j: additions if they exist now, removals if not. */

#define XNAMES  48
#define XTOKS   80
#define XCOLLS  16

typedef struct xname_t {
    const char *name;
    int exists;
    int last;                   /* step of the last change */
    calstore_id_t id;
} xname_t;

typedef struct xcoll_t {
    const char *path;           /* "" = the root */
    calstore_id_t id;
    int alive;
    int died;                   /* deleted in the current step */
    int born;                   /* created in the current step */
    int nnames;
    xname_t names[XNAMES];
    int touches;                /* changes logged in the current step */
    int ntoks;
    int tstep[XTOKS];
    apr_uint64_t tok[XTOKS];
} xcoll_t;

typedef struct xmodel_t {
    xcoll_t coll[XCOLLS];
    int ncoll;
    int step;
    int overflow;
    apr_pool_t *pool;
} xmodel_t;

static xcoll_t *xm_at(xmodel_t *m, const char *path)
{
    int i;

    for (i = 0; i < m->ncoll; i++) {
        if (m->coll[i].alive && !strcmp(m->coll[i].path, path)) {
            return &m->coll[i];
        }
    }
    return NULL;
}

static xcoll_t *xm_new(xmodel_t *m, const char *path, calstore_id_t id)
{
    xcoll_t *xc;

    if (m->ncoll >= XCOLLS) {
        m->overflow++;
        return NULL;
    }
    xc = &m->coll[m->ncoll++];
    memset(xc, 0, sizeof(*xc));
    xc->path = apr_pstrdup(m->pool, path);
    xc->id = id;
    xc->alive = xc->born = 1;
    return xc;
}

static void xm_touch(xmodel_t *m, xcoll_t *xc, const char *name, int exists,
                     calstore_id_t id)
{
    xname_t *xn = NULL;
    int i;

    if (xc == NULL) {
        return;
    }
    for (i = 0; i < xc->nnames; i++) {
        if (!strcmp(xc->names[i].name, name)) {
            xn = &xc->names[i];
        }
    }
    if (xn == NULL) {
        if (xc->nnames >= XNAMES) {
            m->overflow++;
            return;
        }
        xn = &xc->names[xc->nnames++];
        xn->name = apr_pstrdup(m->pool, name);
    }
    xn->exists = exists;
    xn->last = m->step;
    xn->id = exists ? id : 0;
    xc->touches++;
}

static const char *xm_dir(apr_pool_t *pool, const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? apr_pstrmemdup(pool, path, (apr_size_t)(slash - path))
                 : "";
}

static const char *xm_base(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

static int xm_under(const char *path, const char *top)
{
    apr_size_t n = strlen(top);

    return !strcmp(path, top) || (!strncmp(path, top, n) && path[n] == '/');
}

static void xm_kill(xmodel_t *m, const char *top)
{
    int i;

    for (i = 0; i < m->ncoll; i++) {
        if (m->coll[i].alive && xm_under(m->coll[i].path, top)) {
            m->coll[i].alive = 0;
            m->coll[i].died = 1;
        }
    }
}

static void xm_repath(xmodel_t *m, const char *from, const char *to)
{
    int i;

    for (i = 0; i < m->ncoll; i++) {
        if (m->coll[i].alive && xm_under(m->coll[i].path, from)) {
            m->coll[i].path = apr_pstrcat(m->pool, to,
                                          m->coll[i].path + strlen(from),
                                          NULL);
        }
    }
}

typedef enum {
    X_MKCOL, X_MKCAL, X_PUT, X_PUTCAL, X_DEL, X_MOVE, X_MOVEO, X_COPY,
    X_COPYO, X_PROP, X_NOPROP, X_FAILPUT, X_FAILCOPY
} xop_e;

typedef struct xstep_t {
    xop_e op;
    const char *a;
    const char *b;
} xstep_t;

static const xstep_t xscript[] = {
    { X_MKCOL, "A", NULL },
    { X_MKCOL, "B", NULL },
    { X_PUT, "A/1.ics", NULL },
    { X_PUT, "A/2.ics", NULL },
    { X_PUT, "A/3.ics", NULL },
    { X_PUT, "A/1.ics", NULL },                 /* modify */
    { X_MKCOL, "A/sub", NULL },
    { X_PUT, "A/sub/x.ics", NULL },             /* only sub's log */
    { X_PROP, "A/2.ics", NULL },                /* a member's property */
    { X_DEL, "A/3.ics", NULL },
    { X_MOVE, "A/2.ics", "B/2.ics" },           /* out of A, into B */
    { X_MOVE, "B/2.ics", "A/two.ics" },         /* back in, new name */
    { X_MOVE, "A/1.ics", "A/one.ics" },         /* rename: two changes */
    { X_PUT, "A/3.ics", NULL },                 /* a removed name again */
    { X_NOPROP, "A/3.ics", NULL },              /* an empty patch */
    { X_FAILPUT, "A/nope/x.ics", NULL },        /* refused: nothing */
    { X_COPY, "A/one.ics", "B/one-copy.ics" },
    { X_COPY, "A/sub", "B/subcopy" },           /* members logged in it */
    { X_FAILCOPY, "A/one.ics", "B/one-copy.ics" },
    { X_PROP, "A/sub", NULL },                  /* a member collection */
    { X_PUT, "A/sub/y.ics", NULL },
    { X_MOVE, "A/sub", "B/sub2" },              /* keeps its own log */
    { X_PUT, "B/sub2/z.ics", NULL },
    { X_DEL, "A/one.ics", NULL },
    { X_PUT, "A/one.ics", NULL },
    { X_COPYO, "B/one-copy.ics", "A/two.ics" }, /* replaced by a copy */
    { X_MOVEO, "A/3.ics", "A/two.ics" },        /* renamed over another */
    { X_PROP, "B", NULL },                      /* a member of the root */
    { X_PROP, "", NULL },                       /* the root: no parent */
    { X_DEL, "B/sub2", NULL },                  /* a subtree and its log */
    { X_MKCOL, "B/sub2", NULL },                /* same name, new id */
    { X_PUT, "B/sub2/x.ics", NULL },
    { X_DEL, "A", NULL },                       /* recursive */
    { X_MKCOL, "A", NULL },
    { X_PUT, "A/new.ics", NULL },
    { X_MOVE, "B/subcopy", "A/subcopy" },       /* a collection moves in */
    { X_PUT, "A/subcopy/w.ics", NULL },
    { X_MKCAL, "C", NULL },
    { X_PUTCAL, "C/e1.ics", "uid-1" },
    { X_PUTCAL, "C/e2.ics", "uid-2" },
    { X_PUTCAL, "C/e1.ics", "uid-1" },          /* modify */
    { X_MOVE, "C/e2.ics", "C/e3.ics" },         /* rename in a calendar */
    { X_COPY, "C/e1.ics", "A/e1copy.ics" },     /* out of the calendar */
    { X_DEL, "C/e1.ics", NULL },
    { X_PROP, "C/e3.ics", NULL },
    { X_COPY, "C", "B/Ccopy" },                 /* a calendar copied */
    { X_MOVEO, "A/subcopy", "B/sub2" },         /* a collection replaced */
    { X_DEL, "A/new.ics", NULL },
    { X_PUT, "A/new.ics", NULL },
    { X_DEL, "A/new.ics", NULL },               /* added and gone */
};

#define XSTEPS ((int)(sizeof(xscript) / sizeof(xscript[0])))

/* Perform step 's' and update the model.  Returns the store's status. */
static apr_status_t x_do(calstore_t *st, xmodel_t *m, const xstep_t *s,
                         apr_pool_t *pool)
{
    calstore_node_t *n = NULL;
    apr_array_header_t *patch;
    const char *da = xm_dir(pool, s->a), *db = s->b ? xm_dir(pool, s->b) : 0;
    calstore_id_t id;
    collect_t *c;
    apr_status_t rv;
    xcoll_t *xc;
    int i;

    switch (s->op) {
    case X_MKCOL:
    case X_MKCAL:
        rv = calstore_mkcol_ex(st, s->a, s->op == X_MKCAL
                                         ? CALSTORE_COLL_CALENDAR : 0,
                               NULL, &n, pool);
        if (rv == APR_SUCCESS) {
            xm_touch(m, xm_at(m, da), xm_base(s->a), 1, n->id);
            xm_new(m, s->a, n->id);
        }
        return rv;
    case X_PUT:
        rv = put_str(st, s->a, apr_psprintf(pool, "step %d", m->step), &n,
                     pool);
        if (rv == APR_SUCCESS) {
            xm_touch(m, xm_at(m, da), xm_base(s->a), 1, n->id);
        }
        return rv;
    case X_PUTCAL:
        rv = put_cal(st, s->a, cal_one(pool, s->b, COMP_EVENT,
                                       T0 + m->step * HOUR,
                                       T0 + m->step * HOUR + HOUR),
                     NULL, &n, pool);
        if (rv == APR_SUCCESS) {
            xm_touch(m, xm_at(m, da), xm_base(s->a), 1, n->id);
        }
        return rv;
    case X_DEL:
        rv = calstore_delete(st, s->a, NULL, pool);
        if (rv == APR_SUCCESS) {
            xm_touch(m, xm_at(m, da), xm_base(s->a), 0, 0);
            xm_kill(m, s->a);
        }
        return rv;
    case X_MOVE:
    case X_MOVEO:
        rv = calstore_move(st, s->a, s->b, s->op == X_MOVEO, &n, pool);
        if (rv == APR_SUCCESS) {
            xm_touch(m, xm_at(m, da), xm_base(s->a), 0, 0);
            xm_kill(m, s->b);
            xm_touch(m, xm_at(m, db), xm_base(s->b), 1, n->id);
            xm_repath(m, s->a, s->b);
        }
        return rv;
    case X_COPY:
    case X_COPYO:
    case X_FAILCOPY:
        rv = calstore_copy(st, s->a, s->b, -1, s->op == X_COPYO, &n, pool);
        if (s->op == X_FAILCOPY) {
            return rv == CALSTORE_EEXIST ? APR_SUCCESS : rv ? rv : APR_EGENERAL;
        }
        if (rv == APR_SUCCESS) {
            xm_kill(m, s->b);
            xm_touch(m, xm_at(m, db), xm_base(s->b), 1, n->id);
            if (n->kind == CALSTORE_KIND_COLLECTION
                && (xc = xm_new(m, s->b, n->id)) != NULL) {
                c = collect_new(st, pool);
                calstore_list(st, n->id, collect_cb, c, pool);
                for (i = 0; i < c->names->nelts; i++) {
                    xm_touch(m, xc, APR_ARRAY_IDX(c->names, i, char *), 1,
                             APR_ARRAY_IDX(c->ids, i, calstore_id_t));
                }
            }
        }
        return rv;
    case X_PROP:
        id = id_of(st, s->a, pool);
        rv = set_prop(st, id, "urn:x", "p",
                      apr_psprintf(pool, "%d", m->step), pool);
        if (rv == APR_SUCCESS && *s->a) {
            xm_touch(m, xm_at(m, da), xm_base(s->a), 1, id);
        }
        return rv;
    case X_NOPROP:
        patch = apr_array_make(pool, 1, sizeof(calstore_prop_t));
        return calstore_prop_patch(st, id_of(st, s->a, pool), patch, pool);
    case X_FAILPUT:
        rv = put_str(st, s->a, "x", NULL, pool);
        return rv == CALSTORE_ENOPARENT ? APR_SUCCESS
                                        : rv ? rv : APR_EGENERAL;
    }
    return APR_EGENERAL;
}

/* Do the changes reported since token k of 'xc' match the model exactly:
 * every name changed after that token's step, once, as it is now (added
 * with its current id, or removed), and nothing else?  This contains the
 * diff of the two states (a name whose state differs was changed after
 * step k), plus removals of names that came and went in between.  Appends
 * what is wrong to *why. */
static int x_matches(const xcoll_t *xc, int k, const chset_t *cs,
                     const char **why, apr_pool_t *pool)
{
    int i, j, want = 0, found;

    for (i = 0; i < xc->nnames; i++) {
        const xname_t *xn = &xc->names[i];

        if (xn->last <= xc->tstep[k]) {
            continue;
        }
        want++;
        found = 0;
        for (j = 0; j < cs->v->nelts; j++) {
            const chrec_t *r = &APR_ARRAY_IDX(cs->v, j, chrec_t);

            if (!strcmp(r->name, xn->name)) {
                found++;
                if (r->removed != !xn->exists
                    || (xn->exists && r->id != xn->id)) {
                    *why = apr_psprintf(pool, "%s %s reported wrong (%s)",
                                        *why, xn->name,
                                        r->removed ? "removed" : "added");
                }
            }
        }
        if (found != 1) {
            *why = apr_psprintf(pool, "%s %s reported %d times", *why,
                                xn->name, found);
        }
    }
    if (cs->v->nelts != want) {
        *why = apr_psprintf(pool, "%s %d reported, %d expected", *why,
                            cs->v->nelts, want);
    }
    return cs->v->nelts == want && **why == '\0';
}

static void test_sync_model(void)
{
    apr_pool_t *pool, *iter;
    char *dir = make_tmpdir("syncx");
    calstore_t *st;
    xmodel_t *m;
    xcoll_t *xc;
    chset_t *cs, *all;
    apr_uint64_t now, prev, final, rev;
    apr_size_t lc[3];
    apr_status_t rv;
    const char *why;
    char buf[128];
    int step, i, k, trunc, pages, bad, ncheck, exists, gone;
    int tok_ok, list_ok, since_ok, paged_ok, counts_ok;
    unsigned limit;

    diag("X. the change log against a model (%d steps)", XSTEPS);
    apr_pool_create(&pool, gpool);
    apr_pool_create(&iter, pool);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL, "open a store for group X");
    if (st == NULL) {
        return;
    }
    m = apr_pcalloc(pool, sizeof(*m));
    m->pool = pool;
    xc = xm_new(m, "", CALSTORE_ROOT_ID);
    xc->born = 0;
    xc->tstep[0] = 0;
    xc->tok[0] = 1;
    xc->ntoks = 1;
    for (step = 1; step <= XSTEPS; step++) {
        const xstep_t *s = &xscript[step - 1];

        apr_pool_clear(iter);
        m->step = step;
        rv = x_do(st, m, s, iter);
        if (!is_int(rv, APR_SUCCESS, "step %d: op %d %s%s%s", step,
                    (int)s->op, s->a, s->b ? " -> " : "",
                    s->b ? s->b : "")) {
            diag("%s", calstore_strerror(rv, buf, sizeof(buf)));
        }
        tok_ok = list_ok = since_ok = paged_ok = counts_ok = 1;
        gone = 0;
        why = "";
        ncheck = 0;
        for (i = 0; i < m->ncoll; i++) {
            xc = &m->coll[i];
            if (xc->died) {
                /* Deleted: the log went with it, tokens are dead. */
                xc->died = 0;
                rv = changes_of(st, xc->id, xc->tok[xc->ntoks - 1], 0, &cs,
                                &now, &trunc, iter);
                if (rv != CALSTORE_ENOENT
                    || calstore__test_log_counts(st, xc->id, lc, NULL)
                    || lc[0] || lc[1] || lc[2]) {
                    gone++;
                    why = apr_psprintf(iter, "%s deleted %s: %d, log %d/%d/%d",
                                       why, xc->path, rv, (int)lc[0],
                                       (int)lc[1], (int)lc[2]);
                }
                continue;
            }
            if (!xc->alive) {
                continue;
            }
            /* The current token: the full listing (from the nodes table)
             * is the model's membership, and the token moved by exactly the
             * changes logged in this step. */
            rv = changes_of(st, xc->id, 0, 0, &cs, &now, &trunc, iter);
            prev = xc->born ? 1 : xc->tok[xc->ntoks - 1];
            rev = rev_of(st, xc->path, iter);
            if (rv != APR_SUCCESS || trunc
                || now != prev + (apr_uint64_t)xc->touches || now != rev) {
                tok_ok = 0;
                why = apr_psprintf(iter, "%s %s: token %" APR_UINT64_T_FMT
                                   " after %" APR_UINT64_T_FMT " + %d "
                                   "(revision %" APR_UINT64_T_FMT ", rv %d)",
                                   why, xc->path, now, prev, xc->touches, rev,
                                   rv);
            }
            exists = 0;
            for (k = 0; k < xc->nnames; k++) {
                exists += xc->names[k].exists;
            }
            if (cs->v->nelts != exists || cs->bad_node) {
                list_ok = 0;
            }
            for (k = 0; k < cs->v->nelts; k++) {
                const chrec_t *r = &APR_ARRAY_IDX(cs->v, k, chrec_t);
                int j, hit = 0;

                for (j = 0; j < xc->nnames; j++) {
                    hit += xc->names[j].exists
                           && !strcmp(xc->names[j].name, r->name)
                           && xc->names[j].id == r->id && !r->removed;
                }
                if (hit != 1
                    || (k > 0 && strcmp(APR_ARRAY_IDX(cs->v, k - 1,
                                                      chrec_t).name,
                                        r->name) >= 0)) {
                    list_ok = 0;
                }
            }
            if (xc->ntoks < XTOKS) {
                xc->tstep[xc->ntoks] = step;
                xc->tok[xc->ntoks] = now;
                xc->ntoks++;
            }
            else {
                m->overflow++;
            }
            xc->touches = 0;
            xc->born = 0;
            /* The log holds one entry per name ever changed: additions for
             * the members, removals for the others (nothing was pruned). */
            if (calstore__test_log_counts(st, xc->id, lc, NULL)
                != APR_SUCCESS
                || lc[0] != (apr_size_t)exists
                || lc[1] != (apr_size_t)(xc->nnames - exists)
                || lc[2] != (apr_size_t)xc->nnames) {
                counts_ok = 0;
                why = apr_psprintf(iter, "%s %s: log %d/%d/%d for %d names, "
                                   "%d members", why, xc->path, (int)lc[0],
                                   (int)lc[1], (int)lc[2], xc->nnames,
                                   exists);
            }
            /* Every earlier token. */
            for (k = 0; k < xc->ntoks; k++) {
                const char *w = "";

                rv = changes_of(st, xc->id, xc->tok[k], 0, &cs, &now,
                                &trunc, iter);
                ncheck++;
                if (rv != APR_SUCCESS || trunc
                    || now != xc->tok[xc->ntoks - 1] || cs->bad_node
                    || !chset_ordered(cs, xc->tok[k], now)
                    || !x_matches(xc, k, cs, &w, iter)) {
                    since_ok = 0;
                    why = apr_psprintf(iter, "%s %s since %" APR_UINT64_T_FMT
                                       " (step %d): rv %d%s", why, xc->path,
                                       xc->tok[k], xc->tstep[k], rv, w);
                }
                /* The same in pages. */
                for (limit = 1; limit <= 3; limit++) {
                    bad = 0;
                    all = chset_new(iter);
                    w = "";
                    rv = changes_paged(st, xc->id, xc->tok[k], limit, all,
                                       &pages, &final, &bad, iter);
                    if (rv != APR_SUCCESS || bad
                        || final != xc->tok[xc->ntoks - 1]
                        || !x_matches(xc, k, all, &w, iter)) {
                        paged_ok = 0;
                        why = apr_psprintf(iter, "%s %s paged by %u since %"
                                           APR_UINT64_T_FMT ": rv %d bad %d%s",
                                           why, xc->path, limit, xc->tok[k],
                                           rv, bad, w);
                    }
                }
            }
            {
                /* A full listing in pages: the first page lists members in
                 * the order of their last change; the next ones continue
                 * from its token like any delta (so they may also report
                 * removals of names the client never had).  Applied in
                 * turn, they give exactly the members. */
                for (limit = 1; limit <= 3; limit++) {
                    apr_hash_t *copy = apr_hash_make(iter);
                    int j, hit;

                    bad = 0;
                    all = chset_new(iter);
                    rv = changes_paged(st, xc->id, 0, limit, all, &pages,
                                       &final, &bad, iter);
                    chset_apply(copy, all);
                    hit = 0;
                    for (j = 0; j < xc->nnames; j++) {
                        chrec_t *r = apr_hash_get(copy, xc->names[j].name,
                                                  APR_HASH_KEY_STRING);

                        hit += xc->names[j].exists && r != NULL
                               && r->id == xc->names[j].id;
                    }
                    if (rv != APR_SUCCESS || bad || hit != exists
                        || (int)apr_hash_count(copy) != exists
                        || final != xc->tok[xc->ntoks - 1]
                        || (pages > 1) != (exists > (int)limit)) {
                        paged_ok = 0;
                        why = apr_psprintf(iter, "%s %s listed by %u: rv %d, "
                                           "%d of %d in %d pages", why,
                                           xc->path, limit, rv, hit, exists,
                                           pages);
                    }
                }
            }
        }
        ok(tok_ok && list_ok && counts_ok && !gone, "step %d: tokens moved "
           "by one per change, full listings and log sizes match the model",
           step);
        ok(since_ok, "step %d: changes since each of %d earlier tokens are "
           "exactly the model's", step, ncheck);
        ok(paged_ok, "step %d: the same in pages of 1, 2 and 3, and full "
           "listings in pages", step);
        if (*why) {
            diag("step %d:%s", step, why);
        }
        ok(calstore__check(st, iter) == APR_SUCCESS, "step %d: store is "
           "consistent", step);
    }
    is_int(m->overflow, 0, "the model had room for everything");
    calstore_close(st);
    is_int(run_verify(dir), 0, "db5.3_verify passes");
    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* ---- Y. compaction, limits, pruning ------------------------------------- */

/* "+name" for additions, "-name" for removals, space-separated. */
static const char *chset_joined(const chset_t *cs, apr_pool_t *pool)
{
    const char *s = "";
    int i;

    for (i = 0; i < cs->v->nelts; i++) {
        const chrec_t *r = &APR_ARRAY_IDX(cs->v, i, chrec_t);

        s = apr_psprintf(pool, "%s%s%c%s", s, i ? " " : "",
                         r->removed ? '-' : '+', r->name);
    }
    return s;
}

/* The same for names fmt % i, i in [from, to), all added or all removed. */
static const char *names_joined(const char *fmt, int from, int to,
                                int removed, apr_pool_t *pool)
{
    const char *s = "";
    int i;

    for (i = from; i < to; i++) {
        s = apr_psprintf(pool, "%s%s%c%s", s, i > from ? " " : "",
                         removed ? '-' : '+', apr_psprintf(pool, fmt, i));
    }
    return s;
}

static apr_uint64_t watermark_of(calstore_t *st, calstore_id_t coll)
{
    apr_size_t lc[3];
    apr_uint64_t w = 0;

    calstore__test_log_counts(st, coll, lc, &w);
    return w;
}

static int log_counts_are(calstore_t *st, calstore_id_t coll, apr_size_t a,
                          apr_size_t r, apr_size_t idx)
{
    apr_size_t lc[3];

    if (calstore__test_log_counts(st, coll, lc, NULL) != APR_SUCCESS) {
        return 0;
    }
    if (lc[0] != a || lc[1] != r || lc[2] != idx) {
        diag("log of %" APR_UINT64_T_FMT ": %lu additions, %lu removals, "
             "%lu index entries; expected %lu %lu %lu", coll,
             (unsigned long)lc[0], (unsigned long)lc[1], (unsigned long)lc[2],
             (unsigned long)a, (unsigned long)r, (unsigned long)idx);
        return 0;
    }
    return 1;
}

/* A callback that prunes every removal of 'coll' at its first call, i.e.
 * between two batches of a report. */
typedef struct prune_cb_t {
    chset_t *cs;
    calstore_t *st;
    calstore_id_t coll;
    apr_status_t prv;
    int pruned;
} prune_cb_t;

static apr_status_t prune_cb(void *baton, const calstore_change_t *ch,
                             apr_pool_t *scratch)
{
    prune_cb_t *p = baton;

    if (!p->pruned) {
        p->pruned = 1;
        apr_sleep(2);
        p->prv = calstore_changes_prune(p->st, p->coll, 1, 0, scratch);
    }
    return chset_cb(p->cs, ch, scratch);
}

static void test_sync_limits(void)
{
    apr_pool_t *pool, *iter;
    char *dir = make_tmpdir("syncy");
    calstore_t *st;
    calstore_node_t *n;
    calstore_id_t cid, bid, rid, did;
    chset_t *cs, *all;
    apr_hash_t *copy;
    apr_uint64_t now, tok, final, w, crev;
    apr_time_t mid;
    apr_status_t rv;
    apr_size_t lc[3];
    int i, trunc, pages, bad, failures;

    diag("Y. compaction, limits, pruning");
    apr_pool_create(&pool, gpool);
    apr_pool_create(&iter, pool);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL, "open a store for group Y");
    if (st == NULL) {
        return;
    }

    /* Compaction. */
    calstore_mkcol(st, "c", &n, pool);
    cid = n->id;
    is_int(changes_of(st, cid, 0, 0, &cs, &now, &trunc, pool), APR_SUCCESS,
           "changes of a new collection");
    ok(now == 1 && cs->v->nelts == 0 && !trunc, "... none, token 1 (its "
       "revision)");
    for (i = 0, failures = 0; i < 100; i++) {
        apr_pool_clear(iter);
        failures += put_str(st, "c/m", apr_psprintf(iter, "v%d", i), NULL,
                            iter) != APR_SUCCESS;
    }
    is_int(failures, 0, "put c/m 100 times");
    ok(log_counts_are(st, cid, 1, 0, 1), "a member changed 100 times has "
       "one log entry");
    is_int(rev_of(st, "c", pool), 101, "... and moved the revision 100 times");
    is_int(changes_of(st, cid, 1, 0, &cs, &now, &trunc, pool), APR_SUCCESS,
           "changes since the first token");
    ok(cs->v->nelts == 1 && !strcmp(chset_joined(cs, pool), "+m")
       && APR_ARRAY_IDX(cs->v, 0, chrec_t).seq == 101 && now == 101,
       "... one: +m at seq 101, token 101");
    for (i = 0, failures = 0; i < 50; i++) {
        apr_pool_clear(iter);
        failures += calstore_delete(st, "c/m", NULL, iter) != APR_SUCCESS;
        failures += set_prop(st, cid, "", "p", "x", iter) != APR_SUCCESS;
        failures += put_str(st, "c/m", "again", NULL, iter) != APR_SUCCESS;
        failures += set_prop(st, id_of(st, "c/m", iter), "", "p",
                             apr_psprintf(iter, "%d", i), iter)
                    != APR_SUCCESS;
    }
    is_int(failures, 0, "delete, re-create and patch c/m 50 times");
    ok(log_counts_are(st, cid, 1, 0, 1), "... still one log entry");
    is_int(rev_of(st, "c", pool), 101 + 150, "... three changes each (the "
           "patch of c itself is not c's)");
    calstore_delete(st, "c/m", NULL, pool);
    ok(log_counts_are(st, cid, 0, 1, 1), "deleted: one removal instead");
    put_str(st, "c/m", "back", NULL, pool);
    ok(log_counts_are(st, cid, 1, 0, 1), "re-created: one addition again");

    /* Batches and limits: 300 members, more than a batch (128). */
    calstore_mkcol(st, "big", &n, pool);
    bid = n->id;
    for (i = 0, failures = 0; i < 300; i++) {
        apr_pool_clear(iter);
        failures += put_str(st, apr_psprintf(iter, "big/n%03d", i), "x",
                            NULL, iter) != APR_SUCCESS;
    }
    is_int(failures, 0, "put 300 members into big (n000 at seq 2, n299 at "
           "301)");
    is_int(changes_of(st, bid, 0, 0, &cs, &now, &trunc, pool), APR_SUCCESS,
           "full listing of big");
    is_str(chset_joined(cs, pool), names_joined("n%03d", 0, 300, 0, pool),
           "... every member, in name order, across batches");
    ok(now == 301 && !trunc && !cs->bad_node, "... token 301");
    is_int(changes_of(st, bid, 1, 0, &cs, &now, &trunc, pool), APR_SUCCESS,
           "changes since token 1");
    is_str(chset_joined(cs, pool), names_joined("n%03d", 0, 300, 0, pool),
           "... every member, in seq order");
    ok(chset_ordered(cs, 1, 301) && now == 301 && !trunc, "... seqs 2..301, "
       "token 301");
    is_int(changes_of(st, bid, 1, 7, &cs, &now, &trunc, pool), APR_SUCCESS,
           "since 1, limit 7");
    is_str(chset_joined(cs, pool), names_joined("n%03d", 0, 7, 0, pool),
           "... the first 7");
    ok(trunc && now == 8, "... truncated, token 8 (the seq of n006)");
    is_int(changes_of(st, bid, 8, 7, &cs, &now, &trunc, pool), APR_SUCCESS,
           "continue from 8");
    is_str(chset_joined(cs, pool), names_joined("n%03d", 7, 14, 0, pool),
           "... the next 7");
    ok(trunc && now == 15, "... token 15");
    bad = 0;
    all = chset_new(pool);
    is_int(changes_paged(st, bid, 1, 7, all, &pages, &final, &bad, pool),
           APR_SUCCESS, "since 1 in pages of 7");
    ok(pages == 43 && final == 301 && bad == 0
       && !strcmp(chset_joined(all, pool),
                  names_joined("n%03d", 0, 300, 0, pool)),
       "... 43 pages, every member once, in order, ending at token 301 "
       "(%d pages, final %" APR_UINT64_T_FMT ", %d bad)", pages, final, bad);
    changes_of(st, bid, 1, 300, &cs, &now, &trunc, pool);
    ok(cs->v->nelts == 300 && !trunc && now == 301, "limit 300 = the count: "
       "not truncated, token 301");
    changes_of(st, bid, 1, 299, &cs, &now, &trunc, pool);
    ok(cs->v->nelts == 299 && trunc && now == 300, "limit 299: truncated, "
       "token 300");
    changes_of(st, bid, 1, 150, &cs, &now, &trunc, pool);
    changes_of(st, bid, now, 150, &cs, &now, &trunc, pool);
    ok(cs->v->nelts == 150 && !trunc && now == 301, "two pages of 150: the "
       "second is not truncated");
    bad = 0;
    all = chset_new(pool);
    is_int(changes_paged(st, bid, 0, 100, all, &pages, &final, &bad, pool),
           APR_SUCCESS, "full listing in pages of 100");
    ok(pages == 3 && final == 301 && bad == 0
       && !strcmp(chset_joined(all, pool),
                  names_joined("n%03d", 0, 300, 0, pool)),
       "... 3 pages, every member once, in seq order");
    cs = chset_new(pool);
    cs->stop_after = 5;
    is_int(calstore_changes(st, bid, 1, 0, chset_cb, cs, &now, &trunc, pool),
           APR_EGENERAL, "a callback's error stops the report");
    ok(cs->v->nelts == 5 && now == 0 && trunc == 0, "... after 5, outputs 0");

    /* Removals, in pages too. */
    for (i = 0, failures = 0; i < 10; i++) {
        failures += calstore_delete(st, apr_psprintf(pool, "big/n%03d", i),
                                    NULL, pool) != APR_SUCCESS;
    }
    is_int(failures, 0, "delete n000..n009 (seqs 302..311)");
    changes_of(st, bid, 301, 4, &cs, &now, &trunc, pool);
    is_str(chset_joined(cs, pool), names_joined("n%03d", 0, 4, 1, pool),
           "since 301, limit 4: the first 4 removals");
    ok(trunc && now == 305, "... truncated, token 305");
    changes_of(st, bid, 1, 0, &cs, &now, &trunc, pool);
    ok(cs->v->nelts == 300 && chset_ordered(cs, 1, 311) && now == 311,
       "since 1: 290 additions and 10 removals, compacted, token 311");
    is_str(chset_joined(cs, pool),
           apr_pstrcat(pool, names_joined("n%03d", 10, 300, 0, pool), " ",
                       names_joined("n%03d", 0, 10, 1, pool), NULL),
           "... in seq order");

    /* Tokens out of range, bad arguments. */
    is_int(changes_of(st, bid, 312, 0, &cs, &now, &trunc, pool),
           CALSTORE_ETOKEN, "a token from the future: ETOKEN");
    ok(now == 0 && trunc == 0 && cs->v->nelts == 0, "... nothing reported, "
       "outputs 0");
    is_int(changes_of(st, bid, 311, 0, &cs, &now, &trunc, pool), APR_SUCCESS,
           "the current token");
    ok(cs->v->nelts == 0 && now == 311 && !trunc, "... no changes, same "
       "token");
    rid = id_of(st, "big/n100", pool);
    is_int(changes_of(st, rid, 0, 0, &cs, &now, &trunc, pool),
           CALSTORE_ENOTCOLL, "changes of a resource: ENOTCOLL");
    is_int(changes_of(st, 999999, 0, 0, &cs, &now, &trunc, pool),
           CALSTORE_ENOENT, "changes of a missing id: ENOENT");
    is_int(changes_of(st, 0, 0, 0, &cs, &now, &trunc, pool), CALSTORE_EINVAL,
           "changes of id 0: EINVAL");
    is_int(calstore_changes(st, bid, 0, 0, NULL, NULL, NULL, NULL, pool),
           CALSTORE_EINVAL, "no callback: EINVAL");

    /* Pruning by count. */
    is_int(calstore_changes_prune(st, bid, 0, 0, pool), APR_SUCCESS,
           "prune with no limits");
    ok(log_counts_are(st, bid, 290, 10, 300) && watermark_of(st, bid) == 0,
       "... drops nothing");
    is_int(calstore_changes_prune(st, bid, 0, 4, pool), APR_SUCCESS,
           "prune big to 4 removals");
    ok(log_counts_are(st, bid, 290, 4, 294), "... 4 removals left, every "
       "addition kept");
    is_int(watermark_of(st, bid), 307, "... watermark 307: the newest "
           "removal dropped (n005)");
    is_int(changes_of(st, bid, 306, 0, &cs, &now, &trunc, pool),
           CALSTORE_ETOKEN, "token 306 (below the watermark): ETOKEN");
    is_int(changes_of(st, bid, 1, 0, &cs, &now, &trunc, pool),
           CALSTORE_ETOKEN, "token 1: ETOKEN");
    is_int(changes_of(st, bid, 307, 0, &cs, &now, &trunc, pool), APR_SUCCESS,
           "token 307 (the watermark) is still valid");
    is_str(chset_joined(cs, pool), names_joined("n%03d", 6, 10, 1, pool),
           "... the 4 removals after it");
    is_int(changes_of(st, bid, 0, 0, &cs, &now, &trunc, pool), APR_SUCCESS,
           "the empty token is always valid");
    ok(cs->v->nelts == 290 && now == 311, "... 290 members, token 311");
    is_int(calstore_changes_prune(st, bid, 0, 4, pool), APR_SUCCESS,
           "prune to 4 again");
    ok(log_counts_are(st, bid, 290, 4, 294) && watermark_of(st, bid) == 307,
       "... changes nothing");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");

    /* Pruning by age. */
    for (i = 10; i < 15; i++) {
        calstore_delete(st, apr_psprintf(pool, "big/n%03d", i), NULL, pool);
    }
    apr_sleep(apr_time_from_msec(30));
    mid = apr_time_now();
    apr_sleep(apr_time_from_msec(30));
    for (i = 15; i < 20; i++) {
        calstore_delete(st, apr_psprintf(pool, "big/n%03d", i), NULL, pool);
    }
    ok(log_counts_are(st, bid, 280, 14, 294), "10 more removals (312..321), "
       "14 in all");
    is_int(calstore_changes_prune(st, bid, apr_time_now() - mid, 0, pool),
           APR_SUCCESS, "prune removals older than the pause");
    ok(log_counts_are(st, bid, 280, 5, 285), "... the 5 newer ones are left");
    is_int(watermark_of(st, bid), 316, "... watermark 316 (n014)");
    changes_of(st, bid, 316, 0, &cs, &now, &trunc, pool);
    is_str(chset_joined(cs, pool), names_joined("n%03d", 15, 20, 1, pool),
           "since 316: the 5 removals left");
    is_int(changes_of(st, bid, 315, 0, &cs, &now, &trunc, pool),
           CALSTORE_ETOKEN, "since 315: ETOKEN");

    /* A full listing with a limit must not end below the watermark: the
     * 280 members' additions (seqs 22..301) all lie below 316. */
    put_str(st, "big/p1", "x", NULL, pool);
    put_str(st, "big/p2", "x", NULL, pool);
    cs = chset_new(pool);
    is_int(calstore_changes(st, bid, 0, 279, chset_cb, cs, &now, &trunc,
                            pool), CALSTORE_ELIMIT,
           "full listing with limit 279 < the 280 additions below the "
           "watermark: ELIMIT");
    ok(cs->v->nelts == 0 && now == 0, "... before any callback");
    is_int(changes_of(st, bid, 0, 280, &cs, &now, &trunc, pool), APR_SUCCESS,
           "limit 280");
    ok(cs->v->nelts == 280 && trunc && now == 316, "... 280 members, "
       "truncated, token 316 (the watermark, not 301)");
    tok = now;
    is_int(changes_of(st, bid, tok, 280, &cs, &now, &trunc, pool),
           APR_SUCCESS, "continue from 316");
    is_str(chset_joined(cs, pool),
           apr_pstrcat(pool, names_joined("n%03d", 15, 20, 1, pool),
                       " +p1 +p2", NULL),
           "... the removals after it, then p1 and p2");
    ok(!trunc && now == 323, "... complete, token 323");
    changes_of(st, bid, 0, 281, &cs, &now, &trunc, pool);
    ok(cs->v->nelts == 281 && trunc && now == 322, "limit 281: up to p1, "
       "token 322");
    bad = 0;
    all = chset_new(pool);
    copy = apr_hash_make(pool);
    is_int(changes_paged(st, bid, 0, 280, all, &pages, &final, &bad, pool),
           APR_SUCCESS, "full listing in pages of 280");
    chset_apply(copy, all);
    ok(pages == 2 && final == 323 && bad == 0 && apr_hash_count(copy) == 282
       && apr_hash_get(copy, "p2", APR_HASH_KEY_STRING) != NULL
       && apr_hash_get(copy, "n015", APR_HASH_KEY_STRING) == NULL,
       "... applied: exactly the 282 members");

    /* Pruning every collection. */
    put_str(st, "c/t", "x", NULL, pool);
    calstore_delete(st, "c/t", NULL, pool);
    crev = rev_of(st, "c", pool);
    apr_sleep(apr_time_from_msec(2));
    is_int(calstore_changes_prune(st, 0, 1, 0, pool), APR_SUCCESS,
           "prune every collection, max_age 1 us");
    ok(calstore__test_log_counts(st, 0, lc, NULL) == APR_SUCCESS
       && lc[1] == 0 && lc[0] == lc[2], "... no removal left anywhere");
    ok(watermark_of(st, bid) == 321 && watermark_of(st, cid) == crev,
       "... watermarks at each one's newest removal (321, %"
       APR_UINT64_T_FMT ")", crev);
    is_int(changes_of(st, bid, 320, 0, &cs, &now, &trunc, pool),
           CALSTORE_ETOKEN, "big since 320: ETOKEN");
    is_int(changes_of(st, bid, 321, 0, &cs, &now, &trunc, pool), APR_SUCCESS,
           "big since 321");
    is_str(chset_joined(cs, pool), "+p1 +p2", "... p1 and p2");
    is_int(calstore_changes_prune(st, rid, 0, 1, pool), CALSTORE_ENOTCOLL,
           "prune a resource: ENOTCOLL");
    is_int(calstore_changes_prune(st, 999999, 0, 1, pool), CALSTORE_ENOENT,
           "prune a missing id: ENOENT");
    is_int(calstore_changes_prune(st, bid, -1, 0, pool), CALSTORE_EINVAL,
           "negative max_age: EINVAL");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");

    /* A prune between two batches of a report (from its callback): the
     * report fails instead of silently missing removals. */
    {
        prune_cb_t p;
        calstore_id_t qid;

        calstore_mkcol(st, "race", &n, pool);
        qid = n->id;
        for (i = 0, failures = 0; i < 200; i++) {
            apr_pool_clear(iter);
            failures += put_str(st, apr_psprintf(iter, "race/r%03d", i), "x",
                                NULL, iter) != APR_SUCCESS;
        }
        for (i = 0; i < 10; i++) {
            failures += calstore_delete(st, apr_psprintf(pool, "race/r%03d",
                                                         i), NULL, pool)
                        != APR_SUCCESS;
        }
        is_int(failures, 0, "race: 200 members, then 10 removed (seqs "
               "202..211)");
        memset(&p, 0, sizeof(p));
        p.cs = chset_new(pool);
        p.st = st;
        p.coll = qid;
        rv = calstore_changes(st, qid, 1, 0, prune_cb, &p, &now, &trunc,
                              pool);
        ok(p.pruned && p.prv == APR_SUCCESS
           && watermark_of(st, qid) == 211, "a prune ran during the report "
           "(watermark 211)");
        is_int(rv, CALSTORE_ETOKEN, "... the report fails with ETOKEN");
        ok(p.cs->v->nelts == 128 && now == 0 && trunc == 0, "... after its "
           "first batch (%d), outputs 0", p.cs->v->nelts);
        memset(&p, 0, sizeof(p));
        p.cs = chset_new(pool);
        p.st = st;
        p.coll = qid;
        rv = calstore_changes(st, qid, 211, 0, prune_cb, &p, &now, &trunc,
                              pool);
        ok(rv == APR_SUCCESS && p.cs->v->nelts == 0 && now == 211,
           "a report from the watermark is unaffected by a prune (nothing "
           "left to drop)");
        put_str(st, "race/r000", "x", NULL, pool);
        calstore_delete(st, "race/r010", NULL, pool);
        memset(&p, 0, sizeof(p));
        p.cs = chset_new(pool);
        p.st = st;
        p.coll = qid;
        rv = calstore_changes(st, qid, 0, 0, prune_cb, &p, &now, &trunc,
                              pool);
        ok(rv == APR_SUCCESS && p.cs->v->nelts == 190 && now == 213
           && watermark_of(st, qid) == 213, "a full listing is unaffected "
           "by a prune during it");
    }

    /* MOVE keeps a collection's log, DELETE drops it. */
    calstore__test_log_counts(st, bid, lc, &w);
    tok = rev_of(st, "big", pool);
    is_int(calstore_move(st, "big", "c/big2", 0, NULL, pool), APR_SUCCESS,
           "move big to c/big2");
    ok(log_counts_are(st, bid, lc[0], lc[1], lc[2])
       && watermark_of(st, bid) == w, "... its log and watermark moved "
       "along");
    is_int(changes_of(st, bid, tok, 0, &cs, &now, &trunc, pool), APR_SUCCESS,
           "... its last token is still valid");
    ok(cs->v->nelts == 0 && now == tok, "... and reports nothing");
    put_str(st, "c/big2/q", "x", NULL, pool);
    changes_of(st, bid, tok, 0, &cs, &now, &trunc, pool);
    is_str(chset_joined(cs, pool), "+q", "a put after the move is logged");
    is_int(calstore_delete(st, "c/big2", NULL, pool), APR_SUCCESS,
           "delete c/big2");
    ok(log_counts_are(st, bid, 0, 0, 0) && watermark_of(st, bid) == 0,
       "... its log, index and watermark are gone");
    is_int(changes_of(st, bid, tok, 0, &cs, &now, &trunc, pool),
           CALSTORE_ENOENT, "... its tokens: ENOENT");

    /* COPY logs every member of the copy. */
    calstore_mkcol(st, "src", NULL, pool);
    put_str(st, "src/a", "x", NULL, pool);
    put_str(st, "src/b", "x", NULL, pool);
    calstore_mkcol(st, "src/sub", NULL, pool);
    put_str(st, "src/sub/c", "x", NULL, pool);
    is_int(calstore_copy(st, "src", "dst", -1, 0, &n, pool), APR_SUCCESS,
           "copy src (3 members) to dst");
    did = n->id;
    ok(n->revision == 4 && log_counts_are(st, did, 3, 0, 3), "... revision 4, "
       "3 additions logged");
    ok(log_counts_are(st, id_of(st, "dst/sub", pool), 1, 0, 1)
       && rev_of(st, "dst/sub", pool) == 2, "... and 1 in dst/sub");
    changes_of(st, did, 1, 0, &cs, &now, &trunc, pool);
    ok(now == 4 && cs->v->nelts == 3 && !cs->bad_node, "since 1: the three "
       "members");
    changes_of(st, did, 0, 2, &cs, &now, &trunc, pool);
    ok(cs->v->nelts == 2 && trunc && now == 3, "full listing, limit 2: "
       "truncated at 3");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");

    /* The check catches a damaged log. */
    is_int(calstore__test_damage(st, 'C'), APR_SUCCESS, "damage: delete the "
           "first change-log entry");
    is_int(calstore__check(st, pool), CALSTORE_ECORRUPT, "... caught");
    is_int(calstore__test_damage(st, 0), APR_SUCCESS, "... undone");
    is_int(calstore__test_damage(st, 'I'), APR_SUCCESS, "damage: delete the "
           "first change-index entry");
    is_int(calstore__check(st, pool), CALSTORE_ECORRUPT, "... caught");
    is_int(calstore__test_damage(st, 0), APR_SUCCESS, "... undone");
    is_int(calstore__test_damage(st, 'W'), APR_SUCCESS, "damage: the root's "
           "watermark above its revision");
    is_int(calstore__check(st, pool), CALSTORE_ECORRUPT, "... caught");
    rv = changes_of(st, CALSTORE_ROOT_ID, rev_of(st, "", pool), 0, &cs, &now,
                    &trunc, pool);
    is_int(rv, CALSTORE_ETOKEN, "... and the root's current token is "
           "refused");
    is_int(calstore__test_damage(st, 0), APR_SUCCESS, "... undone");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");

    calstore_close(st);
    is_int(run_verify(dir), 0, "db5.3_verify passes");
    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* ---- Z. concurrent writers, a syncing reader, a pruner ------------------ */

#define ZWRITERS  3
#define ZOPS      600
#define ZNAMES    200           /* more than a batch (128) */

typedef struct zarg_t {
    calstore_t *st;
    int n;
    apr_uint64_t rng;
    int ops;                    /* operations that changed something */
    int failures;               /* unexpected statuses */
    apr_status_t last;
    volatile int *stop;         /* the pruner and reader: stop now */
    /* the reader */
    apr_hash_t *copy[2];        /* name -> chrec_t *, for c and d */
    apr_uint64_t tok[2];
    apr_pool_t *copypool;
    int syncs, pages, changes, resets, elimits, disorder, bad_nodes;
    int prunes;
} zarg_t;

static apr_uint64_t zrand(zarg_t *a)
{
    a->rng ^= a->rng << 13;
    a->rng ^= a->rng >> 7;
    a->rng ^= a->rng << 17;
    return a->rng;
}

static void *APR_THREAD_FUNC zwriter(apr_thread_t *t, void *data)
{
    zarg_t *a = data;
    apr_pool_t *pool, *iter;
    const char *n1, *n2;
    apr_status_t rv;
    int i, op;

    apr_pool_create(&pool, NULL);
    apr_pool_create(&iter, pool);
    for (i = 0; i < ZOPS; i++) {
        apr_pool_clear(iter);
        op = (int)(zrand(a) % 10);
        n1 = apr_psprintf(iter, "w%02d", (int)(zrand(a) % ZNAMES));
        n2 = apr_psprintf(iter, "w%02d", (int)(zrand(a) % ZNAMES));
        switch (op) {
        case 0: case 1: case 2: case 3:
            rv = put_str(a->st, apr_pstrcat(iter, "c/", n1, NULL),
                         apr_psprintf(iter, "%d-%d", a->n, i), NULL, iter);
            break;
        case 4:
            rv = calstore_delete(a->st, apr_pstrcat(iter, "c/", n1, NULL),
                                 NULL, iter);
            break;
        case 5:
            rv = calstore_move(a->st, apr_pstrcat(iter, "c/", n1, NULL),
                               apr_pstrcat(iter, "d/", n2, NULL), 1, NULL,
                               iter);
            break;
        case 6:
            rv = calstore_move(a->st, apr_pstrcat(iter, "d/", n1, NULL),
                               apr_pstrcat(iter, "c/", n2, NULL), 1, NULL,
                               iter);
            break;
        case 7:
            rv = strcmp(n1, n2) == 0 ? CALSTORE_ENOENT
                 : calstore_move(a->st, apr_pstrcat(iter, "c/", n1, NULL),
                                 apr_pstrcat(iter, "c/", n2, NULL), 1, NULL,
                                 iter);
            break;
        case 8:
            rv = calstore_copy(a->st, apr_pstrcat(iter, "d/", n1, NULL),
                               apr_pstrcat(iter, "c/", n2, NULL), 0, 1,
                               NULL, iter);
            break;
        default: {
            calstore_node_t *node;

            rv = calstore_lookup(a->st, apr_pstrcat(iter, "c/", n1, NULL),
                                 &node, NULL, iter);
            if (rv == APR_SUCCESS) {
                rv = set_prop(a->st, node->id, "urn:z", "p",
                              apr_psprintf(iter, "%d", i), iter);
            }
            break;
        }
        }
        if (rv == APR_SUCCESS) {
            a->ops++;
        }
        else if (rv != CALSTORE_ENOENT) {
            a->failures++;
            a->last = rv;
        }
    }
    apr_pool_destroy(pool);
    return NULL;
}

static void *APR_THREAD_FUNC zpruner(apr_thread_t *t, void *data)
{
    zarg_t *a = data;
    apr_pool_t *pool;
    apr_status_t rv;

    apr_pool_create(&pool, NULL);
    while (!*a->stop) {
        apr_pool_clear(pool);
        rv = calstore_changes_prune(a->st, a->prunes % 2 ? 0
                                    : id_of(a->st, "c", pool),
                                    0, 2, pool);
        if (rv == APR_SUCCESS) {
            a->prunes++;
        }
        else {
            a->failures++;
            a->last = rv;
        }
        apr_sleep(500);
    }
    apr_pool_destroy(pool);
    return NULL;
}

/* One sync of collection 'which' (0 c, 1 d) of the reader's copy, in pages
 * of 'limit' until complete; a refused token resets the copy. */
static void zsync(zarg_t *a, int which, calstore_id_t coll, unsigned limit,
                  apr_pool_t *pool)
{
    apr_uint64_t now;
    apr_status_t rv;
    chset_t *cs;
    int trunc;

    for (;;) {
        cs = chset_new(a->copypool);
        cs->pause_every = 40;
        rv = calstore_changes(a->st, coll, a->tok[which], limit, chset_cb,
                              cs, &now, &trunc, pool);
        a->pages++;
        if (rv == CALSTORE_ETOKEN) {
            /* Pruned under us: start again from scratch. */
            a->resets++;
            a->copy[which] = apr_hash_make(a->copypool);
            a->tok[which] = 0;
            continue;
        }
        if (rv == CALSTORE_ELIMIT) {
            a->elimits++;
            limit = 0;
            continue;
        }
        if (rv != APR_SUCCESS) {
            a->failures++;
            a->last = rv;
            return;
        }
        if (a->tok[which] != 0 && !chset_ordered(cs, a->tok[which], now)) {
            a->disorder++;
        }
        a->bad_nodes += cs->bad_node;
        if (a->tok[which] == 0) {
            /* A full listing replaces the copy. */
            a->copy[which] = apr_hash_make(a->copypool);
        }
        chset_apply(a->copy[which], cs);
        a->changes += cs->v->nelts;
        a->tok[which] = now;
        if (!trunc) {
            break;
        }
        if (limit == 0) {
            a->disorder++;      /* truncated without a limit */
            break;
        }
    }
    a->syncs++;
}

static void *APR_THREAD_FUNC zreader(apr_thread_t *t, void *data)
{
    zarg_t *a = data;
    static const unsigned limits[] = { 0, 1, 7, 50, 150 };
    apr_pool_t *pool;
    calstore_id_t ids[2];
    int i = 0;

    apr_pool_create(&pool, NULL);
    ids[0] = id_of(a->st, "c", pool);
    ids[1] = id_of(a->st, "d", pool);
    while (!*a->stop) {
        apr_pool_clear(pool);
        zsync(a, i % 2, ids[i % 2], limits[zrand(a) % 5], pool);
        i++;
    }
    /* The writers have stopped: one last sync of each. */
    zsync(a, 0, ids[0], 0, pool);
    zsync(a, 1, ids[1], 0, pool);
    apr_pool_destroy(pool);
    return NULL;
}

/* Does the reader's copy of 'path' hold exactly its members (names, ids,
 * revisions)? */
static int zcopy_matches(calstore_t *st, const char *path, apr_hash_t *copy,
                         apr_pool_t *pool)
{
    collect_t *c = collect_new(st, pool);
    calstore_node_t *n;
    chrec_t *r;
    int i, same = 0;

    calstore_list(st, id_of(st, path, pool), collect_cb, c, pool);
    for (i = 0; i < c->names->nelts; i++) {
        const char *name = APR_ARRAY_IDX(c->names, i, char *);

        r = apr_hash_get(copy, name, APR_HASH_KEY_STRING);
        n = node_at(st, apr_pstrcat(pool, path, "/", name, NULL), pool);
        if (r != NULL && n != NULL && r->id == n->id
            && r->revision == n->revision) {
            same++;
        }
        else {
            diag("%s/%s: copy has %s", path, name, r ? "another version"
                                                     : "nothing");
        }
    }
    if (same != c->names->nelts
        || (int)apr_hash_count(copy) != c->names->nelts) {
        diag("%s: %d members, %d in the copy, %d the same", path,
             c->names->nelts, (int)apr_hash_count(copy), same);
        return 0;
    }
    return 1;
}

static void test_sync_race(void)
{
    apr_pool_t *pool;
    char *dir = make_tmpdir("syncz");
    calstore_t *st;
    apr_thread_t *th[ZWRITERS + 2];
    zarg_t w[ZWRITERS], r, pr;
    apr_status_t trv;
    volatile int stop;
    char buf[128];
    int phase, i, failures, ops;

    diag("Z. concurrent writers, a syncing reader, a pruner");
    apr_pool_create(&pool, gpool);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL, "open a store for group Z");
    if (st == NULL) {
        return;
    }
    calstore_mkcol(st, "c", NULL, pool);
    calstore_mkcol(st, "d", NULL, pool);
    for (i = failures = 0; i < ZNAMES; i++) {
        failures += put_str(st, apr_psprintf(pool, "c/w%02d", i), "x", NULL,
                            pool) != APR_SUCCESS;
        if (i % 2) {
            failures += put_str(st, apr_psprintf(pool, "d/w%02d", i), "x",
                                NULL, pool) != APR_SUCCESS;
        }
    }
    is_int(failures, 0, "fill c with %d members, d with %d", ZNAMES,
           ZNAMES / 2);
    memset(&r, 0, sizeof(r));
    r.st = st;
    r.rng = 0x9E3779B97F4A7C15ULL;
    r.stop = &stop;
    apr_pool_create(&r.copypool, pool);
    r.copy[0] = apr_hash_make(r.copypool);
    r.copy[1] = apr_hash_make(r.copypool);
    for (phase = 0; phase < 2; phase++) {
        stop = 0;
        r.syncs = r.pages = r.changes = r.resets = r.elimits = 0;
        for (i = 0; i < ZWRITERS; i++) {
            memset(&w[i], 0, sizeof(w[i]));
            w[i].st = st;
            w[i].n = i;
            w[i].rng = 0x2545F4914F6CDD1DULL * (apr_uint64_t)(i + 1 + 10 * phase);
            apr_thread_create(&th[i], NULL, zwriter, &w[i], pool);
        }
        apr_thread_create(&th[ZWRITERS], NULL, zreader, &r, pool);
        if (phase == 1) {
            memset(&pr, 0, sizeof(pr));
            pr.st = st;
            pr.stop = &stop;
            apr_thread_create(&th[ZWRITERS + 1], NULL, zpruner, &pr, pool);
        }
        failures = ops = 0;
        for (i = 0; i < ZWRITERS; i++) {
            apr_thread_join(&trv, th[i]);
            failures += w[i].failures;
            ops += w[i].ops;
            if (w[i].failures) {
                diag("writer %d: %d failures, last %s", i, w[i].failures,
                     calstore_strerror(w[i].last, buf, sizeof(buf)));
            }
        }
        if (phase == 1) {
            /* Prune while the reader finishes: it may have to start
             * again, but must still end up exact. */
            apr_sleep(apr_time_from_msec(20));
        }
        stop = 1;
        apr_thread_join(&trv, th[ZWRITERS]);
        if (phase == 1) {
            apr_thread_join(&trv, th[ZWRITERS + 1]);
        }
        is_int(failures, 0, "phase %d: %d writers, %d operations that "
               "changed something, no unexpected failure", phase, ZWRITERS,
               ops);
        diag("phase %d: %d syncs in %d pages, %d changes applied, %d resets "
             "(ETOKEN), %d ELIMIT, %d prunes", phase, r.syncs, r.pages,
             r.changes, r.resets, r.elimits, phase ? pr.prunes : 0);
        ok(r.failures == 0 && r.disorder == 0 && r.bad_nodes == 0,
           "phase %d: the reader's reports were well-formed (%d failures, "
           "%d out of order, %d bad nodes)", phase, r.failures, r.disorder,
           r.bad_nodes);
        ok(r.syncs > 10, "phase %d: the reader synced repeatedly (%d)",
           phase, r.syncs);
        if (phase == 0) {
            is_int(r.resets + r.elimits, 0, "phase 0: no token refused "
                   "without pruning");
        }
        else {
            ok(pr.failures == 0 && pr.prunes > 0, "phase 1: the pruner ran "
               "%d times without failure", pr.prunes);
        }
        ok(zcopy_matches(st, "c", r.copy[0], pool),
           "phase %d: applying every delta reproduces c exactly", phase);
        ok(zcopy_matches(st, "d", r.copy[1], pool),
           "phase %d: ... and d", phase);
        ok(calstore__check(st, pool) == APR_SUCCESS, "phase %d: store is "
           "consistent", phase);
    }
    calstore_close(st);
    is_int(run_verify(dir), 0, "db5.3_verify passes");
    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* ---- P. long spans keyed by component ----------------------------------- */

#define P_EVENTS   150      /* long VEVENTs overlapping the query          */
#define P_UNDATED  300      /* VTODOs without dates: one span TMIN..TMAX   */
#define P_TODOS    200      /* 10-day VTODOs, one every 3 days from T0 - 5d */

/* Append the names 'fmt' % i, i in [from, to), to 'arr'. */
static void push_names(apr_array_header_t *arr, const char *fmt, int from,
                       int to, apr_pool_t *pool)
{
    for (; from < to; from++) {
        APR_ARRAY_PUSH(arr, const char *) = apr_psprintf(pool, fmt, from);
    }
}

/* 'names' sorted and joined with ',', as range_names() reports them. */
static const char *sorted_joined(const apr_array_header_t *names,
                                 apr_pool_t *pool)
{
    apr_array_header_t *copy = apr_array_copy(pool, names);

    qsort(copy->elts, copy->nelts, sizeof(char *), cmp_str);
    return apr_array_pstrcat(pool, copy, ',');
}

/* range_names(), and the index entries it read in *visited. */
static const char *range_visited(calstore_t *st, calstore_id_t coll,
                                 apr_int64_t s, apr_int64_t e,
                                 apr_uint32_t mask, apr_uint64_t *visited,
                                 apr_pool_t *pool)
{
    apr_uint64_t v0 = calstore__test_visited;
    const char *names = range_names(st, coll, s, e, mask, pool);

    *visited = calstore__test_visited - v0;
    return names;
}

/* Undated VTODOs u<from>..u<to - 1> (one span CALCORE_TIME_MIN..MAX, as
 * core indexes a VTODO without DTSTART, DUE or COMPLETED). */
static int put_undated(calstore_t *st, const char *coll, int from, int to,
                       apr_pool_t *pool)
{
    apr_pool_t *iter;
    apr_int64_t se[2] = { TMIN, TMAX };
    int i, good = 1;

    apr_pool_create(&iter, pool);
    for (i = from; i < to; i++) {
        apr_pool_clear(iter);
        good &= put_cal(st, apr_psprintf(iter, "%s/u%03d.ics", coll, i),
                        cal_info(iter, apr_psprintf(iter, "u-%d", i),
                                 COMP_TODO, TMIN, TMAX, 0, 0, 1, se),
                        NULL, NULL, iter) == APR_SUCCESS;
    }
    apr_pool_destroy(iter);
    return good;
}

static void test_long_by_comp(void)
{
    apr_pool_t *pool, *iter;
    char *dir = make_tmpdir("longcomp");
    calstore_t *st;
    calstore_node_t *cal;
    apr_array_header_t *ev, *todo, *both, *und;
    apr_int64_t qs = T0, qe = T0 + 2 * DAY, far = T0 - 10 * YEAR;
    apr_uint64_t visited;
    int i, good = 1;

    diag("P. long spans keyed by component");
    apr_pool_create(&pool, gpool);
    apr_pool_create(&iter, pool);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL, "open");
    if (st == NULL) {
        return;
    }
    is_int(calstore_mkcol_ex(st, "p", CALSTORE_COLL_CALENDAR, NULL, &cal,
                             pool), APR_SUCCESS, "a calendar");
    /* Two short VEVENTs (tr classes 0 and 1), 150 long ones overlapping
     * [qs, qe] (even: 10 days, class 0; odd: 20 days, class 1), one long
     * one after it; 300 undated VTODOs (class 18), 200 long VTODOs of
     * which t000-t002 overlap [qs, qe]; one long VJOURNAL. */
    good &= put_cal(st, "p/e1.ics", cal_one(pool, "e1", COMP_EVENT,
                                            T0 + HOUR, T0 + 2 * HOUR),
                    NULL, NULL, pool) == APR_SUCCESS;
    good &= put_cal(st, "p/e2.ics", cal_one(pool, "e2", COMP_EVENT, T0 + DAY,
                                            T0 + DAY + 3 * HOUR),
                    NULL, NULL, pool) == APR_SUCCESS;
    for (i = 0; i < P_EVENTS; i++) {
        apr_int64_t s = (i % 2 ? T0 - 15 * DAY : T0 - 5 * DAY) + i * 60;

        apr_pool_clear(iter);
        good &= put_cal(st, apr_psprintf(iter, "p/ev%03d.ics", i),
                        cal_one(iter, apr_psprintf(iter, "ev-%d", i),
                                COMP_EVENT, s,
                                s + (i % 2 ? 20 : 10) * DAY),
                        NULL, NULL, iter) == APR_SUCCESS;
    }
    good &= put_cal(st, "p/late.ics", cal_one(pool, "late", COMP_EVENT,
                                              T0 + 40 * DAY, T0 + 60 * DAY),
                    NULL, NULL, pool) == APR_SUCCESS;
    good &= put_undated(st, "p", 0, P_UNDATED, pool);
    for (i = 0; i < P_TODOS; i++) {
        apr_int64_t s = T0 + (3 * i - 5) * DAY;

        apr_pool_clear(iter);
        good &= put_cal(st, apr_psprintf(iter, "p/t%03d.ics", i),
                        cal_one(iter, apr_psprintf(iter, "t-%d", i),
                                COMP_TODO, s, s + 10 * DAY),
                        NULL, NULL, iter) == APR_SUCCESS;
    }
    good &= put_cal(st, "p/j1.ics", cal_one(pool, "j1", COMP_JOURNAL, T0,
                                            T0 + 10 * DAY),
                    NULL, NULL, pool) == APR_SUCCESS;
    ok(good, "put %d objects", 2 + P_EVENTS + 1 + P_UNDATED + P_TODOS + 1);
    ok(counts_are(st, 654, 654, 2, P_EVENTS + 1 + P_UNDATED + P_TODOS + 1),
       "2 tr entries, %d 'G' entries", P_EVENTS + 1 + P_UNDATED + P_TODOS
       + 1);
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");

    ev = apr_array_make(pool, 256, sizeof(const char *));
    APR_ARRAY_PUSH(ev, const char *) = "e1.ics";
    APR_ARRAY_PUSH(ev, const char *) = "e2.ics";
    push_names(ev, "ev%03d.ics", 0, P_EVENTS, pool);
    todo = apr_array_make(pool, 512, sizeof(const char *));
    push_names(todo, "u%03d.ics", 0, P_UNDATED, pool);
    push_names(todo, "t%03d.ics", 0, 3, pool);

    /* A VEVENT query: tr classes 0 and 1 (e1, the e2 key that ends class
     * 0, e2), then 'G' of VEVENT only: a positioning read, class 0 (75
     * entries and the key that ends it), a positioning read, class 1 (75
     * and late.ics, which ends it), and the positioning read that lands on
     * the first VTODO key and ends the 'G' scan: 3 + 1 + 76 + 1 + 76 + 1 =
     * 158.  Before format 6 it read all 300 undated VTODOs as well. */
    is_str(range_visited(st, cal->id, qs, qe, COMP_EVENT, &visited, pool),
           sorted_joined(ev, pool), "VEVENT query: the 152 events (two "
           "batches)");
    is_int((int)visited, 158, "... reading 158 index entries: no VTODO "
           "entry but the one that ends the scan");
    is_str(range_visited(st, cal->id, far, far + DAY, COMP_EVENT, &visited,
                         pool), "", "a VEVENT query ten years back finds "
           "nothing");
    is_int((int)visited, 7, "... reading 7 entries (positionings)");

    /* VTODO: tr (3 entries, VEVENTs dropped on the component byte), a
     * positioning read, class 0 (t000-t002 and t003, which ends it), a
     * positioning read, class 18 (300 and j1's key, which ends it), the
     * positioning read that lands on j1: 3 + 1 + 4 + 1 + 301 + 1 = 311. */
    is_str(range_visited(st, cal->id, qs, qe, COMP_TODO, &visited, pool),
           sorted_joined(todo, pool), "VTODO query: the undated to-dos and "
           "t000-t002 (three batches)");
    is_int((int)visited, 311, "... reading 311 index entries");
    und = apr_array_make(pool, P_UNDATED, sizeof(const char *));
    push_names(und, "u%03d.ics", 0, P_UNDATED, pool);
    is_str(range_names(st, cal->id, far, far + DAY, COMP_TODO, pool),
           sorted_joined(und, pool), "a VTODO query ten years back finds "
           "the undated to-dos");
    both = apr_array_copy(pool, ev);
    APR_ARRAY_PUSH(both, const char *) = "j1.ics";
    /* VEVENT | VJOURNAL: as VEVENT, then a positioning read of VJOURNAL
     * (j1), its class 0 (j1; nothing after it): 158 + 2 = 160. */
    is_str(range_visited(st, cal->id, qs, qe, COMP_EVENT | COMP_JOURNAL,
                         &visited, pool),
           sorted_joined(both, pool), "VEVENT|VJOURNAL query skips the "
           "VTODOs between them");
    is_int((int)visited, 160, "... reading 160 index entries");
    /* Every kind: VEVENT as above up to late.ics (157), VTODO class 0
     * found by the read that ended VEVENT (158) and read (4), a
     * positioning read (1), class 18 (301), a positioning read (1), j1
     * (1): 466. */
    both = apr_array_append(pool, both, todo);
    is_str(range_visited(st, cal->id, qs, qe, 0, &visited, pool),
           sorted_joined(both, pool), "a query of every kind finds all 456 "
           "(four batches, resumed in both components' long spans)");
    is_int((int)visited, 466, "... reading 466 index entries");

    /* More undated to-dos cost a VEVENT query nothing. */
    ok(put_undated(st, "p", P_UNDATED, 2 * P_UNDATED, pool),
       "300 more undated VTODOs");
    is_str(range_visited(st, cal->id, qs, qe, COMP_EVENT, &visited, pool),
           sorted_joined(ev, pool), "VEVENT query: the same 152 events");
    is_int((int)visited, 158, "... still reading 158 index entries");
    push_names(todo, "u%03d.ics", P_UNDATED, 2 * P_UNDATED, pool);
    is_str(range_names(st, cal->id, qs, qe, COMP_TODO, pool),
           sorted_joined(todo, pool), "VTODO query: all 600 undated "
           "to-dos and t000-t002");

    /* A replaced object's 'G' entry goes with its old kind. */
    {
        apr_int64_t se[2] = { T0 - 30 * DAY, T0 + 30 * DAY };

        is_int(put_cal(st, "p/u000.ics",
                       cal_info(pool, "u-0", COMP_EVENT, T0 - YEAR,
                                T0 + YEAR, 0, 0, 1, se), NULL, NULL, pool),
               APR_SUCCESS, "replace undated VTODO u000 by a 60-day "
               "VEVENT");
    }
    APR_ARRAY_PUSH(ev, const char *) = "u000.ics";
    is_str(range_names(st, cal->id, qs, qe, COMP_EVENT, pool),
           sorted_joined(ev, pool), "the VEVENT query finds it");
    ok(strstr(range_names(st, cal->id, qs, qe, COMP_TODO, pool),
              "u000.ics") == NULL, "the VTODO query does not");
    is_int(calstore_delete(st, "p/u001.ics", NULL, pool), APR_SUCCESS,
           "delete undated VTODO u001");
    ok(counts_are(st, 953, 953, 2, P_EVENTS + 1 + 2 * P_UNDATED - 1
                  + P_TODOS + 1), "its 'G' entry is gone");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
    calstore_close(st);
    is_int(run_verify(dir), 0, "db5.3_verify passes");
    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* ---- W. window edges grouped by boundary -------------------------------- */

#define W_DAYS     7        /* distinct win_from / win_until days          */
#define W_OBJS     100      /* recurring objects on those days              */
#define W_MORE     300      /* added later on the same days                 */
#define W_GROUPS   4500     /* one object per day: more than a scan budget  */

/* Recurring object 'uid' of kind 'comp' at 'path': window [from, until)
 * listing 'n' instances from 'se', an 'L' edge (if 'first' is not 0) whose
 * set reaches back to 'first', an 'H' edge (if 'last' is not 0) reaching
 * 'last'. */
static int put_edges(calstore_t *st, const char *path, const char *uid,
                     apr_uint32_t comp, apr_int64_t from, apr_int64_t until,
                     apr_int64_t first, apr_int64_t last, int n,
                     const apr_int64_t *se, apr_pool_t *pool)
{
    calstore_calinfo_t *ci = cal_info(pool, uid, comp, from, until,
                                      first != 0, last != 0, n, se);

    ci->first = first ? first : from;
    ci->last = last ? last : until;
    return put_cal(st, path, ci, NULL, NULL, pool) == APR_SUCCESS;
}

/* Names 'fmt' % i for i in [0, n) with want(i), sorted and joined. */
static const char *w_names(const char *fmt, int n, int (*want)(int, int),
                           int arg, apr_pool_t *pool)
{
    apr_array_header_t *names = apr_array_make(pool, 64, sizeof(char *));
    int i;

    for (i = 0; i < n; i++) {
        if (want(i, arg)) {
            APR_ARRAY_PUSH(names, const char *) = apr_psprintf(pool, fmt, i);
        }
    }
    return sorted_joined(names, pool);
}

/* Objects of calendar w: i on day i % W_DAYS; w000-w004 reach far back,
 * w095-w099 far ahead; the others (and the 300 added later) reach about a
 * year beyond their window. */
static apr_int64_t w_first(int i)
{
    return i < 5 ? T0 - 20 * YEAR : T0 - 2 * YEAR + i * HOUR;
}

static apr_int64_t w_last(int i)
{
    return i >= W_OBJS - 5 && i < W_OBJS ? T0 + 20 * YEAR
                                         : T0 + 3 * YEAR + i * HOUR;
}

static int w_far_back(int i, int arg)
{
    return i < 5;
}

static int w_far_ahead(int i, int arg)
{
    return i >= W_OBJS - 5 && i < W_OBJS;
}

static int w_day_from(int i, int day)
{
    return i % W_DAYS >= day;
}

static int w_day_until(int i, int day)
{
    return i % W_DAYS <= day;
}

static int w_first_upto(int i, int qe)
{
    return w_first(i) <= T0 - 2 * YEAR + (apr_int64_t)qe * HOUR;
}

/* Calendar m: main object d has its 'L' edge on day B + d, its 'H' edge on
 * day U + d; those with d in [3800, 4300), d % 3 == 0 reach far both ways
 * (the matches), the others reach exactly to their boundary. */
#define W_B      (T0 - 15 * YEAR)
#define W_U      (T0 + 3 * YEAR)
#define W_X      (T0 + 50 * YEAR)

static int m_match(int d, int arg)
{
    return d >= 3800 && d < 4300 && d % 3 == 0;
}

/* The window calstore_calinfo_build() gives a daily event from 2000 on
 * that never ends: into *from, *until; 0 or -1. */
static int calinfo_window(apr_int64_t *from, apr_int64_t *until,
                          int *before, int *after, apr_pool_t *pool)
{
    static const char text[] =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
        "BEGIN:VEVENT\r\nUID:daily\r\nDTSTAMP:20240101T000000Z\r\n"
        "DTSTART:20000101T090000Z\r\nDTEND:20000101T100000Z\r\n"
        "RRULE:FREQ=DAILY\r\nSUMMARY:x\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n";
    calstore_calinfo_t ci;
    calcore_precond_e pc;
    calcore_object_t *obj;
    const char *reason;

    reason = NULL;
    if (calcore_init(pool) != APR_SUCCESS) {
        diag("calcore_init failed");
        return -1;
    }
    if (calcore_object_parse(&obj, &pc, &reason, text, strlen(text), NULL,
                             pool) != APR_SUCCESS
        || calstore_calinfo_build(&ci, obj, NULL, pool) != APR_SUCCESS) {
        diag("parse: %s", reason ? reason : "?");
        return -1;
    }
    *from = ci.win_from;
    *until = ci.win_until;
    *before = ci.before;
    *after = ci.after;
    return 0;
}

static void test_edge_groups(void)
{
    apr_pool_t *pool, *iter;
    char *dir = make_tmpdir("edges");
    calstore_t *st;
    calstore_node_t *w, *m;
    apr_int64_t past = T0 - 10 * YEAR, future = T0 + 10 * YEAR;
    apr_uint64_t visited, v_past, v_future, v[3];
    const char *want;
    int i, j, good = 1;

    diag("W. window edges grouped by boundary (what a query far from the "
         "windows reads)");
    apr_pool_create(&pool, gpool);
    apr_pool_create(&iter, pool);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL, "open");
    if (st == NULL) {
        return;
    }
    /* The windows of recurring objects end on whole UTC days, so that
     * the objects written on one day share their edges' boundaries. */
    {
        apr_int64_t f1, u1, f2, u2, now;
        int b1, a1, b2, a2;

        ok(calinfo_window(&f1, &u1, &b1, &a1, pool) == 0
           && calinfo_window(&f2, &u2, &b2, &a2, pool) == 0,
           "calinfo of a daily event from 2000 without end, twice");
        now = apr_time_sec(apr_time_now());
        ok(f1 % DAY == 0 && u1 % DAY == 0, "... its window starts and "
           "ends at midnight UTC (%" APR_INT64_T_FMT ", %" APR_INT64_T_FMT
           ")", f1, u1);
        ok(f1 <= now - CALCORE_INDEX_PAST_DEFAULT
           && f1 > now - CALCORE_INDEX_PAST_DEFAULT - 2 * DAY
           && u1 <= now + CALCORE_INDEX_FUTURE_DEFAULT
           && u1 > now + CALCORE_INDEX_FUTURE_DEFAULT - 2 * DAY,
           "... on the day of core's defaults (or the day before)");
        ok(b1 && a1, "... with both edges");
        ok((f2 == f1 && u2 == u1) || (f2 == f1 + DAY && u2 == u1 + DAY),
           "... the same window both times (unless midnight passed)");
    }
    is_int(calstore_mkcol_ex(st, "w", CALSTORE_COLL_CALENDAR, NULL, &w,
                             pool), APR_SUCCESS, "calendar w");
    is_int(calstore_mkcol_ex(st, "m", CALSTORE_COLL_CALENDAR, NULL, &m,
                             pool), APR_SUCCESS, "calendar m");

    /* w: 100 recurring objects, object i written on day i % 7: window
     * [T0 - YEAR + d, T0 + 2 YEAR + d), one listed instance, both edges. */
    for (i = 0; i < W_OBJS; i++) {
        apr_int64_t d = (i % W_DAYS) * DAY, se[2];

        apr_pool_clear(iter);
        se[0] = T0 + i * HOUR;
        se[1] = se[0] + HOUR;
        good &= put_edges(st, apr_psprintf(iter, "w/w%03d.ics", i),
                          apr_psprintf(iter, "w-%d", i), COMP_EVENT,
                          T0 - YEAR + d, T0 + 2 * YEAR + d, w_first(i),
                          w_last(i), 1, se, iter);
    }
    ok(good, "w: %d recurring objects with both edges on %d days", W_OBJS,
       W_DAYS);
    ok(counts_are(st, W_OBJS, W_OBJS, W_OBJS, 2 * W_OBJS),
       "%d tr entries, %d edges", W_OBJS, 2 * W_OBJS);
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");

    /* A week ten years back: tr class 0 (its first entry, T0, ends it;
     * classes 1-3 find nothing: m's calendar is still empty), 'G' (the
     * positioning read lands on w's first 'H' entry), 'L' day by day: on
     * days 0-4 the edge that reaches the range (w000-w004 come first) and
     * the one after it, which ends the day: a jump to the next day; on
     * days 5 and 6 just that one (nothing after day 6); then the 'H'
     * positioning read (day 0's boundary lies after the range): 1 + 1 +
     * 5 x 2 + 2 + 1 = 15.  Format 6 read all 100 'L' entries: 103. */
    want = w_names("w%03d.ics", W_OBJS, w_far_back, 0, pool);
    is_str(range_visited(st, w->id, past, past + WEEK, 0, &v_past, pool),
           want, "ten years back: the 5 objects whose sets reach it");
    is_int((int)v_past, 15, "... reading 15 index entries: 2 per day with "
           "a match, 1 per day without, 3 positionings");
    /* A week ten years ahead: tr and 'L' find nothing after the range,
     * 'G' lands on w's first 'H' entry; then 'H' day by day: its first
     * edge (reaching only 3 years ahead) and a jump to its edges reaching
     * the range: w098, w099, w095, w096, w097 on days 0, 1, 4, 5, 6, read
     * and followed by the next day's first edge; the read after day 6
     * lands on w's first 'L' entry and ends the scan: 1 + 7 + 5 + 1 = 14.
     * Format 6 read all 100 'H' entries: 102. */
    want = w_names("w%03d.ics", W_OBJS, w_far_ahead, 0, pool);
    is_str(range_visited(st, w->id, future, future + WEEK, 0, &v_future,
                         pool), want, "ten years ahead: the 5 objects "
           "whose sets reach it");
    is_int((int)v_future, 14, "... reading 14 index entries: 1 per day, "
           "1 per match, 2 positionings");
    for (i = W_OBJS; i < W_OBJS + W_MORE; i++) {
        apr_int64_t d = (i % W_DAYS) * DAY, se[2];

        apr_pool_clear(iter);
        se[0] = T0 + i * HOUR;
        se[1] = se[0] + HOUR;
        good &= put_edges(st, apr_psprintf(iter, "w/w%03d.ics", i),
                          apr_psprintf(iter, "w-%d", i), COMP_EVENT,
                          T0 - YEAR + d, T0 + 2 * YEAR + d, w_first(i),
                          w_last(i), 1, se, iter);
    }
    ok(good, "w: %d more on the same days", W_MORE);
    want = w_names("w%03d.ics", W_OBJS, w_far_back, 0, pool);
    is_str(range_visited(st, w->id, past, past + WEEK, 0, &visited, pool),
           want, "ten years back: the same 5 objects");
    is_int((int)visited, (int)v_past, "... reading the same %d entries "
           "(%d recurring objects, %d days)", (int)v_past, W_OBJS + W_MORE,
           W_DAYS);
    want = w_names("w%03d.ics", W_OBJS, w_far_ahead, 0, pool);
    is_str(range_visited(st, w->id, future, future + WEEK, 0, &visited,
                         pool), want, "ten years ahead: the same 5 objects");
    is_int((int)visited, (int)v_future, "... reading the same %d entries",
           (int)v_future);

    /* Ranges cut inside the days: every edge reaching back to T0 - 2 YEAR +
     * 200 h (201 objects: more than a batch, so the query resumes inside a
     * day's edges): tr 1, 'G' 1, per day its matches and the edge that
     * ends it (201 + 7), 'H' 1: 211.  Then ranges starting or ending
     * exactly at a boundary, or one second past it. */
    want = w_names("w%03d.ics", W_OBJS + W_MORE, w_first_upto, 200, pool);
    is_str(range_visited(st, w->id, T0 - 3 * YEAR,
                         T0 - 2 * YEAR + 200 * HOUR, 0, &visited, pool),
           want, "a range ending at the first start of w200: the 201 "
           "objects reaching it (two batches)");
    is_int((int)visited, 211, "... reading 211 index entries");
    for (j = 2; j <= 4; j++) {
        apr_int64_t f = T0 - YEAR + j * DAY, u = T0 + 2 * YEAR + j * DAY;

        is_str(range_names(st, w->id, f, f, 0, pool),
               w_names("w%03d.ics", W_OBJS + W_MORE, w_day_from, j, pool),
               "[day %d's win_from]: every 'L' edge of days %d-6", j, j);
        is_str(range_names(st, w->id, f + 1, f + 1, 0, pool),
               w_names("w%03d.ics", W_OBJS + W_MORE, w_day_from, j + 1,
                       pool), "[win_from + 1 s]: days %d-6", j + 1);
        is_str(range_names(st, w->id, u, u, 0, pool),
               w_names("w%03d.ics", W_OBJS + W_MORE, w_day_until, j, pool),
               "[day %d's win_until]: every 'H' edge of days 0-%d", j, j);
        is_str(range_names(st, w->id, u - 1, u - 1, 0, pool),
               w_names("w%03d.ics", W_OBJS + W_MORE, w_day_until, j - 1,
                       pool), "[win_until - 1 s]: days 0-%d", j - 1);
    }
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");

    /* m: 4,500 objects, each on a day of its own (more boundaries than one
     * transaction's scan budget of 4,096 entries), 3 leading 'L' edges
     * (days B - 3 .. B - 1) and 3 far-future ones (days X .. X + 2), no
     * listed instance. */
    good = 1;
    for (i = 0; i < W_GROUPS; i++) {
        apr_pool_clear(iter);
        good &= put_edges(st, apr_psprintf(iter, "m/m%04d.ics", i),
                          apr_psprintf(iter, "m-%d", i), COMP_EVENT,
                          W_B + i * DAY, W_U + i * DAY,
                          m_match(i, 0) ? T0 - 40 * YEAR : W_B + i * DAY,
                          m_match(i, 0) ? T0 + 100 * YEAR : W_U + i * DAY,
                          0, NULL, iter);
    }
    for (i = 0; i < 3; i++) {
        apr_int64_t f = W_B - (3 - i) * DAY, x = W_X + i * DAY;

        apr_pool_clear(iter);
        good &= put_edges(st, apr_psprintf(iter, "m/lead%d.ics", i),
                          apr_psprintf(iter, "lead-%d", i), COMP_EVENT, f,
                          f, f, 0, 0, NULL, iter);
        good &= put_edges(st, apr_psprintf(iter, "m/late%d.ics", i),
                          apr_psprintf(iter, "late-%d", i), COMP_EVENT, x,
                          x, x, 0, 0, NULL, iter);
    }
    ok(good, "m: %d objects on days of their own, 3 leading and 3 late "
       "'L' edges", W_GROUPS);
    want = w_names("m%04d.ics", W_GROUPS, m_match, 0, pool);
    /* Ranges [B - (3 - j) days - 1 s]: no tr entry, 'G' 1 (lands on m's
     * first 'H' entry), 'L' one read per day: 3 - j leading days, the
     * 4,500 (a day with a match: its edge, then on to the next day; one
     * without: its edge, then a jump), the 3 late ones; 'H' 1: 4,508 - j.
     * The scan budget (4,096 entries) ends the first transaction at main
     * day 4,091 + j: at a jump (resumed at the jump's target) for j = 0
     * and 2, at a match (resumed after its key) for j = 1; 97 or 98
     * candidates so far, below a batch. */
    for (j = 0; j < 3; j++) {
        apr_int64_t q = W_B - (3 - j) * DAY - 1;

        is_str(range_visited(st, m->id, q, q, 0, &v[j], pool), want,
               "[B - %d days - 1 s]: the 167 objects reaching back", 3 - j);
    }
    ok(v[0] == 4508 && v[1] == 4507 && v[2] == 4506,
       "... reading 4,508, 4,507, 4,506 index entries (%d, %d, %d): one "
       "per day, across the scan budget", (int)v[0], (int)v[1], (int)v[2]);
    /* Ranges [X + j days - 1 s]: 'G' 1, 3 - j late 'L' days, then 'H' one
     * read per day (a day's first edge, then a jump to its edges reaching
     * the range: its match or the next day's first edge) and the read
     * that lands on m's first 'L' entry: 4,505 - j; the budget ends the
     * first transaction at main day 4,091 + j as above. */
    for (j = 0; j < 3; j++) {
        apr_int64_t q = W_X + j * DAY - 1;

        is_str(range_visited(st, m->id, q, q, 0, &v[j], pool), want,
               "[X + %d days - 1 s]: the 167 objects reaching ahead", j);
    }
    ok(v[0] == 4505 && v[1] == 4504 && v[2] == 4503,
       "... reading 4,505, 4,504, 4,503 index entries (%d, %d, %d)",
       (int)v[0], (int)v[1], (int)v[2]);
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
    calstore_close(st);
    is_int(run_verify(dir), 0, "db5.3_verify passes");
    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* ---- U. the in-place upgrade of format-5 and format-6 stores ------------ */

/* The store's format record, or -1. */
static int format_of(DB *meta)
{
    unsigned char fmt[4];
    DBT key, val;

    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));
    key.data = "format";
    key.size = 6;
    val.data = fmt;
    val.ulen = sizeof(fmt);
    val.flags = DB_DBT_USERMEM;
    if (meta->get(meta, NULL, &key, &val, 0) != 0 || val.size != 4) {
        return -1;
    }
    return (int)calstore_get_be32(fmt);
}

static int set_format(DB *meta, DB_TXN *txn, int format)
{
    unsigned char fmt[4];
    DBT key, val;

    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));
    key.data = "format";
    key.size = 6;
    calstore_put_be32(fmt, (apr_uint32_t)format);
    val.data = fmt;
    val.size = 4;
    return meta->put(meta, txn, &key, &val, 0);
}

/* The 'G' keys of tredge.db: *n27 of format 6 (27 bytes), *n26 of format
 * 5 (26 bytes), *bad of neither or with a component byte other than the
 * value's.  0, or -1 on a Berkeley DB error. */
static int g_layout(DB *tredge, int *n27, int *n26, int *bad)
{
    unsigned char k[64], v[16];
    DBT key, val;
    DBC *c;
    int ret;

    *n27 = *n26 = *bad = 0;
    if (tredge->cursor(tredge, NULL, &c, 0) != 0) {
        return -1;
    }
    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));
    key.data = k;
    key.ulen = sizeof(k);
    key.flags = DB_DBT_USERMEM;
    val.data = v;
    val.ulen = sizeof(v);
    val.flags = DB_DBT_USERMEM;
    while ((ret = c->get(c, &key, &val, DB_NEXT)) == 0) {
        if (key.size < 9 || k[8] != 'G') {
            continue;
        }
        if (key.size == 27 && val.size == 9 && k[9] == v[8]) {
            (*n27)++;
        }
        else if (key.size == 26 && val.size == 9) {
            (*n26)++;
        }
        else {
            (*bad)++;
        }
    }
    c->close(c);
    return ret == DB_NOTFOUND ? 0 : -1;
}

/* Are the 'G' keys of 'tredge' exactly n27 new, n26 old and 'bad'
 * others (see g_layout)? */
static int g_layout_is(DB *tredge, int n27, int n26, int bad)
{
    int g27, g26, gbad;

    if (g_layout(tredge, &g27, &g26, &gbad) != 0) {
        diag("cannot read tredge.db");
        return 0;
    }
    if (g27 != n27 || g26 != n26 || gbad != bad) {
        diag("'G' keys: %d of 27 bytes, %d of 26, %d bad", g27, g26, gbad);
        return 0;
    }
    return 1;
}

/* The 'L' / 'H' keys of tredge.db: *n33 of format 7 (33 bytes, the reach
 * in the key equal to the value's), *n25 of formats 5 and 6 (25 bytes),
 * *bad others.  0, or -1 on a Berkeley DB error. */
static int e_layout(DB *tredge, int *n33, int *n25, int *bad)
{
    unsigned char k[64], v[16];
    DBT key, val;
    DBC *c;
    int ret;

    *n33 = *n25 = *bad = 0;
    if (tredge->cursor(tredge, NULL, &c, 0) != 0) {
        return -1;
    }
    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));
    key.data = k;
    key.ulen = sizeof(k);
    key.flags = DB_DBT_USERMEM;
    val.data = v;
    val.ulen = sizeof(v);
    val.flags = DB_DBT_USERMEM;
    while ((ret = c->get(c, &key, &val, DB_NEXT)) == 0) {
        if (key.size < 9 || (k[8] != 'L' && k[8] != 'H')) {
            continue;
        }
        if (key.size == 33 && val.size == 9
            && calstore_get_ord64(k + 17)
               == (apr_int64_t)calstore_get_be64(v + 1)) {
            (*n33)++;
        }
        else if (key.size == 25 && val.size == 9) {
            (*n25)++;
        }
        else {
            (*bad)++;
        }
    }
    c->close(c);
    return ret == DB_NOTFOUND ? 0 : -1;
}

/* Are the 'L' / 'H' keys of 'tredge' exactly n33 new, n25 old and 'bad'
 * others (see e_layout)? */
static int e_layout_is(DB *tredge, int n33, int n25, int bad)
{
    int e33, e25, ebad;

    if (e_layout(tredge, &e33, &e25, &ebad) != 0) {
        diag("cannot read tredge.db");
        return 0;
    }
    if (e33 != n33 || e25 != n25 || ebad != bad) {
        diag("'L'/'H' keys: %d of 33 bytes, %d of 25, %d bad", e33, e25,
             ebad);
        return 0;
    }
    return 1;
}

/* Rewrite every 33-byte 'L' / 'H' key of 'tredge' in 'txn' as formats 5
 * and 6 did: coll + kind + ord64(boundary) + obj (25 bytes, without the
 * reach), the value unchanged.  The number rewritten, or -1. */
static int downgrade_edges(DB *tredge, DB_TXN *txn)
{
    unsigned char k[64], v[16], old[25];
    DBT key, val, okey, oval;
    DBC *c;
    u_int32_t flag = DB_FIRST;
    int ret, n = 0;

    if (tredge->cursor(tredge, txn, &c, 0) != 0) {
        return -1;
    }
    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));
    key.data = k;
    key.ulen = sizeof(k);
    key.flags = DB_DBT_USERMEM;
    val.data = v;
    val.ulen = sizeof(v);
    val.flags = DB_DBT_USERMEM;
    memset(&okey, 0, sizeof(okey));
    memset(&oval, 0, sizeof(oval));
    okey.data = old;
    okey.size = sizeof(old);
    oval.data = v;
    while ((ret = c->get(c, &key, &val, flag)) == 0) {
        flag = DB_NEXT;
        if (key.size != 33 || (k[8] != 'L' && k[8] != 'H')) {
            continue;
        }
        memcpy(old, k, 17);
        memcpy(old + 17, k + 25, 8);
        oval.size = val.size;
        if ((ret = c->del(c, 0)) != 0
            || (ret = tredge->put(tredge, txn, &okey, &oval, 0)) != 0) {
            break;
        }
        n++;
        flag = DB_SET_RANGE;    /* from the first key after the new one */
    }
    c->close(c);
    return ret == DB_NOTFOUND ? n : -1;
}

/* Turn the store behind 'meta' and 'tredge' back into format 6, as an
 * older build wrote it: every 'L' / 'H' key without the reach, the format
 * record 6, in one transaction.  The number of edges rewritten, or -1. */
static int downgrade_to_6(DB_ENV *env, DB *meta, DB *tredge)
{
    DB_TXN *txn;
    int n;

    if (env->txn_begin(env, NULL, &txn, 0) != 0) {
        return -1;
    }
    if ((n = downgrade_edges(tredge, txn)) < 0
        || set_format(meta, txn, 6) != 0) {
        txn->abort(txn);
        return -1;
    }
    return txn->commit(txn, 0) == 0 ? n : -1;
}

/* Turn the store behind 'meta' and 'tredge' back into format 5, as an
 * older build wrote it: every 'G' key without its component byte, every
 * 'L' / 'H' key without the reach, the format record 5, in one
 * transaction.  The number of 'G' entries rewritten, or -1. */
static int downgrade_to_5(DB_ENV *env, DB *meta, DB *tredge)
{
    unsigned char k[64], v[16], old[26];
    DBT key, val, okey, oval;
    DB_TXN *txn;
    DBC *c;
    u_int32_t flag = DB_FIRST;
    int ret, n = 0;

    if (env->txn_begin(env, NULL, &txn, 0) != 0) {
        return -1;
    }
    if (tredge->cursor(tredge, txn, &c, 0) != 0) {
        txn->abort(txn);
        return -1;
    }
    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));
    key.data = k;
    key.ulen = sizeof(k);
    key.flags = DB_DBT_USERMEM;
    val.data = v;
    val.ulen = sizeof(v);
    val.flags = DB_DBT_USERMEM;
    memset(&okey, 0, sizeof(okey));
    memset(&oval, 0, sizeof(oval));
    okey.data = old;
    okey.size = sizeof(old);
    oval.data = v;
    while ((ret = c->get(c, &key, &val, flag)) == 0) {
        flag = DB_NEXT;
        if (key.size != 27 || k[8] != 'G') {
            continue;
        }
        memcpy(old, k, 9);
        memcpy(old + 9, k + 10, 17);
        oval.size = val.size;
        if ((ret = c->del(c, 0)) != 0
            || (ret = tredge->put(tredge, txn, &okey, &oval, 0)) != 0) {
            break;
        }
        n++;
        flag = DB_SET_RANGE;    /* from the first key after the old one */
    }
    c->close(c);
    if (ret != DB_NOTFOUND || downgrade_edges(tredge, txn) < 0
        || set_format(meta, txn, 5) != 0) {
        txn->abort(txn);
        return -1;
    }
    return txn->commit(txn, 0) == 0 ? n : -1;
}

/* Open the environment of the closed store 'dir' directly (without
 * calstore), with meta.db and tredge.db.  0 or -1. */
static int raw_open(const char *dir, DB_ENV **env, DB **meta, DB **tredge)
{
    *env = NULL;
    *meta = *tredge = NULL;
    if (db_env_create(env, 0) != 0) {
        return -1;
    }
    if ((*env)->open(*env, dir, DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK
                     | DB_INIT_LOG | DB_INIT_MPOOL, 0600) != 0
        || db_create(meta, *env, 0) != 0
        || (*meta)->open(*meta, NULL, "meta.db", NULL, DB_BTREE,
                         DB_AUTO_COMMIT, 0600) != 0
        || db_create(tredge, *env, 0) != 0
        || (*tredge)->open(*tredge, NULL, "tredge.db", NULL, DB_BTREE,
                           DB_AUTO_COMMIT, 0600) != 0) {
        if (*tredge != NULL) {
            (*tredge)->close(*tredge, 0);
        }
        if (*meta != NULL) {
            (*meta)->close(*meta, 0);
        }
        (*env)->close(*env, 0);
        return -1;
    }
    return 0;
}

static void raw_close(DB_ENV *env, DB *meta, DB *tredge)
{
    tredge->close(tredge, 0);
    meta->close(meta, 0);
    env->close(env, 0);
}

/* The queries whose answers must survive the upgrade. */
static const apr_int64_t u_ranges[][2] = {
    { T0, T0 + DAY }, { T0 - 10 * YEAR, T0 - 10 * YEAR + DAY },
    { T0 + 50 * DAY, T0 + 51 * DAY }, { TMIN, TMAX },
    { T0 + 10 * YEAR, T0 + 10 * YEAR + DAY },
    { T0 - 2 * YEAR - 100 * DAY, T0 - 2 * YEAR - 100 * DAY },
    { T0 + 3 * YEAR + 100 * DAY, T0 + 3 * YEAR + 100 * DAY },
    { T0 - YEAR + DAY, T0 - YEAR + DAY }, { T0 + 2 * YEAR + DAY,
                                           T0 + 2 * YEAR + DAY }
};
static const apr_uint32_t u_masks[] = {
    0, COMP_EVENT, COMP_TODO, COMP_JOURNAL, COMP_EVENT | COMP_JOURNAL
};
#define U_NRANGES ((int)(sizeof(u_ranges) / sizeof(u_ranges[0])))
#define U_NMASKS  ((int)(sizeof(u_masks) / sizeof(u_masks[0])))
#define U_NQUERIES (2 * U_NRANGES * U_NMASKS)

/* Every query of u_ranges x u_masks in calendars 'a' and 'b'. */
static void u_answers(calstore_t *st, calstore_id_t a, calstore_id_t b,
                      const char **out, apr_pool_t *pool)
{
    int c, r, m, n = 0;

    for (c = 0; c < 2; c++) {
        for (r = 0; r < U_NRANGES; r++) {
            for (m = 0; m < U_NMASKS; m++) {
                out[n++] = range_names(st, c ? b : a, u_ranges[r][0],
                                       u_ranges[r][1], u_masks[m], pool);
            }
        }
    }
}

static int u_same(const char **x, const char **y)
{
    int i, same = 1;

    for (i = 0; i < U_NQUERIES; i++) {
        if (strcmp(x[i], y[i]) != 0) {
            diag("query %d: %s, then %s", i, x[i], y[i]);
            same = 0;
        }
    }
    return same;
}

/* A child of the concurrency test: wait for the parent's signal (EOF on
 * 'fd'), open the store, query the VTODOs of calendar a (expecting 'todo').
 * Exit 10 if this process upgraded it, 0 if it found it upgraded, another
 * value on failure. */
static int child_upgrade(const char *dir, int fd, const char *todo)
{
    apr_pool_t *pool;
    calstore_t *st;
    char c;
    int same;

    alarm(60);
    while (read(fd, &c, 1) < 0 && errno == EINTR) {
    }
    log_upgrades = 0;
    apr_pool_create(&pool, NULL);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    if (st == NULL) {
        return 2;
    }
    same = strcmp(range_names(st, id_of(st, "a", pool), TMIN, TMAX,
                              COMP_TODO, pool), todo) == 0;
    calstore_close(st);
    if (!same) {
        return 3;
    }
    return log_upgrades == 1 ? 10 : log_upgrades == 0 ? 0 : 4;
}

static void test_upgrade(void)
{
    apr_pool_t *pool, *iter;
    char *dir = make_tmpdir("upgrade");
    calstore_options_t opts;
    calstore_t *st;
    calstore_node_t *a, *b;
    const char *before[U_NQUERIES], *after[U_NQUERIES];
    apr_int64_t se[4];
    DB_ENV *env;
    DB *meta, *tredge;
    int i, ups, good = 1;

    diag("U. the in-place upgrade of format-5 and format-6 stores (to "
         "format %d)", CALSTORE_FORMAT_VERSION);
    apr_pool_create(&pool, gpool);
    apr_pool_create(&iter, pool);
    calstore_options_default(&opts);
    opts.durability = CALSTORE_DURABILITY_WRITE_NOSYNC;
    opts.cache_bytes = 8 * 1024 * 1024;
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL, "open");
    if (st == NULL) {
        return;
    }
    calstore_mkcol_ex(st, "a", CALSTORE_COLL_CALENDAR, NULL, &a, pool);
    calstore_mkcol_ex(st, "b", CALSTORE_COLL_CALENDAR, NULL, &b, pool);
    /* a: a short and two long VEVENTs (classes 0 and 3), 20 undated
     * VTODOs, a 30-day VTODO, a 9-day VJOURNAL, and a recurring VEVENT
     * with both window edges and one long instance; b: an undated VTODO
     * and an 8-day VEVENT.  27 'G' entries. */
    good &= put_cal(st, "a/ae1.ics", cal_one(pool, "ae1", COMP_EVENT, T0,
                                             T0 + HOUR), NULL, NULL, pool)
            == APR_SUCCESS;
    good &= put_cal(st, "a/ae2.ics", cal_one(pool, "ae2", COMP_EVENT,
                                             T0 - 2 * DAY, T0 + 8 * DAY),
                    NULL, NULL, pool) == APR_SUCCESS;
    good &= put_cal(st, "a/ae3.ics", cal_one(pool, "ae3", COMP_EVENT,
                                             T0 - 50 * DAY, T0 + 50 * DAY),
                    NULL, NULL, pool) == APR_SUCCESS;
    good &= put_undated(st, "a", 0, 20, pool);
    good &= put_cal(st, "a/at1.ics", cal_one(pool, "at1", COMP_TODO,
                                             T0 + 40 * DAY, T0 + 70 * DAY),
                    NULL, NULL, pool) == APR_SUCCESS;
    good &= put_cal(st, "a/aj1.ics", cal_one(pool, "aj1", COMP_JOURNAL,
                                             T0 - DAY, T0 + 8 * DAY),
                    NULL, NULL, pool) == APR_SUCCESS;
    se[0] = T0 + 10 * DAY;
    se[1] = T0 + 10 * DAY + HOUR;
    se[2] = T0 + 45 * DAY;
    se[3] = T0 + 55 * DAY;
    good &= put_cal(st, "a/ar1.ics", cal_info(pool, "ar1", COMP_EVENT,
                                              T0, T0 + YEAR, 1, 1, 2, se),
                    NULL, NULL, pool) == APR_SUCCESS;
    good &= put_undated(st, "b", 100, 101, pool);
    good &= put_cal(st, "b/be1.ics", cal_one(pool, "be1", COMP_EVENT, T0,
                                             T0 + 8 * DAY), NULL, NULL, pool)
            == APR_SUCCESS;
    /* 12 recurring objects with both edges, windows on three days, sets
     * reaching 2 to 12 years before and after them (VEVENTs and VTODOs):
     * with ar1, 26 'L' / 'H' entries. */
    for (i = 0; i < 12; i++) {
        apr_int64_t d = (i % 3) * DAY;

        apr_pool_clear(iter);
        good &= put_edges(st, apr_psprintf(iter, "%s/ar%d.ics",
                                           i < 10 ? "a" : "b", 10 + i),
                          apr_psprintf(iter, "ar%d", 10 + i),
                          i % 2 ? COMP_TODO : COMP_EVENT, T0 - YEAR + d,
                          T0 + 2 * YEAR + d,
                          i < 6 ? T0 - 2 * YEAR - i * 30 * DAY
                                : T0 - 12 * YEAR,
                          i < 6 ? T0 + 3 * YEAR + i * 30 * DAY
                                : T0 + 12 * YEAR,
                          0, NULL, iter);
    }
    ok(good, "put 40 objects into two calendars");
    u_answers(st, a->id, b->id, before, pool);
    ok(g_layout_is(st->tredge, 27, 0, 0),
       "27 'G' keys of 27 bytes, by component");
    ok(e_layout_is(st->tredge, 26, 0, 0),
       "26 'L' / 'H' keys of 33 bytes, with the reach of their value");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");

    /* Back to format 6: the edges without the reach. */
    is_int(downgrade_to_6(st->env, st->meta, st->tredge), 26,
           "rewrite the 26 'L' / 'H' keys as format 6 did, and the format "
           "record");
    ok(e_layout_is(st->tredge, 0, 26, 0)
       && g_layout_is(st->tredge, 27, 0, 0), "26 'L' / 'H' keys of 25 "
       "bytes, the 'G' keys as they were");
    is_int(format_of(st->meta), 6, "format record 6");
    is_int(calstore__check(st, pool), CALSTORE_ECORRUPT,
           "the check refuses 'L' / 'H' keys without the reach");
    calstore_close(st);
    ups = log_upgrades;
    is_int(calstore_prepare(dir, &opts, pool), APR_SUCCESS,
           "prepare opens a format-6 store");
    is_int(log_upgrades - ups, 1, "... upgrading it, with a notice");
    ok(strstr(log_upgrade_msg, apr_psprintf(pool, "format 6 to %d",
                                            CALSTORE_FORMAT_VERSION)) != NULL
       && strstr(log_upgrade_msg, "(26 window edges keyed by reach)")
          != NULL, "... naming the formats and the 26 edges: %s",
       log_upgrade_msg);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL, "open after the upgrade");
    if (st == NULL) {
        return;
    }
    is_int(log_upgrades - ups, 1, "... upgrades nothing again");
    is_int(format_of(st->meta), CALSTORE_FORMAT_VERSION,
           "format record of this build");
    ok(e_layout_is(st->tredge, 26, 0, 0)
       && g_layout_is(st->tredge, 27, 0, 0), "26 'L' / 'H' keys of 33 "
       "bytes, the 'G' keys untouched");
    u_answers(st, a->id, b->id, after, pool);
    ok(u_same(before, after), "%d queries answer as before the upgrade",
       U_NQUERIES);
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");

    /* An upgrade from 6 that meets a malformed edge (sorting last: the
     * last 'L' key of calendar b) changes nothing. */
    is_int(downgrade_to_6(st->env, st->meta, st->tredge), 26,
           "back to format 6");
    {
        unsigned char k[25], v[8];
        DBT key, val;

        calstore_put_be64(k, b->id);
        k[8] = 'L';
        calstore_put_ord64(k + 9, T0 + 100 * YEAR);
        calstore_put_be64(k + 17, 999999);
        memset(v, 0, sizeof(v));
        memset(&key, 0, sizeof(key));
        memset(&val, 0, sizeof(val));
        key.data = k;
        key.size = sizeof(k);
        val.data = v;
        val.size = sizeof(v);
        ok(st->tredge->put(st->tredge, NULL, &key, &val, 0) == 0,
           "add an 'L' entry with an 8-byte value");
    }
    calstore_close(st);
    ups = log_upgrades;
    st = NULL;
    is_int(calstore_open(&st, dir, &opts, pool), CALSTORE_ECORRUPT,
           "open refuses to upgrade it: ECORRUPT");
    ok(st == NULL && log_upgrades == ups, "... no handle, no notice");
    ok(raw_open(dir, &env, &meta, &tredge) == 0, "open the files directly");
    is_int(format_of(meta), 6, "still format 6");
    ok(e_layout_is(tredge, 0, 26, 1), "every 'L' / 'H' key still the old "
       "one (and the malformed one): none re-keyed");
    {
        unsigned char k[25];
        DBT key;

        calstore_put_be64(k, b->id);
        k[8] = 'L';
        calstore_put_ord64(k + 9, T0 + 100 * YEAR);
        calstore_put_be64(k + 17, 999999);
        memset(&key, 0, sizeof(key));
        key.data = k;
        key.size = sizeof(k);
        ok(tredge->del(tredge, NULL, &key, DB_AUTO_COMMIT) == 0,
           "remove the malformed entry");
    }
    raw_close(env, meta, tredge);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL && log_upgrades == ups + 1, "the next open upgrades it");
    if (st == NULL) {
        return;
    }
    is_int(format_of(st->meta), CALSTORE_FORMAT_VERSION,
           "format record of this build");
    u_answers(st, a->id, b->id, after, pool);
    ok(u_same(before, after), "%d queries answer as before", U_NQUERIES);
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");

    /* Back to format 5: 'G' keys without the component byte, edges without
     * the reach. */
    is_int(downgrade_to_5(st->env, st->meta, st->tredge), 27,
           "rewrite the 27 'G' keys and the 26 edges as format 5 did, and "
           "the format record");
    ok(g_layout_is(st->tredge, 0, 27, 0), "27 'G' keys of 26 bytes");
    ok(e_layout_is(st->tredge, 0, 26, 0), "26 'L' / 'H' keys of 25 bytes");
    is_int(format_of(st->meta), 5, "format record 5");
    is_int(calstore__check(st, pool), CALSTORE_ECORRUPT,
           "the check refuses 'G' keys without the component byte");
    calstore_close(st);

    /* The parent's prepare upgrades it; the opens after it find the new
     * format. */
    ups = log_upgrades;
    is_int(calstore_prepare(dir, &opts, pool), APR_SUCCESS,
           "prepare opens a format-5 store");
    is_int(log_upgrades - ups, 1, "... upgrading it, with a notice");
    ok(strstr(log_upgrade_msg, apr_psprintf(pool, "format 5 to %d",
                                            CALSTORE_FORMAT_VERSION)) != NULL
       && strstr(log_upgrade_msg, "(27 long instances keyed by component, "
                 "26 window edges keyed by reach)") != NULL,
       "... naming the formats and the 27 + 26 entries: %s",
       log_upgrade_msg);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL, "open after the upgrade");
    if (st == NULL) {
        return;
    }
    is_int(log_upgrades - ups, 1, "... upgrades nothing again");
    is_int(format_of(st->meta), CALSTORE_FORMAT_VERSION,
           "format record of this build");
    ok(g_layout_is(st->tredge, 27, 0, 0), "27 'G' keys of 27 bytes, each "
       "with its value's component byte");
    ok(e_layout_is(st->tredge, 26, 0, 0), "26 'L' / 'H' keys of 33 bytes, "
       "each with its value's reach");
    u_answers(st, a->id, b->id, after, pool);
    ok(u_same(before, after), "%d queries answer as before the upgrade",
       U_NQUERIES);
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
    good = put_undated(st, "a", 20, 21, pool)
           && calstore_delete(st, "a/ae3.ics", NULL, pool) == APR_SUCCESS
           && calstore_delete(st, "a/ar10.ics", NULL, pool) == APR_SUCCESS
           && put_edges(st, "a/ar30.ics", "ar30", COMP_EVENT, T0 - YEAR,
                        T0 + 2 * YEAR, T0 - 11 * YEAR, T0 + 11 * YEAR, 0,
                        NULL, pool);
    ok(good, "writes after the upgrade: put an undated VTODO, delete ae3, "
       "replace one recurring object by another");
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");
    u_answers(st, a->id, b->id, before, pool);

    /* One transaction: an upgrade that fails half-way leaves format 5 and
     * every old key.  A malformed 'G' entry sorts last (calendar b,
     * class 0x7f), after all of a's keys and b's own. */
    is_int(downgrade_to_5(st->env, st->meta, st->tredge), 27,
           "back to format 5 (27 'G' entries)");
    {
        unsigned char k[26], v[8];
        DBT key, val;

        calstore_put_be64(k, b->id);
        k[8] = 'G';
        k[9] = 0x7f;
        calstore_put_ord64(k + 10, T0);
        calstore_put_be64(k + 18, 999999);
        memset(v, 0, sizeof(v));
        memset(&key, 0, sizeof(key));
        memset(&val, 0, sizeof(val));
        key.data = k;
        key.size = sizeof(k);
        val.data = v;
        val.size = sizeof(v);
        ok(st->tredge->put(st->tredge, NULL, &key, &val, 0) == 0,
           "add a 'G' entry with an 8-byte value");
    }
    calstore_close(st);
    ups = log_upgrades;
    st = NULL;
    is_int(calstore_open(&st, dir, &opts, pool), CALSTORE_ECORRUPT,
           "open refuses to upgrade it: ECORRUPT");
    ok(st == NULL && log_upgrades == ups, "... no handle, no notice");
    ok(raw_open(dir, &env, &meta, &tredge) == 0, "open the files directly");
    is_int(format_of(meta), 5, "still format 5");
    ok(g_layout_is(tredge, 0, 27, 1), "every 'G' key still the old one "
       "(and the malformed one): none re-keyed");
    ok(e_layout_is(tredge, 0, 26, 0), "... nor any 'L' / 'H' key");
    {
        unsigned char k[26];
        DBT key;

        calstore_put_be64(k, b->id);
        k[8] = 'G';
        k[9] = 0x7f;
        calstore_put_ord64(k + 10, T0);
        calstore_put_be64(k + 18, 999999);
        memset(&key, 0, sizeof(key));
        key.data = k;
        key.size = sizeof(k);
        ok(tredge->del(tredge, NULL, &key, DB_AUTO_COMMIT) == 0,
           "remove the malformed entry");
    }
    raw_close(env, meta, tredge);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL && log_upgrades == ups + 1, "the next open upgrades it");
    if (st == NULL) {
        return;
    }
    is_int(format_of(st->meta), CALSTORE_FORMAT_VERSION,
           "format record of this build");
    u_answers(st, a->id, b->id, after, pool);
    ok(u_same(before, after), "%d queries answer as before", U_NQUERIES);
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");

    /* Several processes open a format-5 store at once: one upgrades, the
     * others wait for it (the format record read with DB_RMW) and find the
     * new format. */
    is_int(downgrade_to_5(st->env, st->meta, st->tredge), 27,
           "back to format 5 once more");
    calstore_close(st);
    {
        pid_t pids[4];
        int fds[2], status[4], upgraded = 0, opened = 0;
        /* Calendar a, TMIN..TMAX (u_ranges[3]), VTODO (u_masks[2]). */
        const char *todo = before[3 * U_NMASKS + 2];

        ok(pipe(fds) == 0, "a pipe to start the children together");
        fflush(stdout);
        for (i = 0; i < 4; i++) {
            pids[i] = fork();
            if (pids[i] == 0) {
                close(fds[1]);
                _exit(child_upgrade(dir, fds[0], todo));
            }
        }
        close(fds[0]);
        apr_sleep(apr_time_from_msec(100));
        close(fds[1]);              /* go */
        for (i = 0; i < 4; i++) {
            status[i] = wait_child(pids[i], 60);
            opened += status[i] == 0 || status[i] == 10;
            upgraded += status[i] == 10;
        }
        ok(opened == 4, "four processes opened it at once (exit %d %d %d "
           "%d)", status[0], status[1], status[2], status[3]);
        is_int(upgraded, 1, "exactly one of them upgraded it");
    }
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL, "open");
    if (st == NULL) {
        return;
    }
    is_int(format_of(st->meta), CALSTORE_FORMAT_VERSION,
           "format record of this build");
    ok(g_layout_is(st->tredge, 27, 0, 0), "27 'G' keys of 27 bytes");
    u_answers(st, a->id, b->id, after, pool);
    ok(u_same(before, after), "%d queries answer as before", U_NQUERIES);
    ok(calstore__check(st, pool) == APR_SUCCESS, "store is consistent");

    /* Any other format is refused, and left as it is. */
    ok(set_format(st->meta, NULL, 4) == 0, "write format 4");
    calstore_close(st);
    is_int(calstore_open(&st, dir, &opts, pool), CALSTORE_EFORMAT,
           "open refuses format 4");
    is_int(calstore_prepare(dir, &opts, pool), CALSTORE_EFORMAT,
           "prepare refuses format 4");
    ok(raw_open(dir, &env, &meta, &tredge) == 0, "open the files directly");
    is_int(format_of(meta), 4, "still format 4");
    ok(g_layout_is(tredge, 27, 0, 0), "'G' keys untouched");
    raw_close(env, meta, tredge);
    is_int(run_verify(dir), 0, "db5.3_verify passes");
    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* ---- N3. runs of short spans (format 8) --------------------------------- */

/* 'n' instances of 'dur' seconds every 'step' seconds from 's' into se[]. */
static apr_int64_t *series(apr_pool_t *pool, apr_int64_t s, apr_int64_t step,
                           apr_int64_t dur, int n)
{
    apr_int64_t *se = apr_palloc(pool, 2 * (apr_size_t)n * sizeof(*se));
    int i;

    for (i = 0; i < n; i++) {
        se[2 * i] = s + i * step;
        se[2 * i + 1] = s + i * step + dur;
    }
    return se;
}

/* The names found in [s, e] and, after '|', those proven from the index. */
static const char *proven_names(calstore_t *st, calstore_id_t coll,
                                apr_int64_t s, apr_int64_t e,
                                apr_pool_t *pool)
{
    objs_t *o = objs_new(pool);
    apr_array_header_t *p = apr_array_make(pool, 4, sizeof(char *));
    apr_hash_index_t *hi;

    if (calstore_query_range_proven(st, coll, s, e, 0, objs_cb,
                                    objs_proven_cb, o, pool) != APR_SUCCESS
        || o->dups) {
        return "(error)";
    }
    for (hi = apr_hash_first(pool, o->proven); hi; hi = apr_hash_next(hi)) {
        const void *k;

        apr_hash_this(hi, &k, NULL, NULL);
        APR_ARRAY_PUSH(p, const char *) = k;
    }
    qsort(p->elts, p->nelts, sizeof(char *), cmp_str);
    return apr_pstrcat(pool, objs_joined(o, pool), "|",
                       apr_array_pstrcat(pool, p, ','), NULL);
}

static void test_runs(void)
{
    apr_pool_t *pool;
    char *dir = make_tmpdir("runs");
    calstore_t *st;
    calstore_node_t *cal, *n;
    calstore_calinfo_t *ci;
    DB_ENV *env;
    DB *meta, *tredge;
    apr_int64_t W0 = T0 + 10 * DAY, D0 = T0 + 200 * DAY, M0 = T0 + 400 * DAY;
    int ups;

    diag("N3. runs of short spans (format 8)");
    apr_pool_create(&pool, gpool);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL, "open");
    if (st == NULL) {
        return;
    }
    calstore_mkcol_ex(st, "cal", CALSTORE_COLL_CALENDAR, NULL, &cal, pool);

    /* Written as a format-7 build does: one entry per instance. */
    calstore__test_no_runs = 1;
    ci = cal_info(pool, "old", COMP_EVENT, T0 - YEAR, T0 + 2 * YEAR, 0, 0,
                  20, series(pool, W0, WEEK, HOUR, 20));
    ci->exact = 1;
    is_int(put_cal(st, "cal/old.ics", ci, NULL, NULL, pool), APR_SUCCESS,
           "put old.ics (20 weekly instances) without runs");
    calstore__test_no_runs = 0;
    ok(counts_are(st, 1, 1, 20, 0), "... 20 tr entries");

    /* Weekly: 8 instances per run (7 weeks + 1 h <= 56 days < 8 weeks +
     * 1 h): 8 + 8 + 4.  Daily: 16 per run: 16 + 16 + 8.  Every 30 days:
     * two per run, the last alone (an ordinary entry). */
    ci = cal_info(pool, "new", COMP_EVENT, T0 - YEAR, T0 + 2 * YEAR, 0, 0,
                  20, series(pool, W0, WEEK, HOUR, 20));
    ci->exact = 1;
    is_int(put_cal(st, "cal/new.ics", ci, NULL, &n, pool), APR_SUCCESS,
           "put new.ics (the same 20 weekly instances)");
    ok(counts_are(st, 2, 2, 23, 0), "... 3 runs");
    ci = cal_info(pool, "daily", COMP_EVENT, T0 - YEAR, T0 + 2 * YEAR, 0, 0,
                  40, series(pool, D0, DAY, 2 * HOUR, 40));
    is_int(put_cal(st, "cal/daily.ics", ci, NULL, NULL, pool), APR_SUCCESS,
           "put daily.ics (40 daily instances, not exact)");
    ok(counts_are(st, 3, 3, 26, 0), "... 3 runs");
    ci = cal_info(pool, "monthly", COMP_EVENT, T0 - YEAR, T0 + 2 * YEAR, 0,
                  0, 5, series(pool, M0, 30 * DAY, HOUR, 5));
    ci->exact = 1;
    is_int(put_cal(st, "cal/monthly.ics", ci, NULL, NULL, pool),
           APR_SUCCESS, "put monthly.ics (5 instances 30 days apart)");
    ok(counts_are(st, 4, 4, 29, 0), "... 2 runs and an ordinary entry");
    is_int(calstore__check(st, pool), APR_SUCCESS, "the check passes");

    /* Queries: an instance in the middle or at either end of a run, a gap
     * between two instances of one run, the edges of a span. */
    is_str(proven_names(st, cal->id, W0 + 3 * WEEK, W0 + 3 * WEEK + 60,
                        pool), "new.ics,old.ics|new.ics,old.ics",
           "4th week: inside the first run, proven by both layouts");
    is_str(proven_names(st, cal->id, W0 + 8 * WEEK - 60, W0 + 8 * WEEK,
                        pool), "new.ics,old.ics|",
           "[start - 60 s, start] of the 9th (first of the second run): "
           "reported, not proven (an empty overlap in RFC 4791 terms)");
    is_str(proven_names(st, cal->id, W0 + 8 * WEEK, W0 + 8 * WEEK + 1,
                        pool), "new.ics,old.ics|new.ics,old.ics",
           "its first second: proven");
    is_str(range_names(st, cal->id, W0 + 7 * WEEK + HOUR + 1,
                       W0 + 8 * WEEK - 1, 0, pool), "",
           "the gap after the first run's last instance: nothing");
    is_str(range_names(st, cal->id, W0 + 2 * WEEK + 2 * HOUR,
                       W0 + 3 * WEEK - HOUR, 0, pool), "",
           "a gap inside a run: nothing");
    is_str(range_names(st, cal->id, W0 + 19 * WEEK + HOUR,
                       W0 + 19 * WEEK + HOUR, 0, pool), "new.ics,old.ics",
           "the last instance's end (closed ranges)");
    is_str(range_names(st, cal->id, W0 + 19 * WEEK + HOUR + 1,
                       W0 + 25 * WEEK, 0, pool), "",
           "after the last instance: nothing");
    is_str(proven_names(st, cal->id, D0 + 20 * DAY + HOUR,
                        D0 + 20 * DAY + HOUR + 1, pool), "daily.ics|",
           "daily: the 21st instance, in the second run (not exact: never "
           "proven)");
    is_str(range_names(st, cal->id, D0 + 5 * DAY + 3 * HOUR,
                       D0 + 6 * DAY - 1, 0, pool), "",
           "daily: between two instances of a run");
    is_str(proven_names(st, cal->id, M0 + 60 * DAY, M0 + 60 * DAY + 1,
                        pool), "monthly.ics|monthly.ics",
           "monthly: the third instance (first of the second run)");
    is_str(proven_names(st, cal->id, M0 + 120 * DAY, M0 + 120 * DAY + 1,
                        pool), "monthly.ics|monthly.ics",
           "monthly: the fifth instance (an ordinary entry)");
    is_str(range_names(st, cal->id, M0 + 10 * DAY, M0 + 20 * DAY, 0, pool),
           "", "monthly: between the two instances of its first run");

    /* Rewriting the old record indexes it in runs; its 20 entries go. */
    ci = cal_info(pool, "old", COMP_EVENT, T0 - YEAR, T0 + 2 * YEAR, 0, 0,
                  20, series(pool, W0 + DAY, WEEK, HOUR, 20));
    is_int(put_cal(st, "cal/old.ics", ci, NULL, NULL, pool), APR_SUCCESS,
           "replace old.ics (a day later)");
    ok(counts_are(st, 4, 4, 12, 0), "... its 20 entries replaced by 3 runs");
    is_str(range_names(st, cal->id, W0 + 3 * WEEK + DAY,
                       W0 + 3 * WEEK + DAY + 1, 0, pool), "old.ics",
           "... found at its new times");
    is_str(range_names(st, cal->id, W0 + 3 * WEEK, W0 + 3 * WEEK + 1, 0,
                       pool), "new.ics", "... not at its old ones");
    is_int(calstore_delete(st, "cal/new.ics", NULL, pool), APR_SUCCESS,
           "delete new.ics");
    ok(counts_are(st, 3, 3, 9, 0), "... its 3 runs are gone");
    is_int(calstore__check(st, pool), APR_SUCCESS, "the check passes");

    /* A format-7 store: records without runs.  Its next open upgrades the
     * format record only; the old entries keep answering. */
    calstore__test_no_runs = 1;
    ci = cal_info(pool, "old2", COMP_EVENT, T0 - YEAR, T0 + 2 * YEAR, 0, 0,
                  10, series(pool, W0 + 2 * DAY, WEEK, HOUR, 10));
    is_int(put_cal(st, "cal/old2.ics", ci, NULL, NULL, pool), APR_SUCCESS,
           "put old2.ics (10 weekly instances) without runs");
    calstore__test_no_runs = 0;
    ok(counts_are(st, 4, 4, 19, 0), "... 10 entries");
    calstore_close(st);
    ok(raw_open(dir, &env, &meta, &tredge) == 0, "open the files directly");
    ok(set_format(meta, NULL, CALSTORE_FORMAT_UPGRADE_V7) == 0,
       "write format 7");
    raw_close(env, meta, tredge);
    ups = log_upgrades;
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL && log_upgrades == ups + 1, "the next open upgrades it");
    if (st == NULL) {
        return;
    }
    ok(strstr(log_upgrade_msg, apr_psprintf(pool, "format 7 to %d",
                                            CALSTORE_FORMAT_VERSION)) != NULL,
       "... with a notice: %s", log_upgrade_msg);
    is_int(format_of(st->meta), CALSTORE_FORMAT_VERSION,
           "format record of this build");
    ok(counts_are(st, 4, 4, 19, 0), "... no entry rewritten");
    is_int(calstore__check(st, pool), APR_SUCCESS, "the check passes");
    is_str(range_names(st, cal->id, W0 + 2 * DAY + 9 * WEEK,
                       W0 + 2 * DAY + 9 * WEEK + 1, 0, pool), "old2.ics",
           "old2.ics found by its per-instance entries");
    is_int(calstore_delete(st, "cal/old2.ics", NULL, pool), APR_SUCCESS,
           "delete old2.ics");
    ok(counts_are(st, 3, 3, 9, 0), "... its 10 entries are gone");
    is_int(calstore__check(st, pool), APR_SUCCESS, "the check passes");
    calstore_close(st);
    is_int(run_verify(dir), 0, "db5.3_verify passes");
    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* ---- M. misc ------------------------------------------------------------ */

static void test_strerror(void)
{
    char buf[128];
    apr_status_t codes[] = { CALSTORE_ENOENT, CALSTORE_EEXIST,
                             CALSTORE_ENOPARENT, CALSTORE_EISCOLL,
                             CALSTORE_ENOTCOLL, CALSTORE_ECHANGED,
                             CALSTORE_EBUSY, CALSTORE_EPANIC,
                             CALSTORE_EFORMAT, CALSTORE_EDB,
                             CALSTORE_EINVAL, CALSTORE_ECORRUPT,
                             CALSTORE_ENESTED, CALSTORE_EUIDCONFLICT,
                             CALSTORE_ENOTCALOBJ, CALSTORE_ETOKEN,
                             CALSTORE_ELIMIT };
    int i, all = 1;

    diag("M. strerror");
    for (i = 0; i < (int)(sizeof(codes) / sizeof(codes[0])); i++) {
        const char *s = calstore_strerror(codes[i], buf, sizeof(buf));

        if (s == NULL || s == buf || *s == '\0') {
            all = 0;
        }
    }
    ok(all, "every CALSTORE_* code has its own text");
    ok(calstore_strerror(APR_ENOENT, buf, sizeof(buf)) != NULL && *buf,
       "other codes fall back to apr_strerror");
}

/* The cache size of the store in 'dir' opened with 'opts' (0 on failure). */
static apr_uint64_t cache_of(const char *dir, const calstore_options_t *opts,
                             const char *expect_x, apr_pool_t *pool)
{
    calstore_t *st;
    apr_uint64_t bytes = 0;
    const char *x;

    if (calstore_open(&st, dir, opts, pool) != APR_SUCCESS) {
        return 0;
    }
    bytes = calstore_cache_bytes(st);
    x = read_str(st, "x", pool);
    if (expect_x && (x == NULL || strcmp(x, expect_x) != 0)) {
        bytes = 0;
    }
    calstore_close(st);
    return bytes;
}

static void test_cache_resize(void)
{
    char *dir = make_tmpdir("cache");
    apr_pool_t *pool;
    calstore_options_t opts;
    calstore_t *st;
    apr_uint64_t mb;
    int fds[2];
    pid_t pid;
    char b = 0;

    diag("V. a changed cache size takes effect at the next prepare");
    apr_pool_create(&pool, gpool);
    calstore_options_default(&opts);
    opts.durability = CALSTORE_DURABILITY_WRITE_NOSYNC;
    opts.cache_bytes = 8 * 1024 * 1024;
    is_int(calstore_prepare(dir, &opts, pool), APR_SUCCESS, "prepare, 8 MB");
    if (calstore_open(&st, dir, &opts, pool) == APR_SUCCESS) {
        put_str(st, "x", "kept", NULL, pool);
        calstore_close(st);
    }
    mb = cache_of(dir, &opts, "kept", pool) >> 20;
    is_int((int)mb, 10, "the environment has 10 MB (8 MB + 25%%)");

    /* Without prepare, an open joins the existing regions. */
    opts.cache_bytes = 32 * 1024 * 1024;
    mb = cache_of(dir, &opts, "kept", pool) >> 20;
    is_int((int)mb, 10, "an open with 32 MB joins the 10 MB environment");

    is_int(calstore_prepare(dir, &opts, pool), APR_SUCCESS,
           "prepare with 32 MB");
    mb = cache_of(dir, &opts, "kept", pool) >> 20;
    is_int((int)mb, 40, "the environment was recreated with 40 MB, and "
           "the data is intact");
    is_int(calstore_prepare(dir, &opts, pool), APR_SUCCESS,
           "prepare with the same size again");
    mb = cache_of(dir, &opts, "kept", pool) >> 20;
    is_int((int)mb, 40, "... changes nothing");

    /* Another process has it open: the regions stay. */
    if (pipe(fds) == 0) {
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
            apr_pool_t *cp;
            calstore_t *cst;

            close(fds[0]);
            alarm(30);
            apr_pool_create(&cp, NULL);
            b = calstore_open(&cst, dir, &opts, cp) == APR_SUCCESS
                ? 'h' : 'e';
            if (write(fds[1], &b, 1) != 1) {
                _exit(3);
            }
            for (;;) {
                pause();
            }
        }
        close(fds[1]);
        if (pid < 0 || read(fds[0], &b, 1) != 1) {
            b = 0;
        }
        close(fds[0]);
        ok(b == 'h', "a child process holds the store open");
        opts.cache_bytes = 16 * 1024 * 1024;
        is_int(calstore_prepare(dir, &opts, pool), APR_SUCCESS,
               "prepare with 16 MB while the child has it open succeeds");
        mb = cache_of(dir, &opts, "kept", pool) >> 20;
        is_int((int)mb, 40, "... and leaves the child's 40 MB environment");
        if (pid > 0) {
            kill(pid, SIGTERM);
            waitpid(pid, NULL, 0);
        }
    }
    apr_pool_destroy(pool);
    rm_rf(dir);
}

/* TEST_ONLY=KL runs only groups K and L (C-H run together as "T"). */
static int want(char group)
{
    const char *only = getenv("TEST_ONLY");

    return only == NULL || strchr(only, group) != NULL;
}

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    char *dir;
    calstore_t *st;
    apr_time_t t0;

    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&gpool, NULL);
    verbose = getenv("TEST_VERBOSE") ? atoi(getenv("TEST_VERBOSE")) : 0;
    calcore_log_set(test_log, NULL, CALCORE_LOG_DEBUG);
    t0 = apr_time_now();

    if (want('M')) {
        test_strerror();
    }
    if (want('A')) {
        test_open();
    }
    if (want('B')) {
        test_put();
    }

    /* C..H share one store. */
    if (!want('T')) {
        goto rest;
    }
    dir = make_tmpdir("tree");
    apr_pool_create(&pool, gpool);
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
    ok(st != NULL, "open the shared store for groups C-H");
    if (st != NULL) {
        test_paths(st, pool);
        test_list(st, pool);
        test_delete(st, pool);
        test_copy(st, pool);
        test_move(st, pool);
        test_props(st, pool);
        calstore_close(st);
        is_int(run_verify(dir), 0, "db5.3_verify passes on the shared store");
    }
    apr_pool_destroy(pool);
    rm_rf(dir);

rest:
    if (want('I')) {
        test_threads();
        test_id_blocks();
        test_deadlocks();
        test_put_storm();
    }
    if (want('J')) {
        test_processes();
    }
    if (want('K')) {
        test_crash();
    }
    if (want('L')) {
        test_panic();
    }
    if (want('N')) {
        test_calendars();
        test_put_in();
        test_runs();
    }
    if (want('O')) {
        test_cal_copy_move();
    }
    if (want('Q')) {
        test_query_brute();
    }
    if (want('R')) {
        test_cal_race();
    }
    if (want('S')) {
        test_scaling();
    }
    if (want('P')) {
        test_long_by_comp();
    }
    if (want('W')) {
        test_edge_groups();
    }
    if (want('U')) {
        test_upgrade();
    }
    if (want('V')) {
        test_cache_resize();
    }
    if (want('X')) {
        test_sync_model();
    }
    if (want('Y')) {
        test_sync_limits();
    }
    if (want('Z')) {
        test_sync_race();
    }

    diag("total %" APR_TIME_T_FMT " ms", (apr_time_now() - t0) / 1000);
    apr_pool_destroy(gpool);
    return done_testing();
}

/*
 * test_calstore.c - unit tests of repos/ (the Berkeley DB store).
 *
 * Groups: M strerror, A open/prepare/format, B put/read/conditions,
 * T (C paths, D list, E delete, F copy, G move, H properties, one shared
 * store), I threads and deadlock retry, J processes, K killed processes,
 * L panic and reopen.  Every group works in its own fresh directory under
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
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "calcore_log.h"
#include "calstore.h"
#include "calstore_private.h"
#include "tap.h"

static apr_pool_t *gpool;
static int verbose;
static int log_errors;
static int log_retries;

static void test_log(void *baton, calcore_log_level_e level,
                     apr_status_t rv, const char *msg)
{
    if (level <= CALCORE_LOG_ERR) {
        __atomic_add_fetch(&log_errors, 1, __ATOMIC_SEQ_CST);
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
       && fmt[0] == 0 && fmt[1] == 0 && fmt[2] == 0 && fmt[3] == 1,
       "meta \"format\" is be32(1)");
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

    /* Unknown format version. */
    ok(st->env->txn_begin(st->env, NULL, &txn, 0) == 0, "begin raw txn");
    fmt[3] = 2;
    val.data = fmt;
    val.size = 4;
    val.flags = 0;
    ok(st->meta->put(st->meta, txn, &key, &val, 0) == 0
       && txn->commit(txn, 0) == 0, "write format 2");
    calstore_close(st);
    is_int(calstore_open(&st, sub, &opts, pool), CALSTORE_EFORMAT,
           "open refuses format 2");
    is_int(calstore_prepare(sub, &opts, pool), CALSTORE_EFORMAT,
           "prepare refuses format 2");

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

    x = node_at(st, "m2/x.ics", pool);
    calstore_etag(x, e1);
    r1 = rev_of(st, "m2", pool);
    r2 = rev_of(st, "dest", pool);
    set_prop(st, x->id, "", "keep", "me", pool);
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
    is_int(rev_of(st, "dest", pool), r2 + 1, "parent bumped exactly once");
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
    int n;
    int failures;
    apr_status_t last;
} thread_arg_t;

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
    apr_thread_t *th[NTHREADS];
    thread_arg_t args[NTHREADS];
    apr_status_t trv;
    collect_t *c;
    int i, failures = 0;
    apr_time_t t0;
    char buf[128];

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
    for (i = 0; i < NTHREADS; i++) {
        args[i].st = st;
        args[i].n = i;
        args[i].failures = 0;
        args[i].last = APR_SUCCESS;
        apr_thread_create(&th[i], NULL, writer, &args[i], pool);
    }
    for (i = 0; i < NTHREADS; i++) {
        apr_thread_join(&trv, th[i]);
        failures += args[i].failures;
        if (args[i].failures) {
            diag("thread %d: %d failures, last %s", i, args[i].failures,
                 calstore_strerror(args[i].last, buf, sizeof(buf)));
        }
    }
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
    st = open_store(dir, CALSTORE_DURABILITY_WRITE_NOSYNC, pool);
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
    t0 = apr_time_now();
    is_int(calstore_lookup(st, "k/x", &n, NULL, pool), CALSTORE_EBUSY,
           "a read of the locked page is bounded the same way");
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

/* ---- M. misc ------------------------------------------------------------ */

static void test_strerror(void)
{
    char buf[128];
    apr_status_t codes[] = { CALSTORE_ENOENT, CALSTORE_EEXIST,
                             CALSTORE_ENOPARENT, CALSTORE_EISCOLL,
                             CALSTORE_ENOTCOLL, CALSTORE_ECHANGED,
                             CALSTORE_EBUSY, CALSTORE_EPANIC,
                             CALSTORE_EFORMAT, CALSTORE_EDB,
                             CALSTORE_EINVAL, CALSTORE_ECORRUPT };
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
        test_deadlocks();
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

    diag("total %" APR_TIME_T_FMT " ms", (apr_time_now() - t0) / 1000);
    apr_pool_destroy(gpool);
    return done_testing();
}

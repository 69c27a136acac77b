/*
 * calstore.c - nodes, bodies and dead properties of the calstore.
 *
 * Every public call below is one calstore__run() transaction (lists: one
 * per batch).  Paths are resolved inside that transaction; in write
 * transactions the parent collection and the target are read with DB_RMW
 * (write locks up front, so writers into one collection queue instead of
 * deadlocking on a lock upgrade), the collections above them with
 * DB_READ_COMMITTED (no lock kept).  Record layouts: calstore_schema.h.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "calcore_log.h"
#include "calstore_private.h"

/* Members read per cursor pass (calstore_list batch, copy, delete). */
#define CALSTORE_BATCH  128

/* ---- paths -------------------------------------------------------------- */

typedef struct path_t {
    int n;                      /* number of segments; 0 = the root        */
    const char **seg;
    apr_size_t *len;
} path_t;

/* Split 'path' into segments.  One leading and one trailing '/' are
 * tolerated; empty segments, "." and ".." and segments longer than
 * CALSTORE_NAME_MAX bytes are CALSTORE_EINVAL. */
static apr_status_t parse_path(const char *path, path_t *p, apr_pool_t *pool)
{
    const char *s, *e, *slash;
    apr_size_t len;
    int max;

    p->n = 0;
    if (path == NULL) {
        return CALSTORE_EINVAL;
    }
    s = path;
    e = path + strlen(path);
    if (s < e && *s == '/') {
        s++;
    }
    if (e > s && e[-1] == '/') {
        e--;
    }
    if (s == e) {
        return APR_SUCCESS;
    }
    for (max = 1, slash = s; slash < e; slash++) {
        max += (*slash == '/');
    }
    p->seg = apr_palloc(pool, max * sizeof(*p->seg));
    p->len = apr_palloc(pool, max * sizeof(*p->len));
    for (;;) {
        slash = memchr(s, '/', (apr_size_t)(e - s));
        len = (apr_size_t)((slash ? slash : e) - s);
        if (len == 0 || len > CALSTORE_NAME_MAX
            || (len == 1 && s[0] == '.')
            || (len == 2 && s[0] == '.' && s[1] == '.')) {
            return CALSTORE_EINVAL;
        }
        p->seg[p->n] = apr_pstrmemdup(pool, s, len);
        p->len[p->n] = len;
        p->n++;
        if (slash == NULL) {
            break;
        }
        s = slash + 1;
    }
    return APR_SUCCESS;
}

/* Is 'a' equal to 'b' or an ancestor of it? */
static int path_is_prefix(const path_t *a, const path_t *b)
{
    int i;

    if (a->n > b->n) {
        return 0;
    }
    for (i = 0; i < a->n; i++) {
        if (a->len[i] != b->len[i]
            || memcmp(a->seg[i], b->seg[i], a->len[i]) != 0) {
            return 0;
        }
    }
    return 1;
}

/* ---- keys and records --------------------------------------------------- */

/* A node as read inside a transaction: where it is keyed and its record. */
typedef struct node_ref_t {
    calstore_id_t parent;
    const char *name;           /* NUL-terminated copy                      */
    apr_size_t nlen;
    calstore_rec_t rec;         /* rec.ctype points into pool memory        */
} node_ref_t;

static void dbt_in(DBT *dbt, const void *data, apr_size_t size)
{
    memset(dbt, 0, sizeof(*dbt));
    dbt->data = (void *)data;
    dbt->size = (u_int32_t)size;
}

static void dbt_malloc(DBT *dbt)
{
    memset(dbt, 0, sizeof(*dbt));
    dbt->flags = DB_DBT_MALLOC;
}

/* Copy a DB_DBT_MALLOC result into 'pool' (NUL-terminated) and free it. */
static char *dbt_take(DBT *dbt, apr_pool_t *pool)
{
    char *copy = apr_palloc(pool, dbt->size + 1);

    if (dbt->size) {
        memcpy(copy, dbt->data, dbt->size);
    }
    copy[dbt->size] = '\0';
    free(dbt->data);
    dbt->data = NULL;
    return copy;
}

static unsigned char *node_key(calstore_id_t parent, const char *name,
                               apr_size_t nlen, apr_size_t *size,
                               apr_pool_t *pool)
{
    unsigned char *key = apr_palloc(pool, 8 + nlen);

    calstore_put_be64(key, parent);
    if (nlen) {
        memcpy(key + 8, name, nlen);
    }
    *size = 8 + nlen;
    return key;
}

static unsigned char *prop_key(calstore_id_t id, const char *ns,
                               const char *name, apr_size_t *size,
                               apr_pool_t *pool)
{
    apr_size_t nslen = strlen(ns), namelen = strlen(name);
    unsigned char *key = apr_palloc(pool, 8 + nslen + 1 + namelen);

    calstore_put_be64(key, id);
    memcpy(key + 8, ns, nslen);
    key[8 + nslen] = '\0';
    memcpy(key + 9 + nslen, name, namelen);
    *size = 9 + nslen + namelen;
    return key;
}

static apr_status_t corrupt(const char *what, calstore_id_t id)
{
    calcore_log(CALCORE_LOG_ERR, CALSTORE_ECORRUPT,
                "calstore: corrupt %s (id %" APR_UINT64_T_FMT ")", what, id);
    return CALSTORE_ECORRUPT;
}

static calstore_node_t *make_node(const node_ref_t *ref, apr_pool_t *pool)
{
    calstore_node_t *node = apr_palloc(pool, sizeof(*node));

    node->id = ref->rec.id;
    node->parent = ref->parent;
    node->name = apr_pstrmemdup(pool, ref->name, ref->nlen);
    node->kind = ref->rec.kind;
    node->flags = ref->rec.flags;
    node->created = ref->rec.created;
    node->modified = ref->rec.modified;
    node->revision = ref->rec.revision;
    node->length = (apr_off_t)ref->rec.length;
    node->content_type = ref->rec.ctype_len
        ? apr_pstrmemdup(pool, ref->rec.ctype, ref->rec.ctype_len) : NULL;
    return node;
}

/* ---- cursors over one id prefix ----------------------------------------- */

typedef struct pcur_t {
    DBC *c;
    DBT key;
    DBT val;
    unsigned char prefix[8];
} pcur_t;

static int pcur_check(pcur_t *pc, int ret)
{
    if (ret == 0 && (pc->key.size < 8
                     || memcmp(pc->key.data, pc->prefix, 8) != 0)) {
        return DB_NOTFOUND;
    }
    return ret;
}

/* Position a cursor on the first record at or after 'start' (which begins
 * with the 8-byte prefix to stay within).  0, DB_NOTFOUND or a BDB error;
 * pcur_close() is needed in every case. */
static int pcur_first(pcur_t *pc, DB *db, DB_TXN *txn, const void *start,
                      apr_size_t startlen, u_int32_t flags)
{
    int ret;

    memset(pc, 0, sizeof(*pc));
    memcpy(pc->prefix, start, 8);
    if ((ret = db->cursor(db, txn, &pc->c, 0)) != 0) {
        pc->c = NULL;
        return ret;
    }
    /* DB_DBT_REALLOC may realloc() the search key: give it malloc'd
     * memory. */
    if ((pc->key.data = malloc(startlen)) == NULL) {
        return ENOMEM;
    }
    memcpy(pc->key.data, start, startlen);
    pc->key.size = (u_int32_t)startlen;
    pc->key.flags = DB_DBT_REALLOC;
    pc->val.flags = DB_DBT_REALLOC;
    ret = pc->c->get(pc->c, &pc->key, &pc->val, DB_SET_RANGE | flags);
    return pcur_check(pc, ret);
}

static int pcur_next(pcur_t *pc, u_int32_t flags)
{
    return pcur_check(pc, pc->c->get(pc->c, &pc->key, &pc->val,
                                     DB_NEXT | flags));
}

static int pcur_close(pcur_t *pc)
{
    int ret = 0;

    if (pc->c != NULL) {
        ret = pc->c->close(pc->c);
        pc->c = NULL;
    }
    free(pc->key.data);
    free(pc->val.data);
    pc->key.data = pc->val.data = NULL;
    return ret;
}

/* ---- node access inside a transaction ----------------------------------- */

/* Read member 'name' of collection 'parent' (parent 0, name "" = the root).
 * APR_SUCCESS, CALSTORE_ENOENT, or an error. */
static apr_status_t get_member(calstore_t *st, DB_TXN *txn,
                               calstore_id_t parent, const char *name,
                               apr_size_t nlen, u_int32_t flags,
                               node_ref_t *ref, apr_pool_t *pool)
{
    DBT key, val;
    apr_size_t ksize;
    unsigned char *k = node_key(parent, name, nlen, &ksize, pool);
    char *data;
    apr_size_t size;
    int ret;

    dbt_in(&key, k, ksize);
    dbt_malloc(&val);
    ret = st->nodes->get(st->nodes, txn, &key, &val, flags);
    if (ret == DB_NOTFOUND) {
        return CALSTORE_ENOENT;
    }
    if (ret != 0) {
        return calstore__db_status(st, ret, "reading a node");
    }
    size = val.size;
    data = dbt_take(&val, pool);
    if (calstore_rec_decode(data, size, &ref->rec) != 0) {
        return corrupt("node record under parent", parent);
    }
    ref->parent = parent;
    ref->name = apr_pstrmemdup(pool, name, nlen);
    ref->nlen = nlen;
    return APR_SUCCESS;
}

/* Resolve the collection reached by the first 'upto' segments of 'p'.
 * The collections above it are read with DB_READ_COMMITTED; the collection
 * itself with DB_RMW when 'write'.  CALSTORE_ENOPARENT if a segment is
 * missing or not a collection. */
static apr_status_t resolve_dir(calstore_t *st, DB_TXN *txn, const path_t *p,
                                int upto, int write, node_ref_t *dir,
                                apr_pool_t *pool)
{
    u_int32_t flags;
    apr_status_t rv;
    int i;

    flags = (write && upto == 0) ? DB_RMW : DB_READ_COMMITTED;
    rv = get_member(st, txn, 0, "", 0, flags, dir, pool);
    if (rv == CALSTORE_ENOENT) {
        return corrupt("store: no root node", CALSTORE_ROOT_ID);
    }
    for (i = 0; rv == APR_SUCCESS && i < upto; i++) {
        if (dir->rec.kind != CALSTORE_KIND_COLLECTION) {
            return CALSTORE_ENOPARENT;
        }
        flags = (write && i == upto - 1) ? DB_RMW : DB_READ_COMMITTED;
        rv = get_member(st, txn, dir->rec.id, p->seg[i], p->len[i], flags,
                        dir, pool);
        if (rv == CALSTORE_ENOENT) {
            return CALSTORE_ENOPARENT;
        }
    }
    if (rv == APR_SUCCESS && dir->rec.kind != CALSTORE_KIND_COLLECTION) {
        return CALSTORE_ENOPARENT;
    }
    return rv;
}

static apr_status_t put_node(calstore_t *st, DB_TXN *txn,
                             const node_ref_t *ref, apr_pool_t *pool)
{
    DBT key, val;
    apr_size_t ksize, vsize = calstore_rec_size(&ref->rec);
    unsigned char *k = node_key(ref->parent, ref->name, ref->nlen, &ksize,
                                pool);
    unsigned char *v = apr_palloc(pool, vsize);

    calstore_rec_encode(&ref->rec, v);
    dbt_in(&key, k, ksize);
    dbt_in(&val, v, vsize);
    return calstore__db_status(st, st->nodes->put(st->nodes, txn, &key, &val,
                                                  0), "writing a node");
}

static apr_status_t put_byid(calstore_t *st, DB_TXN *txn, calstore_id_t id,
                             calstore_id_t parent, const char *name,
                             apr_size_t nlen, apr_pool_t *pool)
{
    DBT key, val;
    unsigned char k[8];
    apr_size_t vsize;
    unsigned char *v = node_key(parent, name, nlen, &vsize, pool);

    calstore_put_be64(k, id);
    dbt_in(&key, k, 8);
    dbt_in(&val, v, vsize);
    return calstore__db_status(st, st->byid->put(st->byid, txn, &key, &val,
                                                 0), "writing byid");
}

/* Bump the revision and modified time of collection 'dir' and store it. */
static apr_status_t bump(calstore_t *st, DB_TXN *txn, node_ref_t *dir,
                         apr_time_t now, apr_pool_t *pool)
{
    dir->rec.revision++;
    dir->rec.modified = now;
    return put_node(st, txn, dir, pool);
}

static apr_status_t check_cond(const calstore_cond_t *cond,
                               const node_ref_t *ref)
{
    if (cond == NULL) {
        return APR_SUCCESS;
    }
    if (cond->id == 0) {
        return ref ? CALSTORE_ECHANGED : APR_SUCCESS;
    }
    if (ref == NULL || ref->rec.id != cond->id
        || ref->rec.revision != cond->revision) {
        return CALSTORE_ECHANGED;
    }
    return APR_SUCCESS;
}

/* Read up to 'max' members of collection 'dir' in key order, starting after
 * the member named 'after' (NULL: from the first), into an array of
 * node_ref_t.  The cursor is closed again before returning. */
static apr_status_t read_members(calstore_t *st, DB_TXN *txn,
                                 calstore_id_t dir, const char *after,
                                 apr_size_t after_len, int max,
                                 u_int32_t flags, apr_array_header_t **out,
                                 apr_pool_t *pool)
{
    unsigned char start[8 + CALSTORE_NAME_MAX + 1];
    apr_size_t slen = 8;
    apr_array_header_t *arr;
    apr_status_t rv = APR_SUCCESS;
    node_ref_t *ref;
    pcur_t pc;
    char *data;
    int ret, t_ret;

    calstore_put_be64(start, dir);
    if (after != NULL) {
        /* Names never contain NUL: name + "\0" is the smallest key after
         * name. */
        memcpy(start + 8, after, after_len);
        start[8 + after_len] = '\0';
        slen = 9 + after_len;
    }
    arr = apr_array_make(pool, 16, sizeof(node_ref_t));
    ret = pcur_first(&pc, st->nodes, txn, start, slen, flags);
    while (ret == 0) {
        if (pc.key.size - 8 > CALSTORE_NAME_MAX) {
            rv = corrupt("member name in collection", dir);
            break;
        }
        ref = apr_array_push(arr);
        ref->parent = dir;
        ref->nlen = pc.key.size - 8;
        ref->name = apr_pstrmemdup(pool, (char *)pc.key.data + 8, ref->nlen);
        data = apr_pmemdup(pool, pc.val.data, pc.val.size);
        if (calstore_rec_decode(data, pc.val.size, &ref->rec) != 0) {
            rv = corrupt("member record in collection", dir);
            break;
        }
        if (arr->nelts >= max) {
            break;
        }
        ret = pcur_next(&pc, flags);
    }
    t_ret = pcur_close(&pc);
    if (ret == DB_NOTFOUND) {
        ret = 0;
    }
    if (ret == 0) {
        ret = t_ret;
    }
    if (rv == APR_SUCCESS && ret != 0) {
        rv = calstore__db_status(st, ret, "reading members");
    }
    *out = arr;
    return rv;
}

/* Delete every record of database 'db' whose key starts with be64(id). */
static apr_status_t del_prefix(calstore_t *st, DB *db, DB_TXN *txn,
                               calstore_id_t id)
{
    unsigned char start[8];
    pcur_t pc;
    int ret, t_ret;

    calstore_put_be64(start, id);
    ret = pcur_first(&pc, db, txn, start, 8, DB_RMW);
    while (ret == 0) {
        if ((ret = pc.c->del(pc.c, 0)) != 0) {
            break;
        }
        ret = pcur_next(&pc, DB_RMW);
    }
    t_ret = pcur_close(&pc);
    if (ret == DB_NOTFOUND) {
        ret = 0;
    }
    if (ret == 0) {
        ret = t_ret;
    }
    return calstore__db_status(st, ret, "deleting by id");
}

/* Delete a record by key; a missing record is fine. */
static apr_status_t del_key(calstore_t *st, DB *db, DB_TXN *txn,
                            const void *k, apr_size_t ksize,
                            const char *what)
{
    DBT key;
    int ret;

    dbt_in(&key, k, ksize);
    ret = db->del(db, txn, &key, 0);
    if (ret == DB_NOTFOUND) {
        return APR_SUCCESS;
    }
    return calstore__db_status(st, ret, what);
}

/* Remove what is keyed by node id 'id': byid entry, body, properties. */
static apr_status_t purge_id(calstore_t *st, DB_TXN *txn, calstore_id_t id)
{
    unsigned char k[8];
    apr_status_t rv;

    calstore_put_be64(k, id);
    if ((rv = del_key(st, st->byid, txn, k, 8, "deleting byid"))
        != APR_SUCCESS
        || (rv = del_key(st, st->bodies, txn, k, 8, "deleting a body"))
           != APR_SUCCESS) {
        return rv;
    }
    return del_prefix(st, st->props, txn, id);
}

/* Delete node 'top' and, for a collection, its whole subtree.  Iterative
 * (an explicit stack of collection ids), members in batches.  Does not
 * touch the parent's record. */
static apr_status_t delete_tree(calstore_t *st, DB_TXN *txn,
                                const node_ref_t *top, apr_pool_t *pool)
{
    apr_array_header_t *stack, *members;
    apr_pool_t *iterpool;
    apr_size_t ksize;
    unsigned char *k;
    calstore_id_t dir;
    node_ref_t *m;
    apr_status_t rv;
    int i;

    k = node_key(top->parent, top->name, top->nlen, &ksize, pool);
    if ((rv = del_key(st, st->nodes, txn, k, ksize, "deleting a node"))
        != APR_SUCCESS
        || (rv = purge_id(st, txn, top->rec.id)) != APR_SUCCESS) {
        return rv;
    }
    if (top->rec.kind != CALSTORE_KIND_COLLECTION) {
        return APR_SUCCESS;
    }
    stack = apr_array_make(pool, 16, sizeof(calstore_id_t));
    APR_ARRAY_PUSH(stack, calstore_id_t) = top->rec.id;
    apr_pool_create(&iterpool, pool);
    while (rv == APR_SUCCESS && stack->nelts > 0) {
        dir = *(calstore_id_t *)apr_array_pop(stack);
        do {
            apr_pool_clear(iterpool);
            /* Deleted members are gone: always restart at the first. */
            rv = read_members(st, txn, dir, NULL, 0, CALSTORE_BATCH, DB_RMW,
                              &members, iterpool);
            for (i = 0; rv == APR_SUCCESS && i < members->nelts; i++) {
                m = &APR_ARRAY_IDX(members, i, node_ref_t);
                k = node_key(dir, m->name, m->nlen, &ksize, iterpool);
                rv = del_key(st, st->nodes, txn, k, ksize, "deleting a node");
                if (rv == APR_SUCCESS) {
                    rv = purge_id(st, txn, m->rec.id);
                }
                if (rv == APR_SUCCESS
                    && m->rec.kind == CALSTORE_KIND_COLLECTION) {
                    APR_ARRAY_PUSH(stack, calstore_id_t) = m->rec.id;
                }
            }
        } while (rv == APR_SUCCESS && members->nelts > 0);
    }
    apr_pool_destroy(iterpool);
    return rv;
}

static apr_status_t copy_body(calstore_t *st, DB_TXN *txn,
                              calstore_id_t from, calstore_id_t to)
{
    unsigned char kf[8], kt[8];
    DBT key, val;
    int ret;

    calstore_put_be64(kf, from);
    calstore_put_be64(kt, to);
    dbt_in(&key, kf, 8);
    dbt_malloc(&val);
    ret = st->bodies->get(st->bodies, txn, &key, &val, 0);
    if (ret == DB_NOTFOUND) {
        return corrupt("resource without a body", from);
    }
    if (ret != 0) {
        return calstore__db_status(st, ret, "reading a body");
    }
    dbt_in(&key, kt, 8);
    ret = st->bodies->put(st->bodies, txn, &key, &val, 0);
    free(val.data);
    return calstore__db_status(st, ret, "writing a body");
}

typedef struct prop_rec_t {
    unsigned char *key;
    apr_size_t ksize;
    void *val;
    apr_size_t vsize;
} prop_rec_t;

/* Copy every property of node 'from' to node 'to'. */
static apr_status_t copy_props(calstore_t *st, DB_TXN *txn,
                               calstore_id_t from, calstore_id_t to,
                               apr_pool_t *pool)
{
    apr_array_header_t *recs = apr_array_make(pool, 8, sizeof(prop_rec_t));
    unsigned char start[8];
    prop_rec_t *pr;
    DBT key, val;
    pcur_t pc;
    int i, ret, t_ret;

    calstore_put_be64(start, from);
    ret = pcur_first(&pc, st->props, txn, start, 8, 0);
    while (ret == 0) {
        pr = apr_array_push(recs);
        pr->ksize = pc.key.size;
        pr->key = apr_pmemdup(pool, pc.key.data, pc.key.size);
        calstore_put_be64(pr->key, to);
        pr->vsize = pc.val.size;
        pr->val = apr_pmemdup(pool, pc.val.data, pc.val.size);
        ret = pcur_next(&pc, 0);
    }
    t_ret = pcur_close(&pc);
    if (ret == DB_NOTFOUND) {
        ret = 0;
    }
    if (ret == 0) {
        ret = t_ret;
    }
    for (i = 0; ret == 0 && i < recs->nelts; i++) {
        pr = &APR_ARRAY_IDX(recs, i, prop_rec_t);
        dbt_in(&key, pr->key, pr->ksize);
        dbt_in(&val, pr->val, pr->vsize);
        ret = st->props->put(st->props, txn, &key, &val, 0);
    }
    return calstore__db_status(st, ret, "copying properties");
}

/* Create a copy of 'src' (record, body, properties; not members) as member
 * 'name' of collection 'parent', with a fresh id. */
static apr_status_t copy_node(calstore_t *st, DB_TXN *txn,
                              const node_ref_t *src, calstore_id_t parent,
                              const char *name, apr_size_t nlen,
                              apr_time_t now, node_ref_t *out,
                              apr_pool_t *pool)
{
    apr_status_t rv;

    *out = *src;
    if ((rv = calstore__next_id(st, &out->rec.id)) != APR_SUCCESS) {
        return rv;
    }
    out->parent = parent;
    out->name = name;
    out->nlen = nlen;
    out->rec.created = out->rec.modified = now;
    out->rec.revision = 1;
    if ((rv = put_node(st, txn, out, pool)) != APR_SUCCESS
        || (rv = put_byid(st, txn, out->rec.id, parent, name, nlen, pool))
           != APR_SUCCESS) {
        return rv;
    }
    if (src->rec.kind == CALSTORE_KIND_RESOURCE
        && (rv = copy_body(st, txn, src->rec.id, out->rec.id))
           != APR_SUCCESS) {
        return rv;
    }
    return copy_props(st, txn, src->rec.id, out->rec.id, pool);
}

typedef struct id_pair_t {
    calstore_id_t from;
    calstore_id_t to;
} id_pair_t;

/* Copy all members of collection 'from' below collection 'to',
 * recursively, iteratively (explicit stack), in batches. */
static apr_status_t copy_members(calstore_t *st, DB_TXN *txn,
                                 calstore_id_t from, calstore_id_t to,
                                 apr_time_t now, apr_pool_t *pool)
{
    apr_array_header_t *stack, *members;
    apr_pool_t *iterpool;
    char after[CALSTORE_NAME_MAX + 1];
    apr_size_t after_len = 0;
    int have_after, i;
    id_pair_t pair, *pp;
    node_ref_t *m, copy;
    apr_status_t rv = APR_SUCCESS;

    stack = apr_array_make(pool, 16, sizeof(id_pair_t));
    pair.from = from;
    pair.to = to;
    APR_ARRAY_PUSH(stack, id_pair_t) = pair;
    apr_pool_create(&iterpool, pool);
    while (rv == APR_SUCCESS && stack->nelts > 0) {
        pair = *(id_pair_t *)apr_array_pop(stack);
        have_after = 0;
        do {
            apr_pool_clear(iterpool);
            rv = read_members(st, txn, pair.from,
                              have_after ? after : NULL, after_len,
                              CALSTORE_BATCH, 0, &members, iterpool);
            for (i = 0; rv == APR_SUCCESS && i < members->nelts; i++) {
                m = &APR_ARRAY_IDX(members, i, node_ref_t);
                rv = copy_node(st, txn, m, pair.to, m->name, m->nlen, now,
                               &copy, iterpool);
                if (rv == APR_SUCCESS
                    && m->rec.kind == CALSTORE_KIND_COLLECTION) {
                    pp = apr_array_push(stack);
                    pp->from = m->rec.id;
                    pp->to = copy.rec.id;
                }
            }
            if (rv == APR_SUCCESS && members->nelts > 0) {
                m = &APR_ARRAY_IDX(members, members->nelts - 1, node_ref_t);
                memcpy(after, m->name, m->nlen);
                after_len = m->nlen;
                have_after = 1;
            }
        } while (rv == APR_SUCCESS && members->nelts == CALSTORE_BATCH);
    }
    apr_pool_destroy(iterpool);
    return rv;
}

/* ---- lookup ------------------------------------------------------------- */

typedef struct lookup_baton_t {
    path_t path;
    calstore_node_t *node;
    int parent_exists;
    apr_pool_t *pool;
} lookup_baton_t;

static apr_status_t lookup_txn(calstore_t *st, DB_TXN *txn, void *baton,
                               apr_pool_t *scratch)
{
    lookup_baton_t *b = baton;
    node_ref_t dir, node;
    apr_status_t rv;
    int n = b->path.n;

    b->parent_exists = 0;
    if (n == 0) {
        rv = resolve_dir(st, txn, &b->path, 0, 0, &node, scratch);
    }
    else {
        rv = resolve_dir(st, txn, &b->path, n - 1, 0, &dir, scratch);
        if (rv == CALSTORE_ENOPARENT) {
            return CALSTORE_ENOENT;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        rv = get_member(st, txn, dir.rec.id, b->path.seg[n - 1],
                        b->path.len[n - 1], 0, &node, scratch);
        if (rv == CALSTORE_ENOENT) {
            b->parent_exists = 1;
        }
    }
    if (rv == APR_SUCCESS) {
        b->node = make_node(&node, b->pool);
    }
    return rv;
}

apr_status_t calstore_lookup(calstore_t *st, const char *path,
                             calstore_node_t **node, int *parent_exists,
                             apr_pool_t *pool)
{
    lookup_baton_t b;
    apr_status_t rv;

    *node = NULL;
    if (parent_exists) {
        *parent_exists = 0;
    }
    memset(&b, 0, sizeof(b));
    b.pool = pool;
    if ((rv = parse_path(path, &b.path, pool)) != APR_SUCCESS) {
        return rv;
    }
    rv = calstore__run(st, 0, lookup_txn, &b, pool);
    if (rv == APR_SUCCESS) {
        *node = b.node;
    }
    else if (rv == CALSTORE_ENOENT && parent_exists) {
        *parent_exists = b.parent_exists;
    }
    return rv;
}

/* ---- list --------------------------------------------------------------- */

typedef struct list_baton_t {
    calstore_id_t dir;
    int first;
    const char *after;
    apr_size_t after_len;
    apr_array_header_t *members;
    apr_pool_t *batchpool;
} list_baton_t;

/* Is 'id' an existing collection?  APR_SUCCESS, CALSTORE_ENOENT,
 * CALSTORE_ENOTCOLL. */
static apr_status_t check_collection(calstore_t *st, DB_TXN *txn,
                                     calstore_id_t id, apr_pool_t *pool)
{
    unsigned char k[8];
    DBT key, val;
    node_ref_t ref;
    apr_size_t size;
    char *data;
    apr_status_t rv;
    int ret;

    calstore_put_be64(k, id);
    dbt_in(&key, k, 8);
    dbt_malloc(&val);
    ret = st->byid->get(st->byid, txn, &key, &val, 0);
    if (ret == DB_NOTFOUND) {
        return CALSTORE_ENOENT;
    }
    if (ret != 0) {
        return calstore__db_status(st, ret, "reading byid");
    }
    size = val.size;
    data = dbt_take(&val, pool);
    if (size < 8) {
        return corrupt("byid record", id);
    }
    rv = get_member(st, txn, calstore_get_be64((unsigned char *)data),
                    data + 8, size - 8, 0, &ref, pool);
    if (rv == CALSTORE_ENOENT || (rv == APR_SUCCESS && ref.rec.id != id)) {
        return corrupt("byid record pointing elsewhere", id);
    }
    if (rv == APR_SUCCESS && ref.rec.kind != CALSTORE_KIND_COLLECTION) {
        return CALSTORE_ENOTCOLL;
    }
    return rv;
}

static apr_status_t list_txn(calstore_t *st, DB_TXN *txn, void *baton,
                             apr_pool_t *scratch)
{
    list_baton_t *b = baton;
    apr_status_t rv;

    if (b->first
        && (rv = check_collection(st, txn, b->dir, scratch)) != APR_SUCCESS) {
        return rv;
    }
    apr_pool_clear(b->batchpool);
    return read_members(st, txn, b->dir, b->after, b->after_len,
                        CALSTORE_BATCH, 0, &b->members, b->batchpool);
}

apr_status_t calstore_list(calstore_t *st, calstore_id_t dir,
                           calstore_list_cb *cb, void *baton,
                           apr_pool_t *pool)
{
    char after[CALSTORE_NAME_MAX + 1];
    apr_pool_t *memberpool;
    list_baton_t b;
    node_ref_t *ref;
    apr_status_t rv;
    int i, n;

    if (dir == 0 || cb == NULL) {
        return CALSTORE_EINVAL;
    }
    memset(&b, 0, sizeof(b));
    b.dir = dir;
    b.first = 1;
    apr_pool_create(&b.batchpool, pool);
    apr_pool_create(&memberpool, pool);
    for (;;) {
        /* The transaction (and its cursor and locks) ends inside
         * calstore__run, before any callback runs. */
        rv = calstore__run(st, 0, list_txn, &b, pool);
        if (rv != APR_SUCCESS) {
            break;
        }
        b.first = 0;
        n = b.members->nelts;
        for (i = 0; rv == APR_SUCCESS && i < n; i++) {
            ref = &APR_ARRAY_IDX(b.members, i, node_ref_t);
            apr_pool_clear(memberpool);
            rv = cb(baton, make_node(ref, memberpool), memberpool);
        }
        if (rv != APR_SUCCESS || n < CALSTORE_BATCH) {
            break;
        }
        ref = &APR_ARRAY_IDX(b.members, n - 1, node_ref_t);
        memcpy(after, ref->name, ref->nlen);
        b.after = after;
        b.after_len = ref->nlen;
    }
    apr_pool_destroy(memberpool);
    apr_pool_destroy(b.batchpool);
    return rv;
}

/* ---- read --------------------------------------------------------------- */

typedef struct read_baton_t {
    calstore_id_t id;
    char *data;
    apr_size_t len;
    apr_pool_t *pool;
} read_baton_t;

static apr_status_t read_txn(calstore_t *st, DB_TXN *txn, void *baton,
                             apr_pool_t *scratch)
{
    read_baton_t *b = baton;
    unsigned char k[8];
    DBT key, val;
    apr_status_t rv;
    int ret;

    calstore_put_be64(k, b->id);
    dbt_in(&key, k, 8);
    memset(&val, 0, sizeof(val));
    val.flags = DB_DBT_USERMEM;
    /* First ask for the size (no buffer), then read into the caller's
     * pool; loop in case the body grew in between. */
    for (;;) {
        ret = st->bodies->get(st->bodies, txn, &key, &val, 0);
        if (ret != DB_BUFFER_SMALL) {
            break;
        }
        val.data = apr_palloc(b->pool, val.size + 1);
        val.ulen = val.size;
    }
    if (ret == DB_NOTFOUND) {
        rv = check_collection(st, txn, b->id, scratch);
        if (rv == APR_SUCCESS) {
            return CALSTORE_EISCOLL;
        }
        if (rv == CALSTORE_ENOTCOLL) {
            return corrupt("resource without a body", b->id);
        }
        return rv;
    }
    if (ret != 0) {
        return calstore__db_status(st, ret, "reading a body");
    }
    if (val.data == NULL) {
        val.data = apr_palloc(b->pool, 1);
    }
    b->data = val.data;
    b->len = val.size;
    b->data[b->len] = '\0';
    return APR_SUCCESS;
}

apr_status_t calstore_read(calstore_t *st, calstore_id_t id,
                           const char **data, apr_size_t *len,
                           apr_pool_t *pool)
{
    read_baton_t b;
    apr_status_t rv;

    *data = NULL;
    *len = 0;
    memset(&b, 0, sizeof(b));
    b.id = id;
    b.pool = pool;
    rv = calstore__run(st, 0, read_txn, &b, pool);
    if (rv == APR_SUCCESS) {
        *data = b.data;
        *len = b.len;
    }
    return rv;
}

/* ---- put / mkcol -------------------------------------------------------- */

typedef struct write_baton_t {
    path_t path;
    path_t dst;
    const char *ctype;
    apr_size_t ctype_len;
    const char *data;
    apr_size_t len;
    const calstore_cond_t *cond;
    int depth;
    int overwrite;
    int created;
    calstore_node_t *result;
    apr_pool_t *pool;
} write_baton_t;

static apr_status_t put_txn(calstore_t *st, DB_TXN *txn, void *baton,
                            apr_pool_t *scratch)
{
    write_baton_t *b = baton;
    int n = b->path.n, exists;
    node_ref_t dir, node;
    unsigned char k[8];
    DBT key, val;
    apr_time_t now;
    apr_status_t rv;

    if ((rv = resolve_dir(st, txn, &b->path, n - 1, 1, &dir, scratch))
        != APR_SUCCESS) {
        return rv;
    }
    rv = get_member(st, txn, dir.rec.id, b->path.seg[n - 1],
                    b->path.len[n - 1], DB_RMW, &node, scratch);
    if (rv != APR_SUCCESS && rv != CALSTORE_ENOENT) {
        return rv;
    }
    exists = (rv == APR_SUCCESS);
    if ((rv = check_cond(b->cond, exists ? &node : NULL)) != APR_SUCCESS) {
        return rv;
    }
    if (exists && node.rec.kind == CALSTORE_KIND_COLLECTION) {
        return CALSTORE_EISCOLL;
    }
    now = apr_time_now();
    if (exists) {
        node.rec.revision++;
    }
    else {
        memset(&node, 0, sizeof(node));
        if ((rv = calstore__next_id(st, &node.rec.id)) != APR_SUCCESS) {
            return rv;
        }
        node.parent = dir.rec.id;
        node.name = b->path.seg[n - 1];
        node.nlen = b->path.len[n - 1];
        node.rec.kind = CALSTORE_KIND_RESOURCE;
        node.rec.created = now;
        node.rec.revision = 1;
    }
    node.rec.modified = now;
    node.rec.length = b->len;
    node.rec.ctype = b->ctype;
    node.rec.ctype_len = b->ctype_len;
    if ((rv = put_node(st, txn, &node, scratch)) != APR_SUCCESS) {
        return rv;
    }
    if (!exists
        && (rv = put_byid(st, txn, node.rec.id, node.parent, node.name,
                          node.nlen, scratch)) != APR_SUCCESS) {
        return rv;
    }
    calstore_put_be64(k, node.rec.id);
    dbt_in(&key, k, 8);
    dbt_in(&val, b->data, b->len);
    if ((rv = calstore__db_status(st, st->bodies->put(st->bodies, txn, &key,
                                                      &val, 0),
                                  "writing a body")) != APR_SUCCESS
        || (rv = bump(st, txn, &dir, now, scratch)) != APR_SUCCESS) {
        return rv;
    }
    b->created = !exists;
    b->result = make_node(&node, b->pool);
    return APR_SUCCESS;
}

apr_status_t calstore_put(calstore_t *st, const char *path,
                          const char *content_type,
                          const char *data, apr_size_t len,
                          const calstore_cond_t *cond,
                          calstore_node_t **result, int *created,
                          apr_pool_t *pool)
{
    write_baton_t b;
    apr_status_t rv;

    if (result) {
        *result = NULL;
    }
    if (created) {
        *created = 0;
    }
    memset(&b, 0, sizeof(b));
    if ((rv = parse_path(path, &b.path, pool)) != APR_SUCCESS) {
        return rv;
    }
    if (b.path.n == 0) {
        return CALSTORE_EISCOLL;
    }
    if ((data == NULL && len > 0) || len > 0xFFFFFFFFu) {
        return CALSTORE_EINVAL;
    }
    if (content_type != NULL && *content_type != '\0') {
        b.ctype = content_type;
        b.ctype_len = strlen(content_type);
        if (b.ctype_len > CALSTORE_CTYPE_MAX) {
            return CALSTORE_EINVAL;
        }
    }
    b.data = data;
    b.len = len;
    b.cond = cond;
    b.pool = pool;
    rv = calstore__run(st, 1, put_txn, &b, pool);
    if (rv == APR_SUCCESS) {
        if (result) {
            *result = b.result;
        }
        if (created) {
            *created = b.created;
        }
    }
    return rv;
}

static apr_status_t mkcol_txn(calstore_t *st, DB_TXN *txn, void *baton,
                              apr_pool_t *scratch)
{
    write_baton_t *b = baton;
    int n = b->path.n;
    node_ref_t dir, node;
    apr_time_t now;
    apr_status_t rv;

    if ((rv = resolve_dir(st, txn, &b->path, n - 1, 1, &dir, scratch))
        != APR_SUCCESS) {
        return rv;
    }
    rv = get_member(st, txn, dir.rec.id, b->path.seg[n - 1],
                    b->path.len[n - 1], DB_RMW, &node, scratch);
    if (rv == APR_SUCCESS) {
        return CALSTORE_EEXIST;
    }
    if (rv != CALSTORE_ENOENT) {
        return rv;
    }
    now = apr_time_now();
    memset(&node, 0, sizeof(node));
    if ((rv = calstore__next_id(st, &node.rec.id)) != APR_SUCCESS) {
        return rv;
    }
    node.parent = dir.rec.id;
    node.name = b->path.seg[n - 1];
    node.nlen = b->path.len[n - 1];
    node.rec.kind = CALSTORE_KIND_COLLECTION;
    node.rec.created = node.rec.modified = now;
    node.rec.revision = 1;
    if ((rv = put_node(st, txn, &node, scratch)) != APR_SUCCESS
        || (rv = put_byid(st, txn, node.rec.id, node.parent, node.name,
                          node.nlen, scratch)) != APR_SUCCESS
        || (rv = bump(st, txn, &dir, now, scratch)) != APR_SUCCESS) {
        return rv;
    }
    b->result = make_node(&node, b->pool);
    return APR_SUCCESS;
}

apr_status_t calstore_mkcol(calstore_t *st, const char *path,
                            calstore_node_t **result, apr_pool_t *pool)
{
    write_baton_t b;
    apr_status_t rv;

    if (result) {
        *result = NULL;
    }
    memset(&b, 0, sizeof(b));
    if ((rv = parse_path(path, &b.path, pool)) != APR_SUCCESS) {
        return rv;
    }
    if (b.path.n == 0) {
        return CALSTORE_EEXIST;
    }
    b.pool = pool;
    rv = calstore__run(st, 1, mkcol_txn, &b, pool);
    if (rv == APR_SUCCESS && result) {
        *result = b.result;
    }
    return rv;
}

/* ---- delete ------------------------------------------------------------- */

static apr_status_t delete_txn(calstore_t *st, DB_TXN *txn, void *baton,
                               apr_pool_t *scratch)
{
    write_baton_t *b = baton;
    int n = b->path.n;
    node_ref_t dir, node;
    apr_status_t rv;

    rv = resolve_dir(st, txn, &b->path, n - 1, 1, &dir, scratch);
    if (rv == APR_SUCCESS) {
        rv = get_member(st, txn, dir.rec.id, b->path.seg[n - 1],
                        b->path.len[n - 1], DB_RMW, &node, scratch);
    }
    if (rv == CALSTORE_ENOPARENT || rv == CALSTORE_ENOENT) {
        /* A condition on a node that does not exist fails (412) unless it
         * is "must not exist"; without one, plain 404. */
        if (b->cond && b->cond->id != 0) {
            return CALSTORE_ECHANGED;
        }
        return CALSTORE_ENOENT;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if ((rv = check_cond(b->cond, &node)) != APR_SUCCESS
        || (rv = delete_tree(st, txn, &node, scratch)) != APR_SUCCESS) {
        return rv;
    }
    return bump(st, txn, &dir, apr_time_now(), scratch);
}

apr_status_t calstore_delete(calstore_t *st, const char *path,
                             const calstore_cond_t *cond, apr_pool_t *pool)
{
    write_baton_t b;
    apr_status_t rv;

    memset(&b, 0, sizeof(b));
    if ((rv = parse_path(path, &b.path, pool)) != APR_SUCCESS) {
        return rv;
    }
    if (b.path.n == 0) {
        return CALSTORE_EINVAL;
    }
    b.cond = cond;
    b.pool = pool;
    return calstore__run(st, 1, delete_txn, &b, pool);
}

/* ---- copy / move -------------------------------------------------------- */

apr_interval_time_t calstore__test_move_delay;

/* Common first half of COPY and MOVE: resolve both ends (write-locked),
 * apply the overwrite rules, delete an existing destination. */
static apr_status_t resolve_src_dst(calstore_t *st, DB_TXN *txn,
                                    write_baton_t *b, node_ref_t *sdir,
                                    node_ref_t *src, node_ref_t *ddir,
                                    apr_pool_t *scratch)
{
    int sn = b->path.n, dn = b->dst.n;
    node_ref_t dst;
    apr_status_t rv;

    rv = resolve_dir(st, txn, &b->path, sn - 1, 1, sdir, scratch);
    if (rv == APR_SUCCESS) {
        rv = get_member(st, txn, sdir->rec.id, b->path.seg[sn - 1],
                        b->path.len[sn - 1], DB_RMW, src, scratch);
    }
    if (rv == CALSTORE_ENOPARENT) {
        return CALSTORE_ENOENT;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (calstore__test_move_delay) {
        apr_sleep(calstore__test_move_delay);
    }
    if ((rv = resolve_dir(st, txn, &b->dst, dn - 1, 1, ddir, scratch))
        != APR_SUCCESS) {
        return rv;
    }
    rv = get_member(st, txn, ddir->rec.id, b->dst.seg[dn - 1],
                    b->dst.len[dn - 1], DB_RMW, &dst, scratch);
    if (rv == CALSTORE_ENOENT) {
        b->created = 1;
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!b->overwrite) {
        return CALSTORE_EEXIST;
    }
    if (path_is_prefix(&b->dst, &b->path)) {
        /* Overwriting an ancestor of the source would delete the source. */
        return CALSTORE_EINVAL;
    }
    return delete_tree(st, txn, &dst, scratch);
}

static apr_status_t copy_txn(calstore_t *st, DB_TXN *txn, void *baton,
                             apr_pool_t *scratch)
{
    write_baton_t *b = baton;
    int dn = b->dst.n;
    node_ref_t sdir, src, ddir, copy;
    apr_time_t now;
    apr_status_t rv;

    b->created = 0;
    if ((rv = resolve_src_dst(st, txn, b, &sdir, &src, &ddir, scratch))
        != APR_SUCCESS) {
        return rv;
    }
    now = apr_time_now();
    if ((rv = copy_node(st, txn, &src, ddir.rec.id, b->dst.seg[dn - 1],
                        b->dst.len[dn - 1], now, &copy, scratch))
        != APR_SUCCESS) {
        return rv;
    }
    if (src.rec.kind == CALSTORE_KIND_COLLECTION && b->depth != 0
        && (rv = copy_members(st, txn, src.rec.id, copy.rec.id, now,
                              scratch)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = bump(st, txn, &ddir, now, scratch)) != APR_SUCCESS) {
        return rv;
    }
    b->result = make_node(&copy, b->pool);
    return APR_SUCCESS;
}

static apr_status_t move_txn(calstore_t *st, DB_TXN *txn, void *baton,
                             apr_pool_t *scratch)
{
    write_baton_t *b = baton;
    int dn = b->dst.n;
    node_ref_t sdir, src, ddir;
    apr_size_t ksize;
    unsigned char *k;
    apr_time_t now;
    apr_status_t rv;

    b->created = 0;
    if ((rv = resolve_src_dst(st, txn, b, &sdir, &src, &ddir, scratch))
        != APR_SUCCESS) {
        return rv;
    }
    /* Re-key the node only: its members, body and properties are keyed
     * by its id, which does not change. */
    k = node_key(src.parent, src.name, src.nlen, &ksize, scratch);
    if ((rv = del_key(st, st->nodes, txn, k, ksize, "deleting a node"))
        != APR_SUCCESS) {
        return rv;
    }
    src.parent = ddir.rec.id;
    src.name = b->dst.seg[dn - 1];
    src.nlen = b->dst.len[dn - 1];
    now = apr_time_now();
    if ((rv = put_node(st, txn, &src, scratch)) != APR_SUCCESS
        || (rv = put_byid(st, txn, src.rec.id, src.parent, src.name,
                          src.nlen, scratch)) != APR_SUCCESS) {
        return rv;
    }
    if (sdir.rec.id != ddir.rec.id
        && (rv = bump(st, txn, &sdir, now, scratch)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = bump(st, txn, &ddir, now, scratch)) != APR_SUCCESS) {
        return rv;
    }
    b->result = make_node(&src, b->pool);
    return APR_SUCCESS;
}

static apr_status_t copy_or_move(calstore_t *st, const char *src,
                                 const char *dst, int depth, int overwrite,
                                 calstore__txn_fn *fn,
                                 calstore_node_t **result, apr_pool_t *pool)
{
    write_baton_t b;
    apr_status_t rv;

    if (result) {
        *result = NULL;
    }
    memset(&b, 0, sizeof(b));
    if ((rv = parse_path(src, &b.path, pool)) != APR_SUCCESS
        || (rv = parse_path(dst, &b.dst, pool)) != APR_SUCCESS) {
        return rv;
    }
    /* The root cannot be copied or moved, nothing can replace it, and
     * nothing can go onto itself or below itself. */
    if (b.path.n == 0 || b.dst.n == 0 || path_is_prefix(&b.path, &b.dst)) {
        return CALSTORE_EINVAL;
    }
    b.depth = depth;
    b.overwrite = overwrite;
    b.pool = pool;
    rv = calstore__run(st, 1, fn, &b, pool);
    if (rv == APR_SUCCESS && result) {
        *result = b.result;
    }
    return rv;
}

apr_status_t calstore_copy(calstore_t *st, const char *src, const char *dst,
                           int depth, int overwrite,
                           calstore_node_t **result, apr_pool_t *pool)
{
    if (depth != 0 && depth != -1) {
        if (result) {
            *result = NULL;
        }
        return CALSTORE_EINVAL;
    }
    return copy_or_move(st, src, dst, depth, overwrite, copy_txn, result,
                        pool);
}

apr_status_t calstore_move(calstore_t *st, const char *src, const char *dst,
                           int overwrite, calstore_node_t **result,
                           apr_pool_t *pool)
{
    return copy_or_move(st, src, dst, -1, overwrite, move_txn, result, pool);
}

/* ---- etag --------------------------------------------------------------- */

void calstore_etag(const calstore_node_t *node, char *buf)
{
    apr_snprintf(buf, CALSTORE_ETAG_LEN,
                 "\"%" APR_UINT64_T_HEX_FMT "-%" APR_UINT64_T_HEX_FMT "\"",
                 node->id, node->revision);
}

/* ---- dead properties ---------------------------------------------------- */

static int prop_name_ok(const char *ns, const char *name)
{
    return ns != NULL && name != NULL && *name != '\0';
}

typedef struct prop_baton_t {
    calstore_id_t id;
    const char *ns;
    const char *name;
    const char *value;
    apr_size_t len;
    const apr_array_header_t *patch;
    apr_array_header_t *props;
    apr_pool_t *pool;
} prop_baton_t;

static apr_status_t prop_get_txn(calstore_t *st, DB_TXN *txn, void *baton,
                                 apr_pool_t *scratch)
{
    prop_baton_t *b = baton;
    apr_size_t ksize;
    unsigned char *k = prop_key(b->id, b->ns, b->name, &ksize, scratch);
    DBT key, val;
    int ret;

    dbt_in(&key, k, ksize);
    dbt_malloc(&val);
    ret = st->props->get(st->props, txn, &key, &val, 0);
    if (ret == DB_NOTFOUND) {
        return CALSTORE_ENOENT;
    }
    if (ret != 0) {
        return calstore__db_status(st, ret, "reading a property");
    }
    b->len = val.size;
    b->value = dbt_take(&val, b->pool);
    return APR_SUCCESS;
}

apr_status_t calstore_prop_get(calstore_t *st, calstore_id_t id,
                               const char *ns, const char *name,
                               const char **value, apr_size_t *len,
                               apr_pool_t *pool)
{
    prop_baton_t b;
    apr_status_t rv;

    *value = NULL;
    *len = 0;
    if (!prop_name_ok(ns, name)) {
        return CALSTORE_EINVAL;
    }
    memset(&b, 0, sizeof(b));
    b.id = id;
    b.ns = ns;
    b.name = name;
    b.pool = pool;
    rv = calstore__run(st, 0, prop_get_txn, &b, pool);
    if (rv == APR_SUCCESS) {
        *value = b.value;
        *len = b.len;
    }
    return rv;
}

static apr_status_t prop_list_txn(calstore_t *st, DB_TXN *txn, void *baton,
                                  apr_pool_t *scratch)
{
    prop_baton_t *b = baton;
    unsigned char start[8];
    calstore_prop_t *p;
    const char *k, *nul;
    apr_size_t klen;
    apr_status_t rv = APR_SUCCESS;
    pcur_t pc;
    int ret, t_ret;

    b->props = apr_array_make(b->pool, 8, sizeof(calstore_prop_t));
    calstore_put_be64(start, b->id);
    ret = pcur_first(&pc, st->props, txn, start, 8, 0);
    while (ret == 0) {
        k = (const char *)pc.key.data + 8;
        klen = pc.key.size - 8;
        nul = memchr(k, '\0', klen);
        if (nul == NULL || nul == k + klen - 1) {
            rv = corrupt("property key", b->id);
            break;
        }
        p = apr_array_push(b->props);
        p->ns = apr_pstrmemdup(b->pool, k, (apr_size_t)(nul - k));
        p->name = apr_pstrmemdup(b->pool, nul + 1,
                                 klen - (apr_size_t)(nul - k) - 1);
        p->len = pc.val.size;
        p->value = apr_pstrmemdup(b->pool, pc.val.data, pc.val.size);
        ret = pcur_next(&pc, 0);
    }
    t_ret = pcur_close(&pc);
    if (ret == DB_NOTFOUND) {
        ret = 0;
    }
    if (ret == 0) {
        ret = t_ret;
    }
    if (rv == APR_SUCCESS && ret != 0) {
        rv = calstore__db_status(st, ret, "listing properties");
    }
    return rv;
}

apr_status_t calstore_prop_list(calstore_t *st, calstore_id_t id,
                                apr_array_header_t **props, apr_pool_t *pool)
{
    prop_baton_t b;
    apr_status_t rv;

    *props = NULL;
    memset(&b, 0, sizeof(b));
    b.id = id;
    b.pool = pool;
    rv = calstore__run(st, 0, prop_list_txn, &b, pool);
    if (rv == APR_SUCCESS) {
        *props = b.props;
    }
    return rv;
}

static apr_status_t prop_patch_txn(calstore_t *st, DB_TXN *txn, void *baton,
                                   apr_pool_t *scratch)
{
    prop_baton_t *b = baton;
    const calstore_prop_t *p;
    unsigned char k8[8], *k;
    apr_size_t ksize;
    DBT key, val;
    apr_status_t rv = APR_SUCCESS;
    int i, ret;

    /* The node must exist; the read lock on its byid entry keeps a
     * concurrent DELETE from leaving our properties behind. */
    calstore_put_be64(k8, b->id);
    dbt_in(&key, k8, 8);
    dbt_malloc(&val);
    ret = st->byid->get(st->byid, txn, &key, &val, 0);
    if (ret == DB_NOTFOUND) {
        return CALSTORE_ENOENT;
    }
    if (ret != 0) {
        return calstore__db_status(st, ret, "reading byid");
    }
    free(val.data);
    for (i = 0; rv == APR_SUCCESS && i < b->patch->nelts; i++) {
        p = &APR_ARRAY_IDX(b->patch, i, calstore_prop_t);
        k = prop_key(b->id, p->ns, p->name, &ksize, scratch);
        if (p->value == NULL) {
            rv = del_key(st, st->props, txn, k, ksize,
                         "removing a property");
        }
        else {
            dbt_in(&key, k, ksize);
            dbt_in(&val, p->value, p->len);
            rv = calstore__db_status(st, st->props->put(st->props, txn, &key,
                                                        &val, 0),
                                     "writing a property");
        }
    }
    return rv;
}

apr_status_t calstore_prop_patch(calstore_t *st, calstore_id_t id,
                                 const apr_array_header_t *patch,
                                 apr_pool_t *pool)
{
    prop_baton_t b;
    const calstore_prop_t *p;
    int i;

    if (patch == NULL || patch->elt_size != sizeof(calstore_prop_t)) {
        return CALSTORE_EINVAL;
    }
    for (i = 0; i < patch->nelts; i++) {
        p = &APR_ARRAY_IDX(patch, i, calstore_prop_t);
        if (!prop_name_ok(p->ns, p->name) || p->len > 0xFFFFFFFFu) {
            return CALSTORE_EINVAL;
        }
    }
    memset(&b, 0, sizeof(b));
    b.id = id;
    b.patch = patch;
    b.pool = pool;
    return calstore__run(st, 1, prop_patch_txn, &b, pool);
}

/* ---- test hooks and consistency check ----------------------------------- */

typedef struct counts_baton_t {
    apr_size_t *counts;
} counts_baton_t;

static apr_status_t counts_txn(calstore_t *st, DB_TXN *txn, void *baton,
                               apr_pool_t *scratch)
{
    counts_baton_t *b = baton;
    DB *dbs[5];
    DBC *c;
    DBT key, val;
    int i, ret, t_ret;

    dbs[0] = st->meta;
    dbs[1] = st->nodes;
    dbs[2] = st->byid;
    dbs[3] = st->bodies;
    dbs[4] = st->props;
    for (i = 0; i < 5; i++) {
        b->counts[i] = 0;
        if ((ret = dbs[i]->cursor(dbs[i], txn, &c, 0)) != 0) {
            return calstore__db_status(st, ret, "counting");
        }
        memset(&key, 0, sizeof(key));
        memset(&val, 0, sizeof(val));
        key.flags = val.flags = DB_DBT_REALLOC;
        while ((ret = c->get(c, &key, &val, DB_NEXT)) == 0) {
            b->counts[i]++;
        }
        t_ret = c->close(c);
        free(key.data);
        free(val.data);
        if (ret == DB_NOTFOUND) {
            ret = t_ret;
        }
        if (ret != 0) {
            return calstore__db_status(st, ret, "counting");
        }
    }
    return APR_SUCCESS;
}

apr_status_t calstore__test_counts(calstore_t *st, apr_size_t counts[5])
{
    counts_baton_t b;
    apr_pool_t *pool;
    apr_status_t rv;

    b.counts = counts;
    apr_pool_create(&pool, st->pool);
    rv = calstore__run(st, 0, counts_txn, &b, pool);
    apr_pool_destroy(pool);
    return rv;
}

/* Fetch byid(id) into *parent / *name.  APR_SUCCESS, CALSTORE_ENOENT. */
static apr_status_t get_byid(calstore_t *st, DB_TXN *txn, calstore_id_t id,
                             calstore_id_t *parent, const char **name,
                             apr_size_t *nlen, apr_pool_t *pool)
{
    unsigned char k[8];
    DBT key, val;
    apr_size_t size;
    char *data;
    int ret;

    calstore_put_be64(k, id);
    dbt_in(&key, k, 8);
    dbt_malloc(&val);
    ret = st->byid->get(st->byid, txn, &key, &val, 0);
    if (ret == DB_NOTFOUND) {
        return CALSTORE_ENOENT;
    }
    if (ret != 0) {
        return calstore__db_status(st, ret, "reading byid");
    }
    size = val.size;
    data = dbt_take(&val, pool);
    if (size < 8) {
        return corrupt("byid record", id);
    }
    *parent = calstore_get_be64((unsigned char *)data);
    *name = data + 8;
    *nlen = size - 8;
    return APR_SUCCESS;
}

typedef struct check_state_t {
    int bad;                    /* problems found                           */
    int roots;                  /* root records seen                        */
} check_state_t;

static void check_fail(check_state_t *cs, const char *what, calstore_id_t id)
{
    calcore_log(CALCORE_LOG_ERR, CALSTORE_ECORRUPT,
                "calstore: check: %s (id %" APR_UINT64_T_FMT ")", what, id);
    cs->bad++;
}

typedef apr_status_t check_fn(calstore_t *st, DB_TXN *txn, const DBT *key,
                              const DBT *val, check_state_t *cs,
                              apr_pool_t *pool);

/* Call 'fn' for every record of 'db' (a scratch pool cleared per record). */
static apr_status_t check_scan(calstore_t *st, DB *db, DB_TXN *txn,
                               check_fn *fn, check_state_t *cs,
                               apr_pool_t *pool)
{
    apr_status_t rv = APR_SUCCESS;
    apr_pool_t *iter;
    DBT key, val;
    DBC *c;
    int ret, t_ret;

    if ((ret = db->cursor(db, txn, &c, 0)) != 0) {
        return calstore__db_status(st, ret, "check");
    }
    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));
    key.flags = val.flags = DB_DBT_REALLOC;
    apr_pool_create(&iter, pool);
    while (rv == APR_SUCCESS
           && (ret = c->get(c, &key, &val, DB_NEXT)) == 0) {
        apr_pool_clear(iter);
        rv = fn(st, txn, &key, &val, cs, iter);
    }
    t_ret = c->close(c);
    free(key.data);
    free(val.data);
    apr_pool_destroy(iter);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (ret == DB_NOTFOUND) {
        ret = t_ret;
    }
    return calstore__db_status(st, ret, "check");
}

/* nodes: key sane, byid agrees, parent is a collection, body matches. */
static apr_status_t check_node(calstore_t *st, DB_TXN *txn, const DBT *key,
                               const DBT *val, check_state_t *cs,
                               apr_pool_t *pool)
{
    calstore_rec_t rec;
    calstore_id_t parent, p2;
    const char *name, *n2;
    apr_size_t nlen, n2len;
    unsigned char k8[8];
    node_ref_t pref;
    DBT bk, bv;
    apr_status_t rv;
    int ret;

    if (key->size < 8 || calstore_rec_decode(val->data, val->size, &rec)) {
        check_fail(cs, "undecodable node", 0);
        return APR_SUCCESS;
    }
    parent = calstore_get_be64(key->data);
    name = (const char *)key->data + 8;
    nlen = key->size - 8;
    if (parent == 0) {
        cs->roots++;
        if (nlen != 0 || rec.id != CALSTORE_ROOT_ID
            || rec.kind != CALSTORE_KIND_COLLECTION) {
            check_fail(cs, "bad root record", rec.id);
        }
    }
    else if (nlen == 0 || nlen > CALSTORE_NAME_MAX
             || memchr(name, '/', nlen) || memchr(name, '\0', nlen)) {
        check_fail(cs, "bad member name", rec.id);
    }

    rv = get_byid(st, txn, rec.id, &p2, &n2, &n2len, pool);
    if (rv == CALSTORE_ENOENT) {
        check_fail(cs, "node without byid", rec.id);
    }
    else if (rv != APR_SUCCESS) {
        return rv;
    }
    else if (p2 != parent || n2len != nlen || memcmp(n2, name, nlen) != 0) {
        check_fail(cs, "byid disagrees with node", rec.id);
    }

    if (parent != 0) {
        rv = get_byid(st, txn, parent, &p2, &n2, &n2len, pool);
        if (rv == APR_SUCCESS) {
            rv = get_member(st, txn, p2, n2, n2len, 0, &pref, pool);
        }
        if (rv == CALSTORE_ENOENT) {
            check_fail(cs, "orphan node", rec.id);
        }
        else if (rv != APR_SUCCESS) {
            return rv;
        }
        else if (pref.rec.kind != CALSTORE_KIND_COLLECTION) {
            check_fail(cs, "parent is not a collection", rec.id);
        }
    }

    calstore_put_be64(k8, rec.id);
    dbt_in(&bk, k8, 8);
    dbt_malloc(&bv);
    ret = st->bodies->get(st->bodies, txn, &bk, &bv, 0);
    if (ret == 0) {
        if (rec.kind != CALSTORE_KIND_RESOURCE) {
            check_fail(cs, "collection with a body", rec.id);
        }
        else if (bv.size != rec.length) {
            check_fail(cs, "body length differs from record", rec.id);
        }
        free(bv.data);
    }
    else if (ret == DB_NOTFOUND) {
        if (rec.kind == CALSTORE_KIND_RESOURCE) {
            check_fail(cs, "resource without a body", rec.id);
        }
    }
    else {
        return calstore__db_status(st, ret, "check");
    }
    return APR_SUCCESS;
}

/* byid: points at a node with this id. */
static apr_status_t check_byid(calstore_t *st, DB_TXN *txn, const DBT *key,
                               const DBT *val, check_state_t *cs,
                               apr_pool_t *pool)
{
    calstore_id_t id = key->size == 8 ? calstore_get_be64(key->data) : 0;
    node_ref_t ref;
    apr_status_t rv;

    if (key->size != 8 || val->size < 8) {
        check_fail(cs, "undecodable byid", id);
        return APR_SUCCESS;
    }
    rv = get_member(st, txn, calstore_get_be64(val->data),
                    (const char *)val->data + 8, val->size - 8, 0, &ref,
                    pool);
    if (rv == CALSTORE_ENOENT || (rv == APR_SUCCESS && ref.rec.id != id)) {
        check_fail(cs, "byid without its node", id);
        return APR_SUCCESS;
    }
    return rv;
}

/* bodies and props: keyed by an id that exists. */
static apr_status_t check_owned(calstore_t *st, DB_TXN *txn, const DBT *key,
                                int is_prop, check_state_t *cs,
                                apr_pool_t *pool)
{
    calstore_id_t id = key->size >= 8 ? calstore_get_be64(key->data) : 0;
    calstore_id_t parent;
    const char *name;
    apr_size_t nlen;
    apr_status_t rv;

    if (is_prop ? (key->size < 10
                   || !memchr((const char *)key->data + 8, '\0',
                              key->size - 9))
                : key->size != 8) {
        check_fail(cs, is_prop ? "bad property key" : "bad body key", id);
        return APR_SUCCESS;
    }
    rv = get_byid(st, txn, id, &parent, &name, &nlen, pool);
    if (rv == CALSTORE_ENOENT) {
        check_fail(cs, is_prop ? "orphan property" : "orphan body", id);
        return APR_SUCCESS;
    }
    return rv;
}

static apr_status_t check_body(calstore_t *st, DB_TXN *txn, const DBT *key,
                               const DBT *val, check_state_t *cs,
                               apr_pool_t *pool)
{
    return check_owned(st, txn, key, 0, cs, pool);
}

static apr_status_t check_prop(calstore_t *st, DB_TXN *txn, const DBT *key,
                               const DBT *val, check_state_t *cs,
                               apr_pool_t *pool)
{
    return check_owned(st, txn, key, 1, cs, pool);
}

static apr_status_t check_txn(calstore_t *st, DB_TXN *txn, void *baton,
                              apr_pool_t *scratch)
{
    check_state_t cs;
    apr_status_t rv;

    memset(&cs, 0, sizeof(cs));
    if ((rv = check_scan(st, st->nodes, txn, check_node, &cs, scratch))
        != APR_SUCCESS
        || (rv = check_scan(st, st->byid, txn, check_byid, &cs, scratch))
           != APR_SUCCESS
        || (rv = check_scan(st, st->bodies, txn, check_body, &cs, scratch))
           != APR_SUCCESS
        || (rv = check_scan(st, st->props, txn, check_prop, &cs, scratch))
           != APR_SUCCESS) {
        return rv;
    }
    if (cs.roots != 1) {
        check_fail(&cs, "not exactly one root", CALSTORE_ROOT_ID);
    }
    /* APR_SUCCESS commits (nothing was written), anything else aborts. */
    return cs.bad ? CALSTORE_ECORRUPT : APR_SUCCESS;
}

apr_status_t calstore__check(calstore_t *st, apr_pool_t *pool)
{
    return calstore__run(st, 0, check_txn, NULL, pool);
}

apr_status_t calstore__test_hold(calstore_t *st, const char *path)
{
    apr_pool_t *pool;
    node_ref_t dir, node;
    DB_TXN *txn;
    path_t p;
    apr_status_t rv;
    int ret;

    apr_pool_create(&pool, st->pool);
    if ((rv = parse_path(path, &p, pool)) != APR_SUCCESS || p.n == 0) {
        return rv ? rv : CALSTORE_EINVAL;
    }
    if ((ret = st->env->txn_begin(st->env, NULL, &txn, 0)) != 0) {
        return calstore__db_status(st, ret, "txn_begin");
    }
    rv = resolve_dir(st, txn, &p, p.n - 1, 1, &dir, pool);
    if (rv == APR_SUCCESS) {
        rv = get_member(st, txn, dir.rec.id, p.seg[p.n - 1], p.len[p.n - 1],
                        DB_RMW, &node, pool);
    }
    if (rv == APR_SUCCESS) {
        rv = put_node(st, txn, &node, pool);
    }
    if (rv == APR_SUCCESS) {
        rv = put_node(st, txn, &dir, pool);
    }
    /* The transaction is deliberately left open. */
    return rv;
}

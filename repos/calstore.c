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

#include "calcore_expand.h"
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

/* Fetch byid(id) into *parent / *name, with DB->get flags 'flags'.
 * APR_SUCCESS, CALSTORE_ENOENT. */
static apr_status_t get_byid_f(calstore_t *st, DB_TXN *txn, calstore_id_t id,
                               u_int32_t flags, calstore_id_t *parent,
                               const char **name, apr_size_t *nlen,
                               apr_pool_t *pool)
{
    unsigned char k[8];
    DBT key, val;
    apr_size_t size;
    char *data;
    int ret;

    calstore_put_be64(k, id);
    dbt_in(&key, k, 8);
    dbt_malloc(&val);
    ret = st->byid->get(st->byid, txn, &key, &val, flags);
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

static apr_status_t get_byid(calstore_t *st, DB_TXN *txn, calstore_id_t id,
                             calstore_id_t *parent, const char **name,
                             apr_size_t *nlen, apr_pool_t *pool)
{
    return get_byid_f(st, txn, id, 0, parent, name, nlen, pool);
}

/* ---- calendar object records and their index entries -------------------- */

/* A calendar object's indexed data, decoded (or prepared from a
 * calstore_calinfo_t).  Spans are sorted by strictly increasing start. */
typedef struct calobj_t {
    apr_uint32_t comp;
    unsigned flags;             /* CALSTORE_CALOBJ_BEFORE | _AFTER          */
    apr_int64_t win_from;
    apr_int64_t win_until;
    apr_int64_t first;          /* start of the earliest instance          */
    apr_int64_t last;           /* end of the latest instance              */
    const char *uid;            /* uid_len bytes, NUL-terminated            */
    apr_size_t uid_len;
    const void *record;
    apr_size_t record_len;
    int nspans;
    calstore_span_t *spans;
} calobj_t;

static int time_ok(apr_int64_t t)
{
    return t >= -CALSTORE_TIME_LIMIT && t <= CALSTORE_TIME_LIMIT;
}

static apr_uint64_t span_dur(const calstore_span_t *sp)
{
    return (apr_uint64_t)sp->end - (apr_uint64_t)sp->start;
}

static int span_is_long(const calstore_span_t *sp)
{
    return span_dur(sp) > (apr_uint64_t)CALSTORE_LONG_INSTANCE;
}

static int span_cmp(const void *a, const void *b)
{
    const calstore_span_t *x = a, *y = b;

    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    return x->end < y->end ? -1 : x->end > y->end;
}

static apr_size_t calobj_size(const calobj_t *co)
{
    return CALSTORE_CALOBJ_FIXED + co->uid_len + co->record_len
           + 16 * (apr_size_t)co->nspans;
}

/* Validate 'cal' and turn it into 'co' (spans copied, sorted, merged). */
static apr_status_t calobj_from_info(const calstore_calinfo_t *cal,
                                     calobj_t *co, apr_pool_t *pool)
{
    const apr_array_header_t *in = cal->instances;
    calstore_span_t *sp;
    int i, n;

    memset(co, 0, sizeof(*co));
    if (cal->uid == NULL || cal->uid[0] == '\0'
        || strlen(cal->uid) > CALSTORE_UID_MAX
        || (cal->record == NULL && cal->record_len > 0)
        || cal->record_len > 0x7FFFFFFFu
        || !time_ok(cal->win_from) || !time_ok(cal->win_until)
        || cal->win_from > cal->win_until
        || (in != NULL && in->elt_size != sizeof(calstore_span_t))
        || (in != NULL && in->nelts > 0x7FFFFFF)) {
        return CALSTORE_EINVAL;
    }
    co->comp = cal->comp;
    co->flags = (cal->before ? CALSTORE_CALOBJ_BEFORE : 0)
                | (cal->after ? CALSTORE_CALOBJ_AFTER : 0)
                | (cal->exact && cal->comp == CALCORE_COMP_VEVENT
                   ? CALSTORE_CALOBJ_EXACT : 0)
                | (calstore__test_no_runs ? 0 : CALSTORE_CALOBJ_RUNS);
    co->win_from = cal->win_from;
    co->win_until = cal->win_until;
    if (cal->first == 0 && cal->last == 0) {
        co->first = APR_INT64_MIN;
        co->last = APR_INT64_MAX;
    }
    else {
        co->first = cal->first;
        co->last = cal->last;
    }
    co->uid = cal->uid;
    co->uid_len = strlen(cal->uid);
    co->record = cal->record_len ? cal->record : "";
    co->record_len = cal->record_len;
    n = in ? in->nelts : 0;
    sp = apr_palloc(pool, (n ? n : 1) * sizeof(*sp));
    for (i = 0; i < n; i++) {
        sp[i] = APR_ARRAY_IDX(in, i, calstore_span_t);
        if (!time_ok(sp[i].start) || !time_ok(sp[i].end)
            || sp[i].end < sp[i].start) {
            return CALSTORE_EINVAL;
        }
    }
    qsort(sp, (apr_size_t)n, sizeof(*sp), span_cmp);
    co->nspans = 0;
    for (i = 0; i < n; i++) {
        /* Sorted by (start, end): the last of equal starts has the latest
         * end. */
        if (co->nspans > 0 && sp[co->nspans - 1].start == sp[i].start) {
            sp[co->nspans - 1].end = sp[i].end;
        }
        else {
            sp[co->nspans++] = sp[i];
        }
    }
    co->spans = sp;
    if (calobj_size(co) > 0xFFFFFFFFu) {
        return CALSTORE_EINVAL;
    }
    return APR_SUCCESS;
}

static unsigned char *calobj_encode(const calobj_t *co, apr_size_t *size,
                                    apr_pool_t *pool)
{
    apr_size_t len = calobj_size(co);
    unsigned char *buf = apr_palloc(pool, len), *p;
    int i;

    buf[0] = CALSTORE_CALOBJ_REC_VERSION;
    buf[1] = (unsigned char)co->flags;
    calstore_put_be16(buf + 2, 0);
    calstore_put_be32(buf + 4, co->comp);
    calstore_put_be64(buf + 8, (apr_uint64_t)co->win_from);
    calstore_put_be64(buf + 16, (apr_uint64_t)co->win_until);
    calstore_put_be32(buf + 24, (apr_uint32_t)co->uid_len);
    calstore_put_be32(buf + 28, (apr_uint32_t)co->record_len);
    calstore_put_be32(buf + 32, (apr_uint32_t)co->nspans);
    calstore_put_be64(buf + 36, (apr_uint64_t)co->first);
    calstore_put_be64(buf + 44, (apr_uint64_t)co->last);
    p = buf + CALSTORE_CALOBJ_FIXED;
    memcpy(p, co->uid, co->uid_len);
    p += co->uid_len;
    if (co->record_len) {
        memcpy(p, co->record, co->record_len);
    }
    p += co->record_len;
    for (i = 0; i < co->nspans; i++, p += 16) {
        calstore_put_be64(p, (apr_uint64_t)co->spans[i].start);
        calstore_put_be64(p + 8, (apr_uint64_t)co->spans[i].end);
    }
    *size = len;
    return buf;
}

/* Decode a record of 'len' bytes ('data' must stay alive: uid and record
 * point into it; the uid is copied NUL-terminated). */
static int calobj_decode(const void *data, apr_size_t len, calobj_t *co,
                         apr_pool_t *pool)
{
    const unsigned char *buf = data, *p;
    apr_uint64_t u, b, n;
    int i;

    if (len < CALSTORE_CALOBJ_FIXED || buf[0] != CALSTORE_CALOBJ_REC_VERSION
        || (buf[1] & ~(CALSTORE_CALOBJ_BEFORE | CALSTORE_CALOBJ_AFTER
                       | CALSTORE_CALOBJ_EXACT | CALSTORE_CALOBJ_RUNS))) {
        return -1;
    }
    u = calstore_get_be32(buf + 24);
    b = calstore_get_be32(buf + 28);
    n = calstore_get_be32(buf + 32);
    if (u == 0 || u > CALSTORE_UID_MAX || n > 0x7FFFFFF
        || CALSTORE_CALOBJ_FIXED + u + b + 16 * n != len) {
        return -1;
    }
    co->flags = buf[1];
    co->comp = calstore_get_be32(buf + 4);
    co->win_from = (apr_int64_t)calstore_get_be64(buf + 8);
    co->win_until = (apr_int64_t)calstore_get_be64(buf + 16);
    co->first = (apr_int64_t)calstore_get_be64(buf + 36);
    co->last = (apr_int64_t)calstore_get_be64(buf + 44);
    p = buf + CALSTORE_CALOBJ_FIXED;
    co->uid_len = (apr_size_t)u;
    co->uid = apr_pstrmemdup(pool, (const char *)p, co->uid_len);
    p += u;
    co->record = p;
    co->record_len = (apr_size_t)b;
    p += b;
    co->nspans = (int)n;
    co->spans = apr_palloc(pool, (n ? n : 1) * sizeof(calstore_span_t));
    for (i = 0; i < co->nspans; i++, p += 16) {
        co->spans[i].start = (apr_int64_t)calstore_get_be64(p);
        co->spans[i].end = (apr_int64_t)calstore_get_be64(p + 8);
        if (co->spans[i].end < co->spans[i].start
            || (i > 0 && co->spans[i].start <= co->spans[i - 1].start)) {
            return -1;
        }
    }
    return 0;
}

/* Read and decode the calendar object record of 'id'.  APR_SUCCESS,
 * CALSTORE_ENOENT, CALSTORE_ECORRUPT or an error. */
static apr_status_t get_calobj(calstore_t *st, DB_TXN *txn, calstore_id_t id,
                               u_int32_t flags, calobj_t *co,
                               apr_pool_t *pool)
{
    unsigned char k[8];
    DBT key, val;
    apr_size_t size;
    char *data;
    int ret;

    calstore_put_be64(k, id);
    dbt_in(&key, k, 8);
    dbt_malloc(&val);
    ret = st->calobj->get(st->calobj, txn, &key, &val, flags);
    if (ret == DB_NOTFOUND) {
        return CALSTORE_ENOENT;
    }
    if (ret != 0) {
        return calstore__db_status(st, ret, "reading a calendar object");
    }
    size = val.size;
    data = dbt_take(&val, pool);
    if (calobj_decode(data, size, co, pool) != 0) {
        return corrupt("calendar object record", id);
    }
    return APR_SUCCESS;
}

/* Read only the opaque record of calendar object 'id' into 'pool' (two
 * partial reads: the fixed header, then the record; the spans at the end
 * are not read).  APR_SUCCESS, CALSTORE_ENOENT or an error. */
static apr_status_t get_calobj_blob(calstore_t *st, DB_TXN *txn,
                                    calstore_id_t id, const void **blob,
                                    apr_size_t *len, apr_pool_t *pool)
{
    unsigned char k[8], head[CALSTORE_CALOBJ_FIXED];
    apr_uint32_t u, b;
    char *out;
    DBT key, val;
    int ret;

    calstore_put_be64(k, id);
    dbt_in(&key, k, 8);
    memset(&val, 0, sizeof(val));
    val.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
    val.data = head;
    val.ulen = val.dlen = CALSTORE_CALOBJ_FIXED;
    ret = st->calobj->get(st->calobj, txn, &key, &val, 0);
    if (ret == DB_NOTFOUND) {
        return CALSTORE_ENOENT;
    }
    if (ret != 0) {
        return calstore__db_status(st, ret, "reading a calendar object");
    }
    if (val.size != CALSTORE_CALOBJ_FIXED
        || head[0] != CALSTORE_CALOBJ_REC_VERSION) {
        return corrupt("calendar object record", id);
    }
    u = calstore_get_be32(head + 24);
    b = calstore_get_be32(head + 28);
    out = apr_palloc(pool, (apr_size_t)b + 1);
    if (b > 0) {
        memset(&val, 0, sizeof(val));
        val.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
        val.data = out;
        val.ulen = val.dlen = b;
        val.doff = CALSTORE_CALOBJ_FIXED + u;
        ret = st->calobj->get(st->calobj, txn, &key, &val, 0);
        if (ret == DB_NOTFOUND) {
            return CALSTORE_ENOENT;     /* deleted between the two reads */
        }
        if (ret != 0) {
            return calstore__db_status(st, ret, "reading a calendar object");
        }
        if (val.size != b) {
            return corrupt("calendar object record", id);
        }
    }
    out[b] = '\0';
    *blob = out;
    *len = b;
    return APR_SUCCESS;
}

/* The tr key of short span 'sp' of object 'obj'. */
static void tr_key(unsigned char *k, calstore_id_t coll,
                   const calstore_span_t *sp, calstore_id_t obj)
{
    calstore_put_be64(k, coll);
    k[8] = (unsigned char)calstore_short_class(
               (apr_uint64_t)sp->end - (apr_uint64_t)sp->start);
    calstore_put_ord64(k + 9, sp->start);
    calstore_put_be64(k + 17, obj);
}

/* The 'G' key of long span 'sp' of object 'obj' of kind 'comp': by
 * component byte first, so that a query for one kind reads no other kind's
 * long spans (an undated VTODO is one from CALCORE_TIME_MIN to _MAX), then
 * by class. */
static void long_key(unsigned char *k, calstore_id_t coll,
                     const calstore_span_t *sp, apr_uint32_t comp,
                     calstore_id_t obj)
{
    calstore_put_be64(k, coll);
    k[8] = CALSTORE_EDGE_LONG;
    k[9] = (unsigned char)(comp & CALSTORE_RES_COMP_MASK);
    k[10] = (unsigned char)calstore_long_class(span_dur(sp));
    calstore_put_ord64(k + 11, sp->start);
    calstore_put_be64(k + 19, obj);
}

/* The 'L' ('H') key of object 'obj' described by 'co': its win_from and
 * first (win_until and last); see calstore_edge_key(). */
static void edge_key(unsigned char *k, calstore_id_t coll, int kind,
                     const calobj_t *co, calstore_id_t obj)
{
    if (kind == CALSTORE_EDGE_BEFORE) {
        calstore_edge_key(k, coll, kind, co->win_from, co->first, obj);
    }
    else {
        calstore_edge_key(k, coll, kind, co->win_until, co->last, obj);
    }
}

/* Every tr and tredge key fits a buffer of CALSTORE_EDGE_KEY bytes. */
typedef char calstore__edge_key_is_longest[
    CALSTORE_EDGE_KEY >= CALSTORE_TR_KEY
    && CALSTORE_EDGE_KEY >= CALSTORE_LONG_KEY ? 1 : -1];

static unsigned char *uid_key(calstore_id_t coll, const char *uid,
                              apr_size_t ulen, apr_size_t *size,
                              apr_pool_t *pool)
{
    return node_key(coll, uid, ulen, size, pool);   /* same shape */
}

static apr_status_t put_kv(calstore_t *st, DB *db, DB_TXN *txn,
                           const void *k, apr_size_t ksize, const void *v,
                           apr_size_t vsize, const char *what)
{
    DBT key, val;

    dbt_in(&key, k, ksize);
    dbt_in(&val, v, vsize);
    return calstore__db_status(st, db->put(db, txn, &key, &val, 0), what);
}

/* Write the record of calendar object 'id', member 'name' of calendar
 * 'coll', and all its index entries.  Raises coll->rec.maxdur when one of
 * its short instances is longer; the caller writes coll's record (bump). */
/* The value of a tr / 'G' entry: be64(end) + the object's component byte
 * (so a query for one kind skips the others without reading anything),
 * with CALSTORE_SPAN_EXACT when the span is one exact VEVENT instance. */
static void span_val(unsigned char *v, const calstore_span_t *sp,
                     const calobj_t *co)
{
    calstore_put_be64(v, (apr_uint64_t)sp->end);
    v[8] = (unsigned char)((co->comp & CALSTORE_SPAN_KIND)
                           | ((co->flags & CALSTORE_CALOBJ_EXACT)
                              ? CALSTORE_SPAN_EXACT : 0));
}

/* One tr.db entry of an object: a span, or a run of spans. */
typedef struct tr_item_t {
    unsigned char key[CALSTORE_TR_KEY];
    unsigned char val[CALSTORE_RUN_VAL_MAX];
    apr_size_t vlen;
    apr_uint64_t maxdur;        /* the longest span it holds */
} tr_item_t;

/* The next tr.db entry object 'id' of calendar 'coll', described by 'co',
 * calls for, from span *i on: long spans (tredge.db 'G') are skipped; a
 * record with CALSTORE_CALOBJ_RUNS groups its short spans into runs (see
 * CALSTORE_RUN_CLASS), any other has one entry per short span.  Fills
 * 'it', moves *i past the spans it holds and returns 1; returns 0 when no
 * short span is left.  Every writer, remover and checker of tr entries
 * goes through here, so they agree on the runs of a record. */
static int tr_next(const calobj_t *co, calstore_id_t coll, calstore_id_t id,
                   int *i, tr_item_t *it)
{
    const calstore_span_t *sp = co->spans, *first;
    apr_int64_t end;
    int j, n, last;

    while (*i < co->nspans && span_is_long(&sp[*i])) {
        (*i)++;
    }
    if (*i >= co->nspans) {
        return 0;
    }
    first = &sp[*i];
    end = first->end;
    it->maxdur = span_dur(first);
    n = 1;
    last = *i;
    if (co->flags & CALSTORE_CALOBJ_RUNS) {
        for (j = *i + 1; j < co->nspans && n < CALSTORE_RUN_SPANS; j++) {
            apr_int64_t e;

            if (span_is_long(&sp[j])) {
                continue;
            }
            e = sp[j].end > end ? sp[j].end : end;
            if ((apr_uint64_t)e - (apr_uint64_t)first->start
                > CALSTORE_RUN_MAX) {
                break;
            }
            end = e;
            if (span_dur(&sp[j]) > it->maxdur) {
                it->maxdur = span_dur(&sp[j]);
            }
            n++;
            last = j;
        }
    }
    span_val(it->val, first, co);
    it->vlen = CALSTORE_SPAN_VAL;
    tr_key(it->key, coll, first, id);
    if (n > 1) {
        unsigned char *p = it->val + CALSTORE_SPAN_VAL;

        it->key[8] = CALSTORE_RUN_CLASS;
        calstore_put_be64(it->val, (apr_uint64_t)end);
        for (j = *i; j <= last; j++) {
            if (!span_is_long(&sp[j])) {
                /* both fit: the run is at most CALSTORE_RUN_MAX long, a
                 * short span at most CALSTORE_LONG_INSTANCE */
                calstore_put_be32(p, (apr_uint32_t)(sp[j].start
                                                    - first->start));
                calstore_put_be32(p + 4, (apr_uint32_t)span_dur(&sp[j]));
                p += CALSTORE_RUN_SPAN;
            }
        }
        it->vlen = (apr_size_t)(p - it->val);
    }
    *i = last + 1;
    return 1;
}

/* The value of an 'L' ('H') edge: the component byte + be64(first start)
 * (be64(last end)) of the whole set: the unlisted instances lie in
 * [first, win_from] ([win_until, last]). */
static void edge_val(unsigned char *v, int kind, const calobj_t *co)
{
    v[0] = (unsigned char)(co->comp & CALSTORE_RES_COMP_MASK);
    calstore_put_be64(v + 1, (apr_uint64_t)(kind == CALSTORE_EDGE_BEFORE
                                            ? co->first : co->last));
}

static apr_status_t cal_index(calstore_t *st, DB_TXN *txn, node_ref_t *coll,
                              calstore_id_t id, const char *name,
                              apr_size_t nlen, const calobj_t *co,
                              apr_pool_t *pool)
{
    unsigned char k[CALSTORE_EDGE_KEY], k8[8], v[16], *rec, *uk;
    apr_size_t size, usize;
    apr_uint64_t maxdur = coll->rec.maxdur;
    apr_status_t rv;
    tr_item_t it;
    int i;

    calstore_put_be64(k8, id);
    rec = calobj_encode(co, &size, pool);
    uk = uid_key(coll->rec.id, co->uid, co->uid_len, &usize, pool);
    if ((rv = put_kv(st, st->calobj, txn, k8, 8, rec, size,
                     "writing a calendar object")) != APR_SUCCESS
        || (rv = put_kv(st, st->uid, txn, uk, usize, name, nlen,
                        "writing a UID entry")) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < co->nspans; i++) {
        const calstore_span_t *sp = &co->spans[i];

        if (span_is_long(sp)) {
            span_val(v, sp, co);
            long_key(k, coll->rec.id, sp, co->comp, id);
            if ((rv = put_kv(st, st->tredge, txn, k, CALSTORE_LONG_KEY, v,
                             CALSTORE_SPAN_VAL, "writing a long instance"))
                != APR_SUCCESS) {
                return rv;
            }
        }
    }
    i = 0;
    while (tr_next(co, coll->rec.id, id, &i, &it)) {
        if ((rv = put_kv(st, st->tr, txn, it.key, CALSTORE_TR_KEY, it.val,
                         it.vlen, "writing a time-range entry"))
            != APR_SUCCESS) {
            return rv;
        }
        if (it.maxdur > maxdur) {
            maxdur = it.maxdur;
        }
    }
    if (co->flags & CALSTORE_CALOBJ_BEFORE) {
        edge_key(k, coll->rec.id, CALSTORE_EDGE_BEFORE, co, id);
        edge_val(v, CALSTORE_EDGE_BEFORE, co);
        if ((rv = put_kv(st, st->tredge, txn, k, CALSTORE_EDGE_KEY, v,
                         CALSTORE_EDGE_VAL, "writing a window edge"))
            != APR_SUCCESS) {
            return rv;
        }
    }
    if (co->flags & CALSTORE_CALOBJ_AFTER) {
        edge_key(k, coll->rec.id, CALSTORE_EDGE_AFTER, co, id);
        edge_val(v, CALSTORE_EDGE_AFTER, co);
        if ((rv = put_kv(st, st->tredge, txn, k, CALSTORE_EDGE_KEY, v,
                         CALSTORE_EDGE_VAL, "writing a window edge"))
            != APR_SUCCESS) {
            return rv;
        }
    }
    coll->rec.maxdur = maxdur;
    return APR_SUCCESS;
}

/* Remove the index entries of calendar object 'id' of calendar 'coll' (as
 * described by its record 'co') and, if 'drop', the record itself. */
static apr_status_t cal_unindex(calstore_t *st, DB_TXN *txn,
                                calstore_id_t coll, calstore_id_t id,
                                const calobj_t *co, int drop,
                                apr_pool_t *pool)
{
    unsigned char k[CALSTORE_EDGE_KEY], *uk;
    apr_size_t usize;
    apr_status_t rv;
    tr_item_t it;
    int i;

    uk = uid_key(coll, co->uid, co->uid_len, &usize, pool);
    if ((rv = del_key(st, st->uid, txn, uk, usize, "deleting a UID entry"))
        != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < co->nspans; i++) {
        const calstore_span_t *sp = &co->spans[i];

        if (span_is_long(sp)) {
            long_key(k, coll, sp, co->comp, id);
            if ((rv = del_key(st, st->tredge, txn, k, CALSTORE_LONG_KEY,
                              "deleting a long instance")) != APR_SUCCESS) {
                return rv;
            }
        }
    }
    i = 0;
    while (tr_next(co, coll, id, &i, &it)) {
        if ((rv = del_key(st, st->tr, txn, it.key, CALSTORE_TR_KEY,
                          "deleting a time-range entry")) != APR_SUCCESS) {
            return rv;
        }
    }
    if (co->flags & CALSTORE_CALOBJ_BEFORE) {
        edge_key(k, coll, CALSTORE_EDGE_BEFORE, co, id);
        if ((rv = del_key(st, st->tredge, txn, k, CALSTORE_EDGE_KEY,
                          "deleting a window edge")) != APR_SUCCESS) {
            return rv;
        }
    }
    if (co->flags & CALSTORE_CALOBJ_AFTER) {
        edge_key(k, coll, CALSTORE_EDGE_AFTER, co, id);
        if ((rv = del_key(st, st->tredge, txn, k, CALSTORE_EDGE_KEY,
                          "deleting a window edge")) != APR_SUCCESS) {
            return rv;
        }
    }
    if (drop) {
        calstore_put_be64(k, id);
        rv = del_key(st, st->calobj, txn, k, 8,
                     "deleting a calendar object");
    }
    return rv;
}

/* If resource 'id' (a member of 'coll') has a calendar object record,
 * remove it and its index entries. */
static apr_status_t cal_drop(calstore_t *st, DB_TXN *txn, calstore_id_t coll,
                             calstore_id_t id, apr_pool_t *pool)
{
    calobj_t co;
    apr_status_t rv = get_calobj(st, txn, id, DB_RMW, &co, pool);

    if (rv == CALSTORE_ENOENT) {
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return cal_unindex(st, txn, coll, id, &co, 1, pool);
}

/* Every index entry of calendar collection 'coll' (its members' records
 * are removed with the members). */
static apr_status_t cal_drop_collection(calstore_t *st, DB_TXN *txn,
                                        calstore_id_t coll)
{
    apr_status_t rv;

    if ((rv = del_prefix(st, st->uid, txn, coll)) != APR_SUCCESS
        || (rv = del_prefix(st, st->tr, txn, coll)) != APR_SUCCESS) {
        return rv;
    }
    return del_prefix(st, st->tredge, txn, coll);
}

/* May an object with the UID of 'co' become member 'name' of calendar
 * 'coll'?  The UID entry is read with DB_RMW.  No conflict when it names
 * 'name' itself (the resource being replaced) or 'also' (the source of a
 * MOVE within the calendar).  On a conflict *conflict is the other
 * member's name, from 'pool'. */
static apr_status_t uid_check(calstore_t *st, DB_TXN *txn, calstore_id_t coll,
                              const calobj_t *co, const char *name,
                              apr_size_t nlen, const char *also,
                              apr_size_t also_len, const char **conflict,
                              apr_pool_t *pool, apr_pool_t *scratch)
{
    unsigned char *uk;
    apr_size_t usize;
    DBT key, val;
    int ret, same;

    uk = uid_key(coll, co->uid, co->uid_len, &usize, scratch);
    dbt_in(&key, uk, usize);
    dbt_malloc(&val);
    ret = st->uid->get(st->uid, txn, &key, &val, DB_RMW);
    if (ret == DB_NOTFOUND) {
        return APR_SUCCESS;
    }
    if (ret != 0) {
        return calstore__db_status(st, ret, "reading a UID entry");
    }
    same = (val.size == nlen && memcmp(val.data, name, nlen) == 0)
           || (also != NULL && val.size == also_len
               && memcmp(val.data, also, also_len) == 0);
    if (same) {
        free(val.data);
        return APR_SUCCESS;
    }
    *conflict = dbt_take(&val, pool);
    return CALSTORE_EUIDCONFLICT;
}

/* ---- the change log ------------------------------------------------------ */

static void change_key(unsigned char *k, calstore_id_t coll,
                       apr_uint64_t seq)
{
    calstore_put_be64(k, coll);
    calstore_put_be64(k + 8, seq);
}

/* Read an 8-byte value (a chindex entry or a watermark).  APR_SUCCESS,
 * CALSTORE_ENOENT, CALSTORE_ECORRUPT or an error. */
static apr_status_t get_u64(calstore_t *st, DB *db, DB_TXN *txn,
                            const void *k, apr_size_t ksize, u_int32_t flags,
                            apr_uint64_t *out, calstore_id_t coll)
{
    unsigned char buf[8];
    DBT key, val;
    int ret;

    dbt_in(&key, k, ksize);
    memset(&val, 0, sizeof(val));
    val.data = buf;
    val.ulen = sizeof(buf);
    val.flags = DB_DBT_USERMEM;
    ret = db->get(db, txn, &key, &val, flags);
    if (ret == DB_NOTFOUND) {
        return CALSTORE_ENOENT;
    }
    if (ret == DB_BUFFER_SMALL || (ret == 0 && val.size != 8)) {
        return corrupt("change index entry of collection", coll);
    }
    if (ret != 0) {
        return calstore__db_status(st, ret, "reading the change index");
    }
    *out = calstore_get_be64(buf);
    return APR_SUCCESS;
}

/* The watermark of collection 'coll' (0 if it was never pruned). */
static apr_status_t get_watermark(calstore_t *st, DB_TXN *txn,
                                  calstore_id_t coll, u_int32_t flags,
                                  apr_uint64_t *w)
{
    unsigned char k[8];
    apr_status_t rv;

    calstore_put_be64(k, coll);
    rv = get_u64(st, st->chindex, txn, k, 8, flags, w, coll);
    if (rv == CALSTORE_ENOENT) {
        *w = 0;
        rv = APR_SUCCESS;
    }
    return rv;
}

/* Log that member 'name' of collection 'dir' was added or changed ('A') or
 * removed ('R'): bump dir's revision and modified time (in memory only:
 * the caller writes dir's record), delete the name's previous entry and
 * append the new one under seq = the new revision. */
static apr_status_t log_change(calstore_t *st, DB_TXN *txn, node_ref_t *dir,
                               int op, const char *name, apr_size_t nlen,
                               apr_time_t now, apr_pool_t *pool)
{
    unsigned char ck[CALSTORE_CHANGE_KEY], v8[8], *ik, *v;
    apr_size_t iksize;
    apr_uint64_t old;
    apr_status_t rv;

    dir->rec.revision++;
    dir->rec.modified = now;
    ik = node_key(dir->rec.id, name, nlen, &iksize, pool);  /* same shape */
    rv = get_u64(st, st->chindex, txn, ik, iksize, DB_RMW, &old,
                 dir->rec.id);
    if (rv == APR_SUCCESS) {
        change_key(ck, dir->rec.id, old);
        rv = del_key(st, st->changes, txn, ck, CALSTORE_CHANGE_KEY,
                     "deleting a change");
    }
    else if (rv == CALSTORE_ENOENT) {
        rv = APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    change_key(ck, dir->rec.id, dir->rec.revision);
    v = apr_palloc(pool, CALSTORE_CHANGE_FIXED + nlen);
    v[0] = (unsigned char)op;
    calstore_put_be64(v + 1, (apr_uint64_t)now);
    memcpy(v + CALSTORE_CHANGE_FIXED, name, nlen);
    calstore_put_be64(v8, dir->rec.revision);
    if ((rv = put_kv(st, st->changes, txn, ck, CALSTORE_CHANGE_KEY, v,
                     CALSTORE_CHANGE_FIXED + nlen, "logging a change"))
        != APR_SUCCESS) {
        return rv;
    }
    return put_kv(st, st->chindex, txn, ik, iksize, v8, 8,
                  "indexing a change");
}

/* Log one change of member 'name' of collection 'dir' and write dir's
 * record (its revision and modified time). */
static apr_status_t bump(calstore_t *st, DB_TXN *txn, node_ref_t *dir,
                         int op, const char *name, apr_size_t nlen,
                         apr_time_t now, apr_pool_t *pool)
{
    apr_status_t rv = log_change(st, txn, dir, op, name, nlen, now, pool);

    return rv == APR_SUCCESS ? put_node(st, txn, dir, pool) : rv;
}

/* Drop the whole log, change index and watermark of collection 'coll'. */
static apr_status_t drop_log(calstore_t *st, DB_TXN *txn, calstore_id_t coll)
{
    apr_status_t rv = del_prefix(st, st->changes, txn, coll);

    return rv == APR_SUCCESS ? del_prefix(st, st->chindex, txn, coll) : rv;
}

/* Remove what is keyed by node id 'id': byid entry, body, calendar object
 * record, properties. */
static apr_status_t purge_id(calstore_t *st, DB_TXN *txn, calstore_id_t id)
{
    unsigned char k[8];
    apr_status_t rv;

    calstore_put_be64(k, id);
    if ((rv = del_key(st, st->byid, txn, k, 8, "deleting byid"))
        != APR_SUCCESS
        || (rv = del_key(st, st->bodies, txn, k, 8, "deleting a body"))
           != APR_SUCCESS
        || (rv = del_key(st, st->calobj, txn, k, 8,
                         "deleting a calendar object")) != APR_SUCCESS) {
        return rv;
    }
    return del_prefix(st, st->props, txn, id);
}

/* Delete node 'top' and, for a collection, its whole subtree.  Iterative
 * (an explicit stack of collection ids), members in batches.  Calendar
 * data goes too: a calendar object's record and index entries, every index
 * entry of a calendar collection (by its id prefix); so does the change
 * log of every collection deleted.  Does not touch the parent's record
 * (nor log the removal there). */
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
        != APR_SUCCESS) {
        return rv;
    }
    if (top->rec.kind != CALSTORE_KIND_COLLECTION) {
        /* A calendar object: its entries in its calendar's indexes. */
        if ((rv = cal_drop(st, txn, top->parent, top->rec.id, pool))
            != APR_SUCCESS) {
            return rv;
        }
        return purge_id(st, txn, top->rec.id);
    }
    if ((rv = purge_id(st, txn, top->rec.id)) != APR_SUCCESS
        || (rv = drop_log(st, txn, top->rec.id)) != APR_SUCCESS
        || ((top->rec.flags & CALSTORE_COLL_CALENDAR)
            && (rv = cal_drop_collection(st, txn, top->rec.id))
               != APR_SUCCESS)) {
        return rv;
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
                    rv = drop_log(st, txn, m->rec.id);
                    if (rv == APR_SUCCESS
                        && (m->rec.flags & CALSTORE_COLL_CALENDAR)) {
                        rv = cal_drop_collection(st, txn, m->rec.id);
                    }
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

/* Create a copy of 'src' (record, body, properties; not members, no
 * calendar data) as member 'name' of collection 'parent', with a fresh id,
 * node flags 'flags' and maxdur 'maxdur'. */
static apr_status_t copy_node(calstore_t *st, DB_TXN *txn,
                              const node_ref_t *src, calstore_id_t parent,
                              const char *name, apr_size_t nlen,
                              apr_uint32_t flags, apr_uint64_t maxdur,
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
    out->rec.flags = flags;
    out->rec.maxdur = maxdur;
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
    node_ref_t *to;             /* the copy (its record is rewritten if
                                   copying a calendar raises its maxdur)  */
} id_pair_t;

/* Copy all members of collection 'from' below collection 'to' (already
 * written), recursively, iteratively (explicit stack), in batches.  The
 * members of a calendar collection take their calendar data along, indexed
 * under their new ids in the copy. */
static apr_status_t copy_members(calstore_t *st, DB_TXN *txn,
                                 calstore_id_t from, node_ref_t *to,
                                 apr_time_t now, apr_pool_t *pool)
{
    apr_array_header_t *stack, *members;
    apr_pool_t *iterpool;
    char after[CALSTORE_NAME_MAX + 1];
    apr_size_t after_len = 0;
    apr_uint64_t maxdur, revision;
    int have_after, is_cal, i;
    id_pair_t pair, *pp;
    node_ref_t *m, copy;
    calobj_t co;
    apr_status_t rv = APR_SUCCESS;

    stack = apr_array_make(pool, 16, sizeof(id_pair_t));
    pair.from = from;
    pair.to = to;
    APR_ARRAY_PUSH(stack, id_pair_t) = pair;
    apr_pool_create(&iterpool, pool);
    while (rv == APR_SUCCESS && stack->nelts > 0) {
        pair = *(id_pair_t *)apr_array_pop(stack);
        is_cal = (pair.to->rec.flags & CALSTORE_COLL_CALENDAR) != 0;
        maxdur = pair.to->rec.maxdur;
        revision = pair.to->rec.revision;
        have_after = 0;
        do {
            apr_pool_clear(iterpool);
            rv = read_members(st, txn, pair.from,
                              have_after ? after : NULL, after_len,
                              CALSTORE_BATCH, 0, &members, iterpool);
            for (i = 0; rv == APR_SUCCESS && i < members->nelts; i++) {
                m = &APR_ARRAY_IDX(members, i, node_ref_t);
                rv = copy_node(st, txn, m, pair.to->rec.id, m->name, m->nlen,
                               m->rec.flags, m->rec.maxdur, now, &copy,
                               iterpool);
                if (rv == APR_SUCCESS) {
                    /* Every member of the copy is in its log. */
                    rv = log_change(st, txn, pair.to, CALSTORE_CHANGE_ADD,
                                    m->name, m->nlen, now, iterpool);
                }
                if (rv == APR_SUCCESS && is_cal
                    && m->rec.kind == CALSTORE_KIND_RESOURCE) {
                    rv = get_calobj(st, txn, m->rec.id, 0, &co, iterpool);
                    if (rv == CALSTORE_ENOENT) {
                        rv = corrupt("calendar member without its record",
                                     m->rec.id);
                    }
                    if (rv == APR_SUCCESS) {
                        rv = cal_index(st, txn, pair.to, copy.rec.id,
                                       m->name, m->nlen, &co, iterpool);
                    }
                }
                if (rv == APR_SUCCESS
                    && m->rec.kind == CALSTORE_KIND_COLLECTION) {
                    pp = apr_array_push(stack);
                    pp->from = m->rec.id;
                    pp->to = apr_pmemdup(pool, &copy, sizeof(copy));
                    pp->to->name = apr_pstrmemdup(pool, m->name, m->nlen);
                    if (copy.rec.ctype_len) {
                        pp->to->rec.ctype = apr_pmemdup(pool, copy.rec.ctype,
                                                        copy.rec.ctype_len);
                    }
                }
            }
            if (rv == APR_SUCCESS && members->nelts > 0) {
                m = &APR_ARRAY_IDX(members, members->nelts - 1, node_ref_t);
                memcpy(after, m->name, m->nlen);
                after_len = m->nlen;
                have_after = 1;
            }
        } while (rv == APR_SUCCESS && members->nelts == CALSTORE_BATCH);
        if (rv == APR_SUCCESS && (pair.to->rec.maxdur != maxdur
                                  || pair.to->rec.revision != revision)) {
            rv = put_node(st, txn, pair.to, iterpool);
        }
    }
    apr_pool_destroy(iterpool);
    return rv;
}

/* ---- lookup ------------------------------------------------------------- */

typedef struct lookup_baton_t {
    path_t path;
    calstore_node_t *node;
    calstore_node_t *parent;    /* if want_parent                           */
    int want_parent;
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
    b->parent = NULL;
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
        if (b->want_parent) {
            b->parent = make_node(&dir, b->pool);
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

apr_status_t calstore_lookup_ex(calstore_t *st, const char *path,
                                calstore_node_t **node,
                                calstore_node_t **parent, apr_pool_t *pool)
{
    lookup_baton_t b;
    apr_status_t rv;

    *node = NULL;
    if (parent) {
        *parent = NULL;
    }
    memset(&b, 0, sizeof(b));
    b.pool = pool;
    b.want_parent = parent != NULL;
    if ((rv = parse_path(path, &b.path, pool)) != APR_SUCCESS) {
        return rv;
    }
    rv = calstore__run(st, CALSTORE__TXN_SNAPSHOT, lookup_txn, &b, pool);
    if (rv == APR_SUCCESS || rv == CALSTORE_ENOENT) {
        if (rv == APR_SUCCESS) {
            *node = b.node;
        }
        if (parent) {
            *parent = b.parent;
        }
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
    rv = calstore__run(st, CALSTORE__TXN_SNAPSHOT, lookup_txn, &b, pool);
    if (rv == APR_SUCCESS) {
        *node = b.node;
    }
    else if (rv == CALSTORE_ENOENT && parent_exists) {
        *parent_exists = b.parent_exists;
    }
    return rv;
}

/* ---- lookup by id -------------------------------------------------------- */

static apr_status_t get_by_id(calstore_t *st, DB_TXN *txn, calstore_id_t id,
                              node_ref_t *ref, apr_pool_t *pool);

typedef struct byid_baton_t {
    calstore_id_t id;
    calstore_node_t *node;
    const char *path;
    apr_pool_t *pool;
} byid_baton_t;

static apr_status_t get_node_txn(calstore_t *st, DB_TXN *txn, void *baton,
                                 apr_pool_t *scratch)
{
    byid_baton_t *b = baton;
    node_ref_t ref;
    calstore_id_t at;
    const char *path = "";
    int depth = 0;
    apr_status_t rv;

    if ((rv = get_by_id(st, txn, b->id, &ref, scratch)) != APR_SUCCESS) {
        return rv;
    }
    b->node = make_node(&ref, b->pool);
    /* the path: names up to the root */
    for (at = b->id; at != CALSTORE_ROOT_ID; ) {
        calstore_id_t parent;
        const char *name;
        apr_size_t nlen;

        if (++depth > 10000) {          /* no real tree is that deep */
            return corrupt("node path (cycle)", b->id);
        }
        rv = get_byid(st, txn, at, &parent, &name, &nlen, scratch);
        if (rv != APR_SUCCESS) {
            return rv == CALSTORE_ENOENT ? CALSTORE_ECORRUPT : rv;
        }
        path = *path ? apr_pstrcat(b->pool, apr_pstrmemdup(b->pool, name,
                                                           nlen),
                                   "/", path, NULL)
                     : apr_pstrmemdup(b->pool, name, nlen);
        at = parent;
    }
    b->path = path;
    return APR_SUCCESS;
}

apr_status_t calstore_get_node(calstore_t *st, calstore_id_t id,
                               calstore_node_t **node, const char **path,
                               apr_pool_t *pool)
{
    byid_baton_t b;
    apr_status_t rv;

    memset(&b, 0, sizeof(b));
    b.id = id;
    b.pool = pool;
    *node = NULL;
    if (path) {
        *path = NULL;
    }
    if (id == 0) {
        return CALSTORE_ENOENT;
    }
    rv = calstore__run(st, 0, get_node_txn, &b, pool);
    if (rv == APR_SUCCESS) {
        *node = b.node;
        if (path) {
            *path = b.path;
        }
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
    const calobj_t *co;         /* calendar data for the target (put_ex:
                                   'cal'; copy/move_ex: 'dst_cal'), or NULL */
    apr_uint32_t flags;         /* mkcol_ex                                 */
    const apr_array_header_t *props;    /* mkcol_ex                         */
    int depth;
    int overwrite;
    int created;
    const char *conflict;       /* EUIDCONFLICT: the other member's name    */
    const calstore_node_t *parent;  /* put_in: the parent, already resolved */
    calstore_node_t *result;
    apr_pool_t *pool;
} write_baton_t;

static int is_calendar(const node_ref_t *ref)
{
    return ref->rec.kind == CALSTORE_KIND_COLLECTION
           && (ref->rec.flags & CALSTORE_COLL_CALENDAR) != 0;
}

/* Write-lock the record of collection 'dir' (read earlier without a lock)
 * and refresh 'dir' from it, keeping a 'maxdur' raised since the read:
 * CALSTORE_ENOPARENT when that collection is gone or its name now belongs
 * to another node. */
static apr_status_t lock_parent(calstore_t *st, DB_TXN *txn, node_ref_t *dir,
                                apr_pool_t *pool)
{
    node_ref_t now;
    apr_status_t rv;

    rv = get_member(st, txn, dir->parent, dir->name, dir->nlen, DB_RMW, &now,
                    pool);
    if (rv == CALSTORE_ENOENT
        || (rv == APR_SUCCESS && now.rec.id != dir->rec.id)) {
        return CALSTORE_ENOPARENT;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (dir->rec.maxdur > now.rec.maxdur) {
        now.rec.maxdur = dir->rec.maxdur;
    }
    *dir = now;
    return APR_SUCCESS;
}

static apr_status_t put_txn(calstore_t *st, DB_TXN *txn, void *baton,
                            apr_pool_t *scratch)
{
    write_baton_t *b = baton;
    int n = b->path.n, exists, cal;
    node_ref_t dir, node;
    unsigned char k[8];
    DBT key, val;
    apr_time_t now;
    apr_status_t rv;

    /* The parent is read without a lock here and write-locked last,
     * just before the commit (lock_parent): concurrent writers into one
     * collection then hold its record's lock only for that instant, not
     * for their whole transaction.  The member's own entry, its UID entry
     * (a calendar) and everything keyed by its id are locked as they are
     * written; two writers of one name or one UID still serialise on
     * those (DB_RMW), and a parent deleted or replaced meanwhile is
     * caught when it is locked. */
    if (b->parent != NULL) {
        /* calstore_put_in: the parent the request looked up, read again by
         * its key (one read instead of one per path segment); gone or
         * replaced since is CALSTORE_ENOPARENT, and the caller runs the put
         * again from the root. */
        rv = get_member(st, txn, b->parent->parent, b->parent->name,
                        strlen(b->parent->name), DB_READ_COMMITTED, &dir,
                        scratch);
        if (rv == CALSTORE_ENOENT
            || (rv == APR_SUCCESS
                && (dir.rec.id != b->parent->id
                    || dir.rec.kind != CALSTORE_KIND_COLLECTION))) {
            return CALSTORE_ENOPARENT;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    else if ((rv = resolve_dir(st, txn, &b->path, n - 1, 0, &dir, scratch))
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
    cal = is_calendar(&dir);
    if (cal) {
        if (b->co == NULL) {
            return CALSTORE_ENOTCALOBJ;
        }
        if ((rv = uid_check(st, txn, dir.rec.id, b->co, b->path.seg[n - 1],
                            b->path.len[n - 1], NULL, 0, &b->conflict,
                            b->pool, scratch)) != APR_SUCCESS) {
            return rv;
        }
        /* The entries of the version being replaced (its UID may
         * change); its record is overwritten below. */
        if (exists) {
            calobj_t old;

            rv = get_calobj(st, txn, node.rec.id, DB_RMW, &old, scratch);
            if (rv == APR_SUCCESS) {
                rv = cal_unindex(st, txn, dir.rec.id, node.rec.id, &old, 0,
                                 scratch);
            }
            if (rv != APR_SUCCESS && rv != CALSTORE_ENOENT) {
                return rv;
            }
        }
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
    node.rec.flags = cal ? (b->co->comp & CALSTORE_RES_COMP_MASK) : 0;
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
                                  "writing a body")) != APR_SUCCESS) {
        return rv;
    }
    if (cal
        && (rv = cal_index(st, txn, &dir, node.rec.id, node.name, node.nlen,
                           b->co, scratch)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = lock_parent(st, txn, &dir, scratch)) != APR_SUCCESS
        || (rv = bump(st, txn, &dir, CALSTORE_CHANGE_ADD, node.name,
                      node.nlen, now, scratch)) != APR_SUCCESS) {
        return rv;
    }
    b->created = !exists;
    b->result = make_node(&node, b->pool);
    return APR_SUCCESS;
}

/* Check the arguments of a put and fill 'b' ('co' receives the encoded
 * 'cal'); shared by calstore_put_ex() and calstore_batch_put(). */
static apr_status_t put_args(write_baton_t *b, calobj_t *co,
                             const char *path, const char *content_type,
                             const char *data, apr_size_t len,
                             const calstore_cond_t *cond,
                             const calstore_calinfo_t *cal,
                             apr_pool_t *pool)
{
    apr_status_t rv;

    memset(b, 0, sizeof(*b));
    if ((rv = parse_path(path, &b->path, pool)) != APR_SUCCESS) {
        return rv;
    }
    if (b->path.n == 0) {
        return CALSTORE_EISCOLL;
    }
    if ((data == NULL && len > 0) || len > 0xFFFFFFFFu) {
        return CALSTORE_EINVAL;
    }
    if (content_type != NULL && *content_type != '\0') {
        b->ctype = content_type;
        b->ctype_len = strlen(content_type);
        if (b->ctype_len > CALSTORE_CTYPE_MAX) {
            return CALSTORE_EINVAL;
        }
    }
    if (cal != NULL) {
        /* Checked here although only used when the parent turns out to be
         * a calendar: a bad argument is a caller bug either way. */
        if ((rv = calobj_from_info(cal, co, pool)) != APR_SUCCESS) {
            return rv;
        }
        b->co = co;
    }
    b->data = data;
    b->len = len;
    b->cond = cond;
    b->pool = pool;
    return APR_SUCCESS;
}

apr_status_t calstore_put_ex(calstore_t *st, const char *path,
                             const char *content_type,
                             const char *data, apr_size_t len,
                             const calstore_cond_t *cond,
                             const calstore_calinfo_t *cal,
                             const char **conflict,
                             calstore_node_t **result, int *created,
                             apr_pool_t *pool)
{
    return calstore_put_in(st, NULL, path, content_type, data, len, cond, cal,
                           conflict, result, created, pool);
}

apr_status_t calstore_put_in(calstore_t *st, const calstore_node_t *parent,
                             const char *path, const char *content_type,
                             const char *data, apr_size_t len,
                             const calstore_cond_t *cond,
                             const calstore_calinfo_t *cal,
                             const char **conflict,
                             calstore_node_t **result, int *created,
                             apr_pool_t *pool)
{
    write_baton_t b;
    calobj_t co;
    apr_status_t rv;
    int n, hint;

    if (result) {
        *result = NULL;
    }
    if (created) {
        *created = 0;
    }
    if (conflict) {
        *conflict = NULL;
    }
    if ((rv = put_args(&b, &co, path, content_type, data, len, cond, cal,
                       pool)) != APR_SUCCESS) {
        return rv;
    }
    /* Only a collection whose name is the path's next-to-last segment
     * (the root for a top-level resource) is taken as the parent. */
    n = b.path.n;
    hint = parent != NULL && parent->kind == CALSTORE_KIND_COLLECTION
           && (n == 1 ? parent->id == CALSTORE_ROOT_ID
                      : (strlen(parent->name) == b.path.len[n - 2]
                         && memcmp(parent->name, b.path.seg[n - 2],
                                   b.path.len[n - 2]) == 0));
    rv = CALSTORE_ENOPARENT;
    if (hint) {
        b.parent = parent;
        rv = calstore__run(st, CALSTORE__TXN_WRITE, put_txn, &b, pool);
        b.parent = NULL;
    }
    if (rv == CALSTORE_ENOPARENT) {
        /* No usable parent, or it is gone or was replaced meanwhile. */
        rv = calstore__run(st, CALSTORE__TXN_WRITE, put_txn, &b, pool);
    }
    if (rv == APR_SUCCESS) {
        if (result) {
            *result = b.result;
        }
        if (created) {
            *created = b.created;
        }
    }
    else if (rv == CALSTORE_EUIDCONFLICT && conflict) {
        *conflict = b.conflict;
    }
    return rv;
}

apr_status_t calstore_put(calstore_t *st, const char *path,
                          const char *content_type,
                          const char *data, apr_size_t len,
                          const calstore_cond_t *cond,
                          calstore_node_t **result, int *created,
                          apr_pool_t *pool)
{
    return calstore_put_ex(st, path, content_type, data, len, cond, NULL,
                           NULL, result, created, pool);
}

/* ---- batches: several puts in one transaction --------------------------- */

struct calstore_batch_t {
    calstore_t *st;
    DB_TXN *txn;
    apr_status_t failed;        /* what spoiled the batch, or APR_SUCCESS  */
};

typedef struct batch_baton_t {
    calstore_batch_fn *fn;
    void *baton;
} batch_baton_t;

static apr_status_t batch_txn(calstore_t *st, DB_TXN *txn, void *baton,
                              apr_pool_t *scratch)
{
    batch_baton_t *bb = baton;
    calstore_batch_t batch;
    apr_status_t rv;

    batch.st = st;
    batch.txn = txn;
    batch.failed = APR_SUCCESS;
    rv = bb->fn(&batch, bb->baton, scratch);
    /* A spoiled batch never commits, whatever the callback says; a
     * deadlock (CALSTORE__RETRY*) reaches calstore__run, which retries. */
    return batch.failed != APR_SUCCESS ? batch.failed : rv;
}

apr_status_t calstore_batch(calstore_t *st, calstore_batch_fn *fn,
                            void *baton, apr_pool_t *pool)
{
    batch_baton_t bb;

    if (fn == NULL) {
        return CALSTORE_EINVAL;
    }
    bb.fn = fn;
    bb.baton = baton;
    return calstore__run(st, 1, batch_txn, &bb, pool);
}

/* May the batch go on after 'rv'?  Only for refusals that put_txn and
 * uid_lookup_txn return before they write anything. */
static int batch_refusal(apr_status_t rv)
{
    return rv == CALSTORE_EINVAL || rv == CALSTORE_ENOPARENT
           || rv == CALSTORE_EISCOLL || rv == CALSTORE_ECHANGED
           || rv == CALSTORE_ENOTCALOBJ || rv == CALSTORE_EUIDCONFLICT
           || rv == CALSTORE_ENOENT;
}

apr_status_t calstore_batch_put(calstore_batch_t *batch, const char *path,
                                const char *content_type,
                                const char *data, apr_size_t len,
                                const calstore_cond_t *cond,
                                const calstore_calinfo_t *cal,
                                const char **conflict,
                                calstore_node_t **result, int *created,
                                apr_pool_t *pool)
{
    write_baton_t b;
    calobj_t co;
    apr_status_t rv;

    if (result) {
        *result = NULL;
    }
    if (created) {
        *created = 0;
    }
    if (conflict) {
        *conflict = NULL;
    }
    if (batch->failed != APR_SUCCESS) {
        return batch->failed;
    }
    if ((rv = put_args(&b, &co, path, content_type, data, len, cond, cal,
                       pool)) != APR_SUCCESS) {
        return rv;
    }
    rv = put_txn(batch->st, batch->txn, &b, pool);
    if (rv == APR_SUCCESS) {
        if (result) {
            *result = b.result;
        }
        if (created) {
            *created = b.created;
        }
    }
    else if (rv == CALSTORE_EUIDCONFLICT) {
        if (conflict) {
            *conflict = b.conflict;
        }
    }
    else if (!batch_refusal(rv)) {
        batch->failed = rv;
    }
    return rv;
}

static int prop_name_ok(const char *ns, const char *name);
static unsigned char *prop_key(calstore_id_t id, const char *ns,
                               const char *name, apr_size_t *size,
                               apr_pool_t *pool);

static apr_status_t mkcol_txn(calstore_t *st, DB_TXN *txn, void *baton,
                              apr_pool_t *scratch)
{
    write_baton_t *b = baton;
    int n = b->path.n, i;
    node_ref_t dir, node;
    const calstore_prop_t *p;
    unsigned char *k;
    apr_size_t ksize;
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
    if (is_calendar(&dir)) {
        return CALSTORE_ENESTED;
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
    node.rec.flags = b->flags;
    node.rec.created = node.rec.modified = now;
    node.rec.revision = 1;
    if ((rv = put_node(st, txn, &node, scratch)) != APR_SUCCESS
        || (rv = put_byid(st, txn, node.rec.id, node.parent, node.name,
                          node.nlen, scratch)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; b->props && i < b->props->nelts; i++) {
        p = &APR_ARRAY_IDX(b->props, i, calstore_prop_t);
        k = prop_key(node.rec.id, p->ns, p->name, &ksize, scratch);
        if ((rv = put_kv(st, st->props, txn, k, ksize, p->value, p->len,
                         "writing a property")) != APR_SUCCESS) {
            return rv;
        }
    }
    if ((rv = bump(st, txn, &dir, CALSTORE_CHANGE_ADD, node.name, node.nlen,
                   now, scratch)) != APR_SUCCESS) {
        return rv;
    }
    b->result = make_node(&node, b->pool);
    return APR_SUCCESS;
}

apr_status_t calstore_mkcol_ex(calstore_t *st, const char *path,
                               apr_uint32_t flags,
                               const apr_array_header_t *props,
                               calstore_node_t **result, apr_pool_t *pool)
{
    write_baton_t b;
    const calstore_prop_t *p;
    apr_status_t rv;
    int i;

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
    if ((flags & ~(CALSTORE_COLL_CALENDAR | CALSTORE_COLL_CALLER_MASK)) != 0
        || (props != NULL && props->elt_size != sizeof(calstore_prop_t))) {
        return CALSTORE_EINVAL;
    }
    for (i = 0; props && i < props->nelts; i++) {
        p = &APR_ARRAY_IDX(props, i, calstore_prop_t);
        if (!prop_name_ok(p->ns, p->name) || p->value == NULL
            || p->len > 0xFFFFFFFFu) {
            return CALSTORE_EINVAL;
        }
    }
    b.flags = flags;
    b.props = props;
    b.pool = pool;
    rv = calstore__run(st, 1, mkcol_txn, &b, pool);
    if (rv == APR_SUCCESS && result) {
        *result = b.result;
    }
    return rv;
}

apr_status_t calstore_mkcol(calstore_t *st, const char *path,
                            calstore_node_t **result, apr_pool_t *pool)
{
    return calstore_mkcol_ex(st, path, 0, NULL, result, pool);
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
    return bump(st, txn, &dir, CALSTORE_CHANGE_REMOVE, node.name, node.nlen,
                apr_time_now(), scratch);
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

/* May 'src' (a member of 'sdir') land in 'ddir'?  No collection in a
 * calendar; a resource in a calendar needs calendar data. */
static apr_status_t check_landing(const write_baton_t *b,
                                  const node_ref_t *sdir,
                                  const node_ref_t *src,
                                  const node_ref_t *ddir)
{
    if (!is_calendar(ddir)) {
        return APR_SUCCESS;
    }
    if (src->rec.kind == CALSTORE_KIND_COLLECTION) {
        return CALSTORE_ENESTED;
    }
    if (b->co == NULL && !is_calendar(sdir)) {
        return CALSTORE_ENOTCALOBJ;
    }
    return APR_SUCCESS;
}

/* Common first half of COPY and MOVE: resolve both ends (write-locked),
 * apply the overwrite and calendar rules, delete an existing
 * destination. */
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
        return check_landing(b, sdir, src, ddir);
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
    if ((rv = check_landing(b, sdir, src, ddir)) != APR_SUCCESS) {
        return rv;
    }
    return delete_tree(st, txn, &dst, scratch);
}

/* The calendar data resource 'src' (a member of 'sdir') takes to its
 * destination in 'ddir': NULL when 'ddir' is not a calendar, else the
 * caller's dst_cal, else its own record, read into 'own' (resolve_src_dst
 * made sure one of them exists). */
static apr_status_t landing_calobj(calstore_t *st, DB_TXN *txn,
                                   const write_baton_t *b,
                                   const node_ref_t *src,
                                   const node_ref_t *ddir, calobj_t *own,
                                   const calobj_t **co, apr_pool_t *scratch)
{
    apr_status_t rv;

    *co = NULL;
    if (!is_calendar(ddir)) {
        return APR_SUCCESS;
    }
    if (b->co != NULL) {
        *co = b->co;
        return APR_SUCCESS;
    }
    rv = get_calobj(st, txn, src->rec.id, 0, own, scratch);
    if (rv == CALSTORE_ENOENT) {
        return corrupt("calendar member without its record", src->rec.id);
    }
    if (rv == APR_SUCCESS) {
        *co = own;
    }
    return rv;
}

static apr_status_t copy_txn(calstore_t *st, DB_TXN *txn, void *baton,
                             apr_pool_t *scratch)
{
    write_baton_t *b = baton;
    int dn = b->dst.n;
    node_ref_t sdir, src, ddir, copy;
    const calobj_t *co;
    calobj_t own;
    apr_time_t now;
    apr_status_t rv;

    b->created = 0;
    if ((rv = resolve_src_dst(st, txn, b, &sdir, &src, &ddir, scratch))
        != APR_SUCCESS) {
        return rv;
    }
    now = apr_time_now();
    if (src.rec.kind == CALSTORE_KIND_COLLECTION) {
        /* A calendar stays a calendar; without members its maxdur
         * starts again at 0. */
        if ((rv = copy_node(st, txn, &src, ddir.rec.id, b->dst.seg[dn - 1],
                            b->dst.len[dn - 1], src.rec.flags,
                            b->depth != 0 ? src.rec.maxdur : 0, now, &copy,
                            scratch)) != APR_SUCCESS) {
            return rv;
        }
        if (b->depth != 0
            && (rv = copy_members(st, txn, src.rec.id, &copy, now, scratch))
               != APR_SUCCESS) {
            return rv;
        }
    }
    else {
        if ((rv = landing_calobj(st, txn, b, &src, &ddir, &own, &co,
                                 scratch)) != APR_SUCCESS
            || (co != NULL
                && (rv = uid_check(st, txn, ddir.rec.id, co,
                                   b->dst.seg[dn - 1], b->dst.len[dn - 1],
                                   NULL, 0, &b->conflict, b->pool, scratch))
                   != APR_SUCCESS)) {
            return rv;
        }
        if ((rv = copy_node(st, txn, &src, ddir.rec.id, b->dst.seg[dn - 1],
                            b->dst.len[dn - 1],
                            co ? (co->comp & CALSTORE_RES_COMP_MASK) : 0, 0,
                            now, &copy, scratch)) != APR_SUCCESS
            || (co != NULL
                && (rv = cal_index(st, txn, &ddir, copy.rec.id, copy.name,
                                   copy.nlen, co, scratch))
                   != APR_SUCCESS)) {
            return rv;
        }
    }
    if ((rv = bump(st, txn, &ddir, CALSTORE_CHANGE_ADD, copy.name, copy.nlen,
                   now, scratch)) != APR_SUCCESS) {
        return rv;
    }
    b->result = make_node(&copy, b->pool);
    return APR_SUCCESS;
}

static apr_status_t move_txn(calstore_t *st, DB_TXN *txn, void *baton,
                             apr_pool_t *scratch)
{
    write_baton_t *b = baton;
    int dn = b->dst.n, same = 0;
    node_ref_t sdir, src, ddir;
    const calobj_t *co = NULL;
    const char *old_name;
    apr_size_t old_nlen;
    calobj_t old;
    apr_size_t ksize;
    unsigned char *k;
    apr_time_t now;
    apr_status_t rv;
    int had_cal = 0;

    b->created = 0;
    if ((rv = resolve_src_dst(st, txn, b, &sdir, &src, &ddir, scratch))
        != APR_SUCCESS) {
        return rv;
    }
    same = (sdir.rec.id == ddir.rec.id);
    if (src.rec.kind == CALSTORE_KIND_RESOURCE) {
        /* Calendar data: checked at the destination, taken out of the
         * source's indexes, put into the destination's (a calendar
         * collection itself moves with its indexes, keyed by its id). */
        if (is_calendar(&sdir)) {
            rv = get_calobj(st, txn, src.rec.id, DB_RMW, &old, scratch);
            if (rv != APR_SUCCESS && rv != CALSTORE_ENOENT) {
                return rv;
            }
            had_cal = (rv == APR_SUCCESS);
        }
        if (is_calendar(&ddir)) {
            co = b->co ? b->co : had_cal ? &old : NULL;
            if (co == NULL) {
                return corrupt("calendar member without its record",
                               src.rec.id);
            }
            if ((rv = uid_check(st, txn, ddir.rec.id, co, b->dst.seg[dn - 1],
                                b->dst.len[dn - 1], same ? src.name : NULL,
                                same ? src.nlen : 0, &b->conflict, b->pool,
                                scratch)) != APR_SUCCESS) {
                return rv;
            }
        }
        if (had_cal
            && (rv = cal_unindex(st, txn, sdir.rec.id, src.rec.id, &old,
                                 co == NULL, scratch)) != APR_SUCCESS) {
            return rv;
        }
        src.rec.flags = co ? (co->comp & CALSTORE_RES_COMP_MASK) : 0;
    }
    /* Re-key the node only: its members, body, properties and change log
     * are keyed by its id, which does not change. */
    old_name = src.name;
    old_nlen = src.nlen;
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
    if (co != NULL
        && (rv = cal_index(st, txn, &ddir, src.rec.id, src.name, src.nlen,
                           co, scratch)) != APR_SUCCESS) {
        return rv;
    }
    /* A rename within one collection logs both names in it (sdir is
     * then only a stale copy of ddir's record). */
    if ((rv = log_change(st, txn, same ? &ddir : &sdir,
                         CALSTORE_CHANGE_REMOVE, old_name, old_nlen, now,
                         scratch)) != APR_SUCCESS
        || (!same && (rv = put_node(st, txn, &sdir, scratch)) != APR_SUCCESS)
        || (rv = bump(st, txn, &ddir, CALSTORE_CHANGE_ADD, src.name,
                      src.nlen, now, scratch)) != APR_SUCCESS) {
        return rv;
    }
    b->result = make_node(&src, b->pool);
    return APR_SUCCESS;
}

static apr_status_t copy_or_move(calstore_t *st, const char *src,
                                 const char *dst, int depth, int overwrite,
                                 const calstore_calinfo_t *dst_cal,
                                 const char **conflict,
                                 calstore__txn_fn *fn,
                                 calstore_node_t **result, apr_pool_t *pool)
{
    write_baton_t b;
    calobj_t co;
    apr_status_t rv;

    if (result) {
        *result = NULL;
    }
    if (conflict) {
        *conflict = NULL;
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
    if (dst_cal != NULL) {
        if ((rv = calobj_from_info(dst_cal, &co, pool)) != APR_SUCCESS) {
            return rv;
        }
        b.co = &co;
    }
    b.depth = depth;
    b.overwrite = overwrite;
    b.pool = pool;
    rv = calstore__run(st, 1, fn, &b, pool);
    if (rv == APR_SUCCESS && result) {
        *result = b.result;
    }
    else if (rv == CALSTORE_EUIDCONFLICT && conflict) {
        *conflict = b.conflict;
    }
    return rv;
}

apr_status_t calstore_copy_ex(calstore_t *st, const char *src,
                              const char *dst, int depth, int overwrite,
                              const calstore_calinfo_t *dst_cal,
                              const char **conflict,
                              calstore_node_t **result, apr_pool_t *pool)
{
    if (depth != 0 && depth != -1) {
        if (result) {
            *result = NULL;
        }
        if (conflict) {
            *conflict = NULL;
        }
        return CALSTORE_EINVAL;
    }
    return copy_or_move(st, src, dst, depth, overwrite, dst_cal, conflict,
                        copy_txn, result, pool);
}

apr_status_t calstore_move_ex(calstore_t *st, const char *src,
                              const char *dst, int overwrite,
                              const calstore_calinfo_t *dst_cal,
                              const char **conflict,
                              calstore_node_t **result, apr_pool_t *pool)
{
    return copy_or_move(st, src, dst, -1, overwrite, dst_cal, conflict,
                        move_txn, result, pool);
}

apr_status_t calstore_copy(calstore_t *st, const char *src, const char *dst,
                           int depth, int overwrite,
                           calstore_node_t **result, apr_pool_t *pool)
{
    return calstore_copy_ex(st, src, dst, depth, overwrite, NULL, NULL,
                            result, pool);
}

apr_status_t calstore_move(calstore_t *st, const char *src, const char *dst,
                           int overwrite, calstore_node_t **result,
                           apr_pool_t *pool)
{
    return calstore_move_ex(st, src, dst, overwrite, NULL, NULL, result,
                            pool);
}

/* ---- calendar queries --------------------------------------------------- */

apr_uint64_t calstore__test_visited;
int calstore__test_no_runs;

/* Index entries read per query transaction at most (so that a query whose
 * entries are mostly duplicates or filtered out still commits now and
 * then), and candidates per batch. */
#define CALSTORE_QUERY_SCAN   4096

/* Read node 'id' (through byid).  APR_SUCCESS, CALSTORE_ENOENT. */
static apr_status_t get_by_id(calstore_t *st, DB_TXN *txn, calstore_id_t id,
                              node_ref_t *ref, apr_pool_t *pool)
{
    calstore_id_t parent;
    const char *name;
    apr_size_t nlen;
    apr_status_t rv;

    if ((rv = get_byid(st, txn, id, &parent, &name, &nlen, pool))
        != APR_SUCCESS) {
        return rv;
    }
    rv = get_member(st, txn, parent, name, nlen, 0, ref, pool);
    if (rv == CALSTORE_ENOENT || (rv == APR_SUCCESS && ref->rec.id != id)) {
        return corrupt("byid record pointing elsewhere", id);
    }
    return rv;
}

/* A set of ids (never 0) with open addressing; grows at half load. */
typedef struct idset_t {
    apr_uint64_t *slot;
    apr_size_t mask;
    apr_size_t n;
} idset_t;

static void idset_init(idset_t *s, apr_size_t cap, apr_pool_t *pool)
{
    s->slot = apr_pcalloc(pool, cap * sizeof(*s->slot));
    s->mask = cap - 1;
    s->n = 0;
}

static apr_size_t idset_pos(const idset_t *s, apr_uint64_t id)
{
    apr_size_t i = (apr_size_t)((id * APR_UINT64_C(0x9E3779B97F4A7C15))
                                >> 20) & s->mask;

    while (s->slot[i] != 0 && s->slot[i] != id) {
        i = (i + 1) & s->mask;
    }
    return i;
}

static int idset_has(const idset_t *s, apr_uint64_t id)
{
    return s->slot[idset_pos(s, id)] == id;
}

/* Add 'id'; returns 1 if it was new. */
static int idset_add(idset_t *s, apr_uint64_t id, apr_pool_t *pool)
{
    apr_size_t i = idset_pos(s, id), j;
    idset_t bigger;

    if (s->slot[i] == id) {
        return 0;
    }
    s->slot[i] = id;
    if (++s->n * 2 > s->mask + 1) {
        idset_init(&bigger, (s->mask + 1) * 2, pool);
        for (j = 0; j <= s->mask; j++) {
            if (s->slot[j] != 0) {
                bigger.slot[idset_pos(&bigger, s->slot[j])] = s->slot[j];
            }
        }
        bigger.n = s->n;
        *s = bigger;
    }
    return 1;
}

/* One object handed to the callback. */
typedef struct found_t {
    calstore_node_t *node;
    const void *record;
    apr_size_t len;
    int proven;                 /* an index entry proved the overlap: no
                                   record was read                         */
} found_t;

/* Read the candidates 'ids' (members of 'coll' whose kind is in
 * 'comp_mask') into 'out' (found_t); vanished ones are skipped.  For the
 * candidates whose 'proven' flag (a char per id; the array may be NULL) is
 * set, the record is not read. */
static apr_status_t read_found(calstore_t *st, DB_TXN *txn,
                               calstore_id_t coll, apr_uint32_t comp_mask,
                               const apr_array_header_t *ids,
                               const apr_array_header_t *proven,
                               apr_array_header_t *out, apr_pool_t *pool)
{
    calstore_id_t id, parent;
    const char *name;
    apr_size_t nlen;
    node_ref_t ref;
    found_t *f;
    const void *blob;
    apr_size_t len;
    apr_status_t rv;
    int i;

    for (i = 0; i < ids->nelts; i++) {
        id = APR_ARRAY_IDX(ids, i, calstore_id_t);
        rv = get_byid(st, txn, id, &parent, &name, &nlen, pool);
        if (rv == CALSTORE_ENOENT || (rv == APR_SUCCESS && parent != coll)) {
            continue;           /* deleted or moved meanwhile */
        }
        if (rv == APR_SUCCESS) {
            rv = get_member(st, txn, parent, name, nlen, 0, &ref, pool);
        }
        if (rv == CALSTORE_ENOENT) {
            continue;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (ref.rec.id != id || ref.rec.kind != CALSTORE_KIND_RESOURCE
            || (comp_mask != 0
                && !(ref.rec.flags & comp_mask & CALSTORE_RES_COMP_MASK))) {
            continue;
        }
        if (proven && APR_ARRAY_IDX(proven, i, char)) {
            f = apr_array_push(out);
            f->node = make_node(&ref, pool);
            f->record = NULL;
            f->len = 0;
            f->proven = 1;
            continue;
        }
        rv = get_calobj_blob(st, txn, id, &blob, &len, pool);
        if (rv == CALSTORE_ENOENT) {
            continue;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        f = apr_array_push(out);
        f->node = make_node(&ref, pool);
        f->record = blob;
        f->len = len;
        f->proven = 0;
    }
    return APR_SUCCESS;
}

static apr_status_t call_found(const apr_array_header_t *found,
                               calstore_obj_cb *cb, calstore_obj_cb *proven,
                               void *baton, apr_pool_t *scratch)
{
    const found_t *f;
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; rv == APR_SUCCESS && i < found->nelts; i++) {
        f = &APR_ARRAY_IDX(found, i, found_t);
        apr_pool_clear(scratch);
        rv = (f->proven ? proven : cb)(baton, f->node, f->record, f->len,
                                      scratch);
    }
    return rv;
}

/* The scan of a query walks through these phases, each a key range. */
typedef enum {
    Q_TR,           /* tr class k: start in [qs - max_k, qe], end >= qs  */
    Q_LONG_FIND,    /* tredge 'G': find the next (component, class)
                       present, among the components the query wants   */
    Q_LONG,         /* tredge 'G' component c, class k: start in
                       [qs - max_k, qe], end >= qs                       */
    Q_BEFORE,       /* tredge 'L': boundary >= qs, first <= qe: of each
                       boundary the leading edges, then a jump to the
                       next boundary                                     */
    Q_AFTER,        /* tredge 'H': boundary <= qe, last >= qs: of each
                       boundary a jump to its edges from qs on           */
    Q_DONE
} qphase_e;

/* Where the scan stands; the transaction works on a copy, which the
 * caller keeps only once the transaction committed (a retried transaction
 * starts again from the last committed position). */
typedef struct qpos_t {
    qphase_e phase;
    int comp;                   /* Q_LONG_FIND / Q_LONG: component byte    */
    int cls;                    /* Q_TR, Q_LONG_FIND / Q_LONG: class        */
    unsigned char resume[CALSTORE_EDGE_KEY + 1]; /* first key still to
                                   read in this phase: a key read + "\0",
                                   or where a jump was going            */
    apr_size_t resume_len;      /* 0: from the phase's start              */
} qpos_t;

typedef struct query_baton_t {
    calstore_id_t coll;
    apr_int64_t qs, qe;
    apr_uint32_t comp_mask;
    int first;
    qpos_t pos;                 /* committed position                      */
    qpos_t next;                /* position after this transaction         */
    idset_t seen;               /* ids reported or skipped so far          */
    int prove;                  /* look for entries that prove an overlap  */
    apr_array_header_t *ids;    /* new candidates of this transaction      */
    apr_array_header_t *proven; /* char per id: an entry proved it         */
    apr_array_header_t *found;  /* found_t                                 */
    apr_pool_t *pool;           /* 'seen' lives here                       */
    apr_pool_t *batchpool;
} query_baton_t;

/* t - d, saturated at the smallest time. */
static apr_int64_t time_sub(apr_int64_t t, apr_uint64_t d)
{
    apr_uint64_t room = (apr_uint64_t)t - (apr_uint64_t)APR_INT64_MIN;

    return d >= room ? APR_INT64_MIN : (apr_int64_t)((apr_uint64_t)t - d);
}

/* The smallest component byte >= 'from' whose 'G' entries a query for
 * 'mask' reads, or -1 if there is none: with 'mask' 0 every byte, else
 * each kind of the mask (a component byte is one calcore_comp_e kind, a
 * single bit of the low byte). */
static int long_comp_next(apr_uint32_t mask, int from)
{
    int bit;

    if (mask == 0) {
        return from <= 255 ? from : -1;
    }
    for (bit = 1; bit <= 0x80; bit <<= 1) {
        if (bit >= from && (mask & (apr_uint32_t)bit) != 0) {
            return bit;
        }
    }
    return -1;
}

/* Move 'q' to the 'G' entries of component byte 'comp' or, if 'comp' is
 * negative (no wanted component left), past the 'G' entries. */
static void long_enter(qpos_t *q, int comp)
{
    q->resume_len = 0;
    q->cls = 0;
    if (comp < 0) {
        q->phase = Q_BEFORE;
    }
    else {
        q->phase = Q_LONG_FIND;
        q->comp = comp;
    }
}

/* Does the value 'v' of an index entry read in a phase with filter 'filter'
 * (1: a span, end >= qs; 2: a before edge, first <= qe; 3: an after edge,
 * last >= qs) call for its object?  The component byte must also meet the
 * query's mask. */
static int entry_wanted(const query_baton_t *b, int filter,
                        const unsigned char *v)
{
    unsigned comp;

    switch (filter) {
    case 1:
        comp = v[8] & CALSTORE_SPAN_KIND;
        if ((apr_int64_t)calstore_get_be64(v) < b->qs) {
            return 0;
        }
        break;
    case 2:
        comp = v[0];
        if ((apr_int64_t)calstore_get_be64(v + 1) > b->qe) {
            return 0;
        }
        break;
    case 3:
        comp = v[0];
        if ((apr_int64_t)calstore_get_be64(v + 1) < b->qs) {
            return 0;
        }
        break;
    default:
        return 1;
    }
    return b->comp_mask == 0 || (comp & b->comp_mask) != 0;
}

/* Does the exact VEVENT span [start, end] prove by itself that its object
 * overlaps [qs, qe) (RFC 4791 9.9)?  Core's rule for a VEVENT instance,
 * INTERVAL with a duration, POINT without. */
static int span_proves(const query_baton_t *b, apr_int64_t start,
                       apr_int64_t end)
{
    calcore_instance_t in;

    memset(&in, 0, sizeof(in));
    in.start = start;
    in.end = end;
    in.rule = end > start ? CALCORE_TR_INTERVAL : CALCORE_TR_POINT;
    return calcore_instance_overlaps(&in, b->qs, b->qe);
}

/* Does the tr / 'G' entry of a span starting at 'start' with value 'v'
 * prove so?  Only an exact VEVENT span can (CALSTORE_SPAN_EXACT). */
static int entry_proves(const query_baton_t *b, apr_int64_t start,
                        const unsigned char *v)
{
    return (v[8] & CALSTORE_SPAN_EXACT)
           && span_proves(b, start, (apr_int64_t)calstore_get_be64(v));
}

/* Does one of the spans of the run starting at 'start' with value 'v'
 * ('size' bytes) reach [qs, qe] (closed at both ends, as for any entry)?
 * If so and the query wants proofs (b->prove), *proves tells whether one of
 * them proves by itself that the object overlaps [qs, qe) (span_proves(),
 * for an exact run). */
static int run_hit(const query_baton_t *b, apr_int64_t start,
                   const unsigned char *v, apr_size_t size, int *proves)
{
    const unsigned char *p = v + CALSTORE_SPAN_VAL, *end = v + size;
    int exact = b->prove && (v[8] & CALSTORE_SPAN_EXACT), hit = 0;

    *proves = 0;
    for (; p < end; p += CALSTORE_RUN_SPAN) {
        apr_int64_t s = start + (apr_int64_t)calstore_get_be32(p);
        apr_int64_t e = s + (apr_int64_t)calstore_get_be32(p + 4);

        if (s > b->qe) {
            break;              /* the spans are in start order */
        }
        if (e >= b->qs) {
            hit = 1;
            if (!exact || (*proves = span_proves(b, s, e))) {
                break;          /* nothing more to learn from this run */
            }
        }
    }
    return hit;
}

/* Advance 'q' (b->next) through the current phase: read index entries from
 * its resume point until the phase's range ends (then move to the next
 * phase), CALSTORE_BATCH new candidates were found, or '*budget' entries
 * were read.  In Q_BEFORE / Q_AFTER an entry whose set does not reach the
 * range is followed by a jump (DB_SET_RANGE): in 'L' to the next window
 * boundary (the rest of this one reaches no further), in 'H' to this
 * boundary's first edge that reaches the range; so each boundary costs
 * one or two reads plus its matches. */
static apr_status_t query_scan(calstore_t *st, DB_TXN *txn,
                               query_baton_t *b, idset_t *local,
                               int *budget, apr_pool_t *scratch)
{
    qpos_t *q = &b->next;
    unsigned char lo[CALSTORE_EDGE_KEY + 1], hi[CALSTORE_EDGE_KEY + 1];
    unsigned char jump[CALSTORE_EDGE_KEY];
    apr_size_t lolen, hilen, keylen, vallen, jumplen;
    int filter = 0, run = 0, proves, ret, t_ret, done = 0;
    apr_uint64_t visited = 0;
    apr_status_t rv = APR_SUCCESS;
    calstore_id_t obj;
    DB *db = st->tredge;
    DBC *c = NULL;
    DBT key, val;

    calstore_put_be64(lo, b->coll);
    calstore_put_be64(hi, b->coll);
    switch (q->phase) {
    case Q_TR:
        db = st->tr;
        lo[8] = hi[8] = (unsigned char)q->cls;
        calstore_put_ord64(lo + 9,
                           time_sub(b->qs, calstore_tr_class_reach(q->cls)));
        calstore_put_ord64(hi + 9, b->qe);
        lolen = hilen = 17;
        keylen = CALSTORE_TR_KEY;
        vallen = CALSTORE_SPAN_VAL;
        filter = 1;
        run = q->cls == CALSTORE_RUN_CLASS;
        break;
    case Q_LONG_FIND:
        lo[8] = CALSTORE_EDGE_LONG;
        lo[9] = (unsigned char)q->comp;
        lo[10] = (unsigned char)q->cls;
        lolen = 11;
        hi[8] = CALSTORE_EDGE_LONG;
        hilen = 9;
        keylen = CALSTORE_LONG_KEY;
        vallen = CALSTORE_SPAN_VAL;
        break;
    case Q_LONG:
        lo[8] = hi[8] = CALSTORE_EDGE_LONG;
        lo[9] = hi[9] = (unsigned char)q->comp;
        lo[10] = hi[10] = (unsigned char)q->cls;
        calstore_put_ord64(lo + 11,
                           time_sub(b->qs, calstore_long_class_max(q->cls)));
        calstore_put_ord64(hi + 11, b->qe);
        lolen = hilen = 19;
        keylen = CALSTORE_LONG_KEY;
        vallen = CALSTORE_SPAN_VAL;
        filter = 1;
        break;
    case Q_BEFORE:
        lo[8] = hi[8] = CALSTORE_EDGE_BEFORE;
        calstore_put_ord64(lo + 9, b->qs);
        lolen = 17;
        hilen = 9;
        keylen = CALSTORE_EDGE_KEY;
        vallen = CALSTORE_EDGE_VAL;
        filter = 2;
        break;
    case Q_AFTER:
        lo[8] = hi[8] = CALSTORE_EDGE_AFTER;
        lolen = 9;
        calstore_put_ord64(hi + 9, b->qe);
        hilen = 17;
        keylen = CALSTORE_EDGE_KEY;
        vallen = CALSTORE_EDGE_VAL;
        filter = 3;
        break;
    default:
        return APR_SUCCESS;
    }
    if (q->resume_len) {
        memcpy(lo, q->resume, q->resume_len);
        lolen = q->resume_len;
    }
    if ((ret = db->cursor(db, txn, &c, 0)) != 0) {
        return calstore__db_status(st, ret, "query cursor");
    }
    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));
    key.flags = val.flags = DB_DBT_REALLOC;
    if ((key.data = malloc(lolen)) == NULL) {
        c->close(c);
        return APR_ENOMEM;
    }
    memcpy(key.data, lo, lolen);
    key.size = (u_int32_t)lolen;
    ret = c->get(c, &key, &val, DB_SET_RANGE);
    while (ret == 0) {
        const unsigned char *kd;

        /* Every read that returns an entry counts, positioning reads
         * (DB_SET_RANGE) as well as steps. */
        visited++;
        (*budget)--;
        jumplen = 0;
        if (key.size < hilen || memcmp(key.data, hi, hilen) > 0) {
            done = 1;
            break;
        }
        if (key.size != keylen
            || (run ? !calstore_run_val_ok(val.size) : val.size != vallen)) {
            rv = corrupt("calendar index key in collection", b->coll);
            break;
        }
        if (q->phase == Q_LONG_FIND) {
            /* The next (component, class) present.  Its component is at
             * least q->comp; if it is one the query wants (always so when
             * it is q->comp), scan that class; if not, no wanted component
             * below it has any entry: look again from the next wanted one
             * after it, if any. */
            int kc = ((unsigned char *)key.data)[9];
            int want = long_comp_next(b->comp_mask, kc);

            if (want == kc) {
                q->comp = kc;
                q->cls = ((unsigned char *)key.data)[10];
                q->phase = Q_LONG;
                q->resume_len = 0;
            }
            else {
                long_enter(q, want);
            }
            break;
        }
        kd = key.data;
        if (q->phase == Q_BEFORE
            && calstore_get_ord64(kd + 17) > b->qe) {
            /* The edges of one win_from W sort by their first start: from
             * here on, this W's sets all begin after qe.  On to the next
             * W (W + 1 as a time; none after the largest). */
            apr_int64_t w = calstore_get_ord64(kd + 9);

            if (w == APR_INT64_MAX) {
                done = 1;
                break;
            }
            memcpy(jump, kd, 9);
            calstore_put_ord64(jump + 9, w + 1);
            jumplen = 17;
        }
        else if (q->phase == Q_AFTER
                 && calstore_get_ord64(kd + 17) < b->qs) {
            /* The edges of one win_until W sort by their last end: skip to
             * this W's first edge whose set reaches qs (or, if none, to
             * the next W's first edge). */
            memcpy(jump, kd, 17);
            calstore_put_ord64(jump + 17, b->qs);
            jumplen = 25;
        }
        obj = calstore_get_be64(kd + keylen - 8);
        proves = 0;
        if (jumplen == 0 && entry_wanted(b, filter, val.data)
            && (!run || run_hit(b, calstore_get_ord64(kd + 9), val.data,
                                val.size, &proves))
            && !idset_has(&b->seen, obj) && idset_add(local, obj, scratch)) {
            APR_ARRAY_PUSH(b->ids, calstore_id_t) = obj;
            /* the span's start precedes the object id in the key */
            APR_ARRAY_PUSH(b->proven, char) = (char)(
                b->prove && filter == 1
                && (run ? proves
                        : entry_proves(b, (apr_int64_t)calstore_get_ord64(
                                              (unsigned char *)key.data
                                              + keylen - 16), val.data)));
        }
        if (b->ids->nelts >= CALSTORE_BATCH || *budget <= 0) {
            if (jumplen) {
                /* the next transaction makes the jump */
                memcpy(q->resume, jump, jumplen);
                q->resume_len = jumplen;
                break;
            }
            /* key + "\0" is the smallest key after key. */
            if (key.size + 1 > sizeof(q->resume)) {
                rv = corrupt("calendar index key in collection", b->coll);
                break;
            }
            memcpy(q->resume, key.data, key.size);
            q->resume[key.size] = '\0';
            q->resume_len = key.size + 1;
            break;
        }
        if (jumplen) {
            /* key.data holds keylen >= jumplen bytes */
            memcpy(key.data, jump, jumplen);
            key.size = (u_int32_t)jumplen;
            ret = c->get(c, &key, &val, DB_SET_RANGE);
        }
        else {
            ret = c->get(c, &key, &val, DB_NEXT);
        }
    }
    if (ret == DB_NOTFOUND) {
        ret = 0;
        done = 1;
    }
    t_ret = c->close(c);
    free(key.data);
    free(val.data);
    __atomic_add_fetch(&calstore__test_visited, visited, __ATOMIC_RELAXED);
    if (ret == 0) {
        ret = t_ret;
    }
    if (rv == APR_SUCCESS && ret != 0) {
        rv = calstore__db_status(st, ret, "query");
    }
    if (rv == APR_SUCCESS && done) {
        q->resume_len = 0;
        switch (q->phase) {
        case Q_TR:
            if (++q->cls >= CALSTORE_TR_CLASSES) {
                long_enter(q, long_comp_next(b->comp_mask, 0));
            }
            break;
        case Q_LONG:
            q->phase = Q_LONG_FIND;
            if (++q->cls > 255) {
                long_enter(q, long_comp_next(b->comp_mask, q->comp + 1));
            }
            break;
        case Q_LONG_FIND:
            q->phase = Q_BEFORE;
            break;
        case Q_BEFORE:
            q->phase = Q_AFTER;
            break;
        default:
            q->phase = Q_DONE;
            break;
        }
    }
    return rv;
}

static apr_status_t query_range_txn(calstore_t *st, DB_TXN *txn, void *baton,
                                    apr_pool_t *scratch)
{
    query_baton_t *b = baton;
    int budget = CALSTORE_QUERY_SCAN;
    node_ref_t coll;
    idset_t local;
    apr_status_t rv;

    apr_pool_clear(b->batchpool);
    b->ids = apr_array_make(b->batchpool, CALSTORE_BATCH,
                            sizeof(calstore_id_t));
    b->proven = apr_array_make(b->batchpool, CALSTORE_BATCH, sizeof(char));
    b->found = apr_array_make(b->batchpool, CALSTORE_BATCH, sizeof(found_t));
    b->next = b->pos;
    if (b->first) {
        rv = get_by_id(st, txn, b->coll, &coll, scratch);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (coll.rec.kind != CALSTORE_KIND_COLLECTION) {
            return CALSTORE_ENOTCOLL;
        }
        if (!(coll.rec.flags & CALSTORE_COLL_CALENDAR)) {
            b->next.phase = Q_DONE;
        }
    }
    idset_init(&local, 512, scratch);
    while (b->next.phase != Q_DONE && b->ids->nelts < CALSTORE_BATCH
           && budget > 0) {
        if ((rv = query_scan(st, txn, b, &local, &budget, scratch))
            != APR_SUCCESS) {
            return rv;
        }
    }
    return read_found(st, txn, b->coll, b->comp_mask, b->ids, b->proven,
                      b->found, b->batchpool);
}

apr_status_t calstore_query_range(calstore_t *st, calstore_id_t coll,
                                  apr_int64_t start, apr_int64_t end,
                                  apr_uint32_t comp_mask,
                                  calstore_obj_cb *cb, void *baton,
                                  apr_pool_t *pool)
{
    return calstore_query_range_proven(st, coll, start, end, comp_mask, cb,
                                       NULL, baton, pool);
}

apr_status_t calstore_query_range_proven(calstore_t *st, calstore_id_t coll,
                                         apr_int64_t start, apr_int64_t end,
                                         apr_uint32_t comp_mask,
                                         calstore_obj_cb *cb,
                                         calstore_obj_cb *proven,
                                         void *baton, apr_pool_t *pool)
{
    query_baton_t b;
    apr_pool_t *qpool, *scratch;
    apr_status_t rv;
    int i;

    if (coll == 0 || cb == NULL || start > end) {
        return CALSTORE_EINVAL;
    }
    memset(&b, 0, sizeof(b));
    b.coll = coll;
    b.qs = start;
    b.qe = end;
    b.comp_mask = comp_mask;
    b.prove = proven != NULL;
    b.first = 1;
    b.pos.phase = Q_TR;
    apr_pool_create(&qpool, pool);
    apr_pool_create(&b.batchpool, qpool);
    apr_pool_create(&scratch, qpool);
    b.pool = qpool;
    idset_init(&b.seen, 256, qpool);
    for (;;) {
        /* The transaction (cursors, locks) ends inside calstore__run,
         * before any callback runs. */
        rv = calstore__run(st, 0, query_range_txn, &b, qpool);
        if (rv != APR_SUCCESS) {
            break;
        }
        b.first = 0;
        b.pos = b.next;
        for (i = 0; i < b.ids->nelts; i++) {
            idset_add(&b.seen, APR_ARRAY_IDX(b.ids, i, calstore_id_t), qpool);
        }
        rv = call_found(b.found, cb, proven, baton, scratch);
        if (rv != APR_SUCCESS || b.pos.phase == Q_DONE) {
            break;
        }
    }
    apr_pool_destroy(qpool);
    return rv;
}

typedef struct query_all_baton_t {
    calstore_id_t coll;
    apr_uint32_t comp_mask;
    int first;
    int done;
    const char *after;
    apr_size_t after_len;
    char last[CALSTORE_NAME_MAX + 1];
    apr_size_t last_len;
    apr_array_header_t *found;
    apr_pool_t *batchpool;
} query_all_baton_t;

static apr_status_t query_all_txn(calstore_t *st, DB_TXN *txn, void *baton,
                                  apr_pool_t *scratch)
{
    query_all_baton_t *b = baton;
    apr_array_header_t *members, *ids;
    node_ref_t coll, *m;
    apr_status_t rv;
    int i;

    apr_pool_clear(b->batchpool);
    b->found = apr_array_make(b->batchpool, CALSTORE_BATCH, sizeof(found_t));
    b->done = 1;
    if (b->first) {
        if ((rv = get_by_id(st, txn, b->coll, &coll, scratch))
            != APR_SUCCESS) {
            return rv;
        }
        if (coll.rec.kind != CALSTORE_KIND_COLLECTION) {
            return CALSTORE_ENOTCOLL;
        }
        if (!(coll.rec.flags & CALSTORE_COLL_CALENDAR)) {
            return APR_SUCCESS;
        }
    }
    if ((rv = read_members(st, txn, b->coll, b->after, b->after_len,
                           CALSTORE_BATCH, 0, &members, scratch))
        != APR_SUCCESS) {
        return rv;
    }
    ids = apr_array_make(scratch, members->nelts, sizeof(calstore_id_t));
    for (i = 0; i < members->nelts; i++) {
        m = &APR_ARRAY_IDX(members, i, node_ref_t);
        if (m->rec.kind == CALSTORE_KIND_RESOURCE) {
            APR_ARRAY_PUSH(ids, calstore_id_t) = m->rec.id;
        }
    }
    if (members->nelts == CALSTORE_BATCH) {
        m = &APR_ARRAY_IDX(members, members->nelts - 1, node_ref_t);
        memcpy(b->last, m->name, m->nlen);
        b->last_len = m->nlen;
        b->done = 0;
    }
    return read_found(st, txn, b->coll, b->comp_mask, ids, NULL, b->found,
                      b->batchpool);
}

apr_status_t calstore_query_all(calstore_t *st, calstore_id_t coll,
                                apr_uint32_t comp_mask,
                                calstore_obj_cb *cb, void *baton,
                                apr_pool_t *pool)
{
    query_all_baton_t b;
    char after[CALSTORE_NAME_MAX + 1];
    apr_pool_t *qpool, *scratch;
    apr_status_t rv;

    if (coll == 0 || cb == NULL) {
        return CALSTORE_EINVAL;
    }
    memset(&b, 0, sizeof(b));
    b.coll = coll;
    b.comp_mask = comp_mask;
    b.first = 1;
    apr_pool_create(&qpool, pool);
    apr_pool_create(&b.batchpool, qpool);
    apr_pool_create(&scratch, qpool);
    for (;;) {
        rv = calstore__run(st, 0, query_all_txn, &b, qpool);
        if (rv != APR_SUCCESS) {
            break;
        }
        b.first = 0;
        rv = call_found(b.found, cb, NULL, baton, scratch);
        if (rv != APR_SUCCESS || b.done) {
            break;
        }
        memcpy(after, b.last, b.last_len);
        b.after = after;
        b.after_len = b.last_len;
    }
    apr_pool_destroy(qpool);
    return rv;
}

typedef struct cal_get_baton_t {
    calstore_id_t id;
    const char *uid;
    const char *name;
    const void *record;
    apr_size_t len;
    apr_pool_t *pool;
} cal_get_baton_t;

static apr_status_t uid_lookup_txn(calstore_t *st, DB_TXN *txn, void *baton,
                                   apr_pool_t *scratch)
{
    cal_get_baton_t *b = baton;
    unsigned char *uk;
    apr_size_t usize;
    DBT key, val;
    int ret;

    uk = uid_key(b->id, b->uid, strlen(b->uid), &usize, scratch);
    dbt_in(&key, uk, usize);
    dbt_malloc(&val);
    ret = st->uid->get(st->uid, txn, &key, &val, 0);
    if (ret == DB_NOTFOUND) {
        return CALSTORE_ENOENT;
    }
    if (ret != 0) {
        return calstore__db_status(st, ret, "reading a UID entry");
    }
    b->name = dbt_take(&val, b->pool);
    return APR_SUCCESS;
}

apr_status_t calstore_uid_lookup(calstore_t *st, calstore_id_t coll,
                                 const char *uid, const char **name,
                                 apr_pool_t *pool)
{
    cal_get_baton_t b;
    apr_status_t rv;

    *name = NULL;
    if (uid == NULL) {
        return CALSTORE_EINVAL;
    }
    if (*uid == '\0' || strlen(uid) > CALSTORE_UID_MAX) {
        return CALSTORE_ENOENT;
    }
    memset(&b, 0, sizeof(b));
    b.id = coll;
    b.uid = uid;
    b.pool = pool;
    rv = calstore__run(st, 0, uid_lookup_txn, &b, pool);
    if (rv == APR_SUCCESS) {
        *name = b.name;
    }
    return rv;
}

apr_status_t calstore_batch_uid_lookup(calstore_batch_t *batch,
                                       calstore_id_t coll, const char *uid,
                                       const char **name, apr_pool_t *pool)
{
    cal_get_baton_t b;
    apr_status_t rv;

    *name = NULL;
    if (batch->failed != APR_SUCCESS) {
        return batch->failed;
    }
    if (uid == NULL) {
        return CALSTORE_EINVAL;
    }
    if (*uid == '\0' || strlen(uid) > CALSTORE_UID_MAX) {
        return CALSTORE_ENOENT;
    }
    memset(&b, 0, sizeof(b));
    b.id = coll;
    b.uid = uid;
    b.pool = pool;
    rv = uid_lookup_txn(batch->st, batch->txn, &b, pool);
    if (rv == APR_SUCCESS) {
        *name = b.name;
    }
    else if (rv != CALSTORE_ENOENT) {
        batch->failed = rv;
    }
    return rv;
}

static apr_status_t get_record_txn(calstore_t *st, DB_TXN *txn, void *baton,
                                   apr_pool_t *scratch)
{
    cal_get_baton_t *b = baton;

    return get_calobj_blob(st, txn, b->id, &b->record, &b->len, b->pool);
}

apr_status_t calstore_get_record(calstore_t *st, calstore_id_t id,
                                 const void **record, apr_size_t *len,
                                 apr_pool_t *pool)
{
    cal_get_baton_t b;
    apr_status_t rv;

    *record = NULL;
    *len = 0;
    memset(&b, 0, sizeof(b));
    b.id = id;
    b.pool = pool;
    rv = calstore__run(st, 0, get_record_txn, &b, pool);
    if (rv == APR_SUCCESS) {
        *record = b.record;
        *len = b.len;
    }
    return rv;
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

/* Write-lock node 'id' and its parent collection (in that order, like
 * every writer: parent first), and read them into *dir / *node.  The root
 * has no parent: *has_dir 0, and only its byid entry is read.  The node is
 * found through byid read without keeping a lock (a byid page lock held
 * while waiting for the parent would deadlock with writers creating nodes
 * on that page); a node that moved in between is looked up again. */
static apr_status_t lock_with_parent(calstore_t *st, DB_TXN *txn,
                                     calstore_id_t id, node_ref_t *dir,
                                     node_ref_t *node, int *has_dir,
                                     apr_pool_t *pool)
{
    calstore_id_t parent, grand;
    const char *name, *pname;
    apr_size_t nlen, pnlen;
    apr_status_t rv;
    int attempt;

    *has_dir = 0;
    for (attempt = 0; attempt < 4; attempt++) {
        if (id == CALSTORE_ROOT_ID) {
            /* Cannot be deleted or moved: the byid read is enough. */
            return get_byid(st, txn, id, &parent, &name, &nlen, pool);
        }
        if ((rv = get_byid_f(st, txn, id, DB_READ_COMMITTED, &parent, &name,
                             &nlen, pool)) != APR_SUCCESS
            || (rv = get_byid_f(st, txn, parent, DB_READ_COMMITTED, &grand,
                                &pname, &pnlen, pool)) != APR_SUCCESS) {
            if (rv == CALSTORE_ENOENT && attempt > 0) {
                continue;   /* the parent went while we looked */
            }
            return rv;
        }
        rv = get_member(st, txn, grand, pname, pnlen, DB_RMW, dir, pool);
        if (rv == CALSTORE_ENOENT
            || (rv == APR_SUCCESS && dir->rec.id != parent)) {
            continue;       /* the parent moved or went meanwhile */
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        rv = get_member(st, txn, parent, name, nlen, DB_RMW, node, pool);
        if (rv == CALSTORE_ENOENT
            || (rv == APR_SUCCESS && node->rec.id != id)) {
            continue;       /* moved away or deleted meanwhile */
        }
        if (rv == APR_SUCCESS) {
            *has_dir = 1;
        }
        return rv;
    }
    /* Still moving under us: a retry (with back-off) decides. */
    return CALSTORE__RETRY;
}

static apr_status_t prop_patch_txn(calstore_t *st, DB_TXN *txn, void *baton,
                                   apr_pool_t *scratch)
{
    prop_baton_t *b = baton;
    const calstore_prop_t *p;
    unsigned char *k;
    apr_size_t ksize;
    DBT key, val;
    node_ref_t dir, node;
    apr_status_t rv;
    int i, has_dir;

    /* The node must exist; the write locks on it and on its parent keep a
     * concurrent DELETE from leaving our properties behind, and order the
     * change in the parent's log. */
    if ((rv = lock_with_parent(st, txn, b->id, &dir, &node, &has_dir,
                               scratch)) != APR_SUCCESS) {
        return rv;
    }
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
    /* A change of the member for its parent (RFC 6578 3.2). */
    if (rv == APR_SUCCESS && has_dir && b->patch->nelts > 0) {
        rv = bump(st, txn, &dir, CALSTORE_CHANGE_ADD, node.name, node.nlen,
                  apr_time_now(), scratch);
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

/* ---- sync: reading and pruning the change log ---------------------------- */

/* Decode a change record.  0 or -1. */
static int change_decode(const DBT *key, const DBT *val, calstore_id_t *coll,
                         apr_uint64_t *seq, int *op, apr_time_t *when,
                         const char **name, apr_size_t *nlen)
{
    const unsigned char *v = val->data;
    apr_size_t n;

    if (key->size != CALSTORE_CHANGE_KEY
        || val->size <= CALSTORE_CHANGE_FIXED
        || val->size > CALSTORE_CHANGE_FIXED + CALSTORE_NAME_MAX
        || (v[0] != CALSTORE_CHANGE_ADD && v[0] != CALSTORE_CHANGE_REMOVE)) {
        return -1;
    }
    n = val->size - CALSTORE_CHANGE_FIXED;
    if (memchr(v + CALSTORE_CHANGE_FIXED, '/', n)
        || memchr(v + CALSTORE_CHANGE_FIXED, '\0', n)) {
        return -1;
    }
    *coll = calstore_get_be64(key->data);
    *seq = calstore_get_be64((const unsigned char *)key->data + 8);
    *op = v[0];
    *when = (apr_time_t)calstore_get_be64(v + 1);
    *name = (const char *)v + CALSTORE_CHANGE_FIXED;
    *nlen = n;
    return 0;
}

/* One change collected inside a transaction, called back after it. */
typedef struct chg_t {
    const char *name;
    int removed;
    apr_uint64_t seq;
    node_ref_t ref;             /* additions                                */
} chg_t;

typedef struct changes_baton_t {
    calstore_id_t coll;
    apr_uint64_t since;
    unsigned limit;
    int by_name;                /* since 0, no limit: the nodes table       */
    int first;
    apr_uint64_t now;           /* the collection's revision at the start  */
    apr_uint64_t watermark;     /* as read by the first transaction        */
    unsigned reported;          /* changes called back so far              */
    /* committed position: the last seq read (log), the last name (nodes) */
    apr_uint64_t pos;
    char after[CALSTORE_NAME_MAX + 1];
    apr_size_t after_len;
    int have_after;
    /* what this transaction found */
    apr_uint64_t next_pos;
    int done;
    int truncated;
    apr_array_header_t *batch;  /* chg_t                                    */
    apr_pool_t *batchpool;
} changes_baton_t;

/* The first transaction: the collection, its revision and watermark, and
 * the token's validity. */
static apr_status_t changes_start(calstore_t *st, DB_TXN *txn,
                                  changes_baton_t *b, apr_pool_t *scratch)
{
    node_ref_t coll;
    apr_status_t rv;
    unsigned char start[CALSTORE_CHANGE_KEY];
    apr_uint64_t seq, n = 0;
    pcur_t pc;
    int ret, t_ret;

    if ((rv = get_by_id(st, txn, b->coll, &coll, scratch)) != APR_SUCCESS) {
        return rv;
    }
    if (coll.rec.kind != CALSTORE_KIND_COLLECTION) {
        return CALSTORE_ENOTCOLL;
    }
    if ((rv = get_watermark(st, txn, b->coll, 0, &b->watermark))
        != APR_SUCCESS) {
        return rv;
    }
    b->now = coll.rec.revision;
    if (b->since > b->now || (b->since != 0 && b->since < b->watermark)) {
        return CALSTORE_ETOKEN;
    }
    if (b->since != 0 || b->limit == 0 || b->watermark == 0) {
        return APR_SUCCESS;
    }
    /* A full listing cut by a limit must end at or above the watermark:
     * a token below it would be refused.  Every entry at or below the
     * watermark is an addition (the removals there were pruned). */
    change_key(start, b->coll, 1);
    ret = pcur_first(&pc, st->changes, txn, start, sizeof(start), 0);
    while (ret == 0) {
        if (pc.key.size != CALSTORE_CHANGE_KEY) {
            ret = 0;
            rv = corrupt("change-log key of collection", b->coll);
            break;
        }
        seq = calstore_get_be64((unsigned char *)pc.key.data + 8);
        if (seq > b->watermark) {
            break;
        }
        if (++n > b->limit) {
            rv = CALSTORE_ELIMIT;
            break;
        }
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
        rv = calstore__db_status(st, ret, "reading the change log");
    }
    return rv;
}

/* A full listing: the next batch of members, with their last change. */
static apr_status_t changes_by_name(calstore_t *st, DB_TXN *txn,
                                    changes_baton_t *b, apr_pool_t *scratch)
{
    apr_array_header_t *members;
    node_ref_t *m;
    unsigned char *ik;
    apr_size_t iksize;
    apr_uint64_t seq;
    apr_status_t rv;
    chg_t *c;
    int i;

    if ((rv = read_members(st, txn, b->coll,
                           b->have_after ? b->after : NULL, b->after_len,
                           CALSTORE_BATCH, 0, &members, b->batchpool))
        != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < members->nelts; i++) {
        m = &APR_ARRAY_IDX(members, i, node_ref_t);
        ik = node_key(b->coll, m->name, m->nlen, &iksize, scratch);
        rv = get_u64(st, st->chindex, txn, ik, iksize, 0, &seq, b->coll);
        if (rv == CALSTORE_ENOENT) {
            seq = 0;
        }
        else if (rv != APR_SUCCESS) {
            return rv;
        }
        c = apr_array_push(b->batch);
        c->name = m->name;
        c->removed = 0;
        c->seq = seq;
        c->ref = *m;
    }
    b->done = members->nelts < CALSTORE_BATCH;
    return APR_SUCCESS;
}

/* The next batch of the log after b->pos, up to b->now. */
static apr_status_t changes_from_log(calstore_t *st, DB_TXN *txn,
                                     changes_baton_t *b, apr_pool_t *scratch)
{
    unsigned char start[CALSTORE_CHANGE_KEY];
    unsigned room = CALSTORE_BATCH;
    apr_status_t rv = APR_SUCCESS;
    calstore_id_t coll;
    apr_uint64_t seq, w;
    apr_time_t when;
    const char *name;
    apr_size_t nlen;
    node_ref_t ref;
    pcur_t pc;
    chg_t *c;
    int op, ret, t_ret, full = 0;

    if (b->limit && b->limit - b->reported < room) {
        room = b->limit - b->reported;
    }
    b->next_pos = b->pos;
    b->done = 1;
    change_key(start, b->coll, b->pos + 1);
    ret = pcur_first(&pc, st->changes, txn, start, sizeof(start), 0);
    while (ret == 0) {
        if (change_decode(&pc.key, &pc.val, &coll, &seq, &op, &when, &name,
                          &nlen) != 0) {
            rv = corrupt("change-log entry of collection", b->coll);
            break;
        }
        if (seq > b->now) {
            break;              /* changes after the start: next time */
        }
        if (full) {
            /* Only looking whether more would follow. */
            if (op == CALSTORE_CHANGE_ADD || b->since != 0) {
                b->truncated = 1;
                break;
            }
        }
        else if (op == CALSTORE_CHANGE_REMOVE) {
            if (b->since != 0) {
                c = apr_array_push(b->batch);
                c->name = apr_pstrmemdup(b->batchpool, name, nlen);
                c->removed = 1;
                c->seq = seq;
            }
        }
        else {
            rv = get_member(st, txn, b->coll, name, nlen, 0, &ref,
                            b->batchpool);
            if (rv == APR_SUCCESS) {
                c = apr_array_push(b->batch);
                c->name = ref.name;
                c->removed = 0;
                c->seq = seq;
                c->ref = ref;
            }
            else if (rv == CALSTORE_ENOENT) {
                /* Removed since: its removal has a higher seq. */
                rv = APR_SUCCESS;
            }
            else {
                break;
            }
        }
        if (!full) {
            b->next_pos = seq;
            if ((unsigned)b->batch->nelts >= room) {
                if (b->limit && b->reported + room == b->limit) {
                    full = 1;   /* the limit: is there more? */
                }
                else {
                    b->done = 0;    /* just the end of a batch */
                    break;
                }
            }
        }
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
        rv = calstore__db_status(st, ret, "reading the change log");
    }
    if (rv != APR_SUCCESS || b->since == 0) {
        return rv;
    }
    /* Read after the entries: a prune that dropped a removal we were about
     * to read committed before we looked, so it shows here.  It can only
     * have dropped removals at or below the new watermark. */
    if ((rv = get_watermark(st, txn, b->coll, 0, &w)) != APR_SUCCESS) {
        return rv;
    }
    return w > b->pos ? CALSTORE_ETOKEN : APR_SUCCESS;
}

static apr_status_t changes_txn(calstore_t *st, DB_TXN *txn, void *baton,
                                apr_pool_t *scratch)
{
    changes_baton_t *b = baton;
    apr_status_t rv;

    apr_pool_clear(b->batchpool);
    b->batch = apr_array_make(b->batchpool, 16, sizeof(chg_t));
    b->truncated = 0;
    if (b->first && (rv = changes_start(st, txn, b, scratch))
                    != APR_SUCCESS) {
        return rv;
    }
    if (b->by_name) {
        return changes_by_name(st, txn, b, scratch);
    }
    return changes_from_log(st, txn, b, scratch);
}

apr_status_t calstore_changes(calstore_t *st, calstore_id_t coll,
                              apr_uint64_t since, unsigned limit,
                              calstore_change_cb *cb, void *baton,
                              apr_uint64_t *now, int *truncated,
                              apr_pool_t *pool)
{
    changes_baton_t b;
    calstore_change_t ch;
    apr_pool_t *cpool, *scratch;
    apr_uint64_t last = 0;
    apr_status_t rv;
    chg_t *c;
    int i;

    if (now) {
        *now = 0;
    }
    if (truncated) {
        *truncated = 0;
    }
    if (coll == 0 || cb == NULL) {
        return CALSTORE_EINVAL;
    }
    memset(&b, 0, sizeof(b));
    b.coll = coll;
    b.since = since;
    b.limit = limit;
    b.by_name = (since == 0 && limit == 0);
    b.first = 1;
    b.pos = since;
    apr_pool_create(&cpool, pool);
    apr_pool_create(&b.batchpool, cpool);
    apr_pool_create(&scratch, cpool);
    for (;;) {
        /* The transaction (cursor, locks) ends inside calstore__run,
         * before any callback runs. */
        rv = calstore__run(st, 0, changes_txn, &b, cpool);
        if (rv != APR_SUCCESS) {
            break;
        }
        b.first = 0;
        for (i = 0; rv == APR_SUCCESS && i < b.batch->nelts; i++) {
            c = &APR_ARRAY_IDX(b.batch, i, chg_t);
            apr_pool_clear(scratch);
            ch.name = c->name;
            ch.removed = c->removed;
            ch.seq = c->seq;
            ch.node = c->removed ? NULL : make_node(&c->ref, scratch);
            rv = cb(baton, &ch, scratch);
            last = c->seq;
            b.reported++;
        }
        if (rv != APR_SUCCESS || b.done) {
            break;
        }
        if (b.by_name) {
            c = &APR_ARRAY_IDX(b.batch, b.batch->nelts - 1, chg_t);
            memcpy(b.after, c->ref.name, c->ref.nlen);
            b.after_len = c->ref.nlen;
            b.have_after = 1;
        }
        else {
            b.pos = b.next_pos;
        }
    }
    if (rv == APR_SUCCESS) {
        if (b.truncated) {
            /* A full listing holds every addition at or below the
             * watermark (changes_start made sure), so it may continue from
             * there. */
            if (since == 0 && last < b.watermark) {
                last = b.watermark;
            }
            if (now) {
                *now = last;
            }
            if (truncated) {
                *truncated = 1;
            }
        }
        else if (now) {
            *now = b.now;
        }
    }
    apr_pool_destroy(cpool);
    return rv;
}

/* Pruning: find the newest removal to drop, then drop it and every older
 * one, moving the watermark along. */

#define CALSTORE_PRUNE_BATCH  1024

typedef struct prune_baton_t {
    calstore_id_t coll;
    apr_time_t cutoff;          /* removals logged before this go (0: none) */
    unsigned max_entries;
    apr_uint64_t floor;         /* the watermark when we began             */
    /* phase 1, backwards */
    apr_uint64_t pos;           /* committed: next entry below this        */
    apr_uint64_t next_pos;
    unsigned seen;              /* removals counted (committed)            */
    unsigned next_seen;
    apr_uint64_t target;        /* the newest removal to drop (0: none)    */
    int done;
    /* phase 2, forwards */
    int gone;                   /* the collection went meanwhile           */
} prune_baton_t;

/* Phase 1: walk back from b->pos over at most CALSTORE_PRUNE_BATCH
 * entries, stopping at the first removal to drop or at the watermark. */
static apr_status_t prune_find_txn(calstore_t *st, DB_TXN *txn, void *baton,
                                   apr_pool_t *scratch)
{
    prune_baton_t *b = baton;
    unsigned char start[CALSTORE_CHANGE_KEY];
    apr_status_t rv = APR_SUCCESS;
    calstore_id_t coll;
    apr_uint64_t seq;
    apr_time_t when;
    const char *name;
    apr_size_t nlen;
    DBC *c = NULL;
    DBT key, val;
    int op, ret, t_ret, n = 0;

    b->next_pos = b->pos;
    b->next_seen = b->seen;
    b->target = 0;
    b->done = 1;
    if ((ret = st->changes->cursor(st->changes, txn, &c, 0)) != 0) {
        return calstore__db_status(st, ret, "pruning cursor");
    }
    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));
    key.flags = val.flags = DB_DBT_REALLOC;
    if ((key.data = malloc(CALSTORE_CHANGE_KEY)) == NULL) {
        c->close(c);
        return APR_ENOMEM;
    }
    /* The first entry at or after (coll, pos), then step back. */
    change_key(start, b->coll, b->pos);
    memcpy(key.data, start, sizeof(start));
    key.size = sizeof(start);
    ret = c->get(c, &key, &val, DB_SET_RANGE);
    if (ret == 0 || ret == DB_NOTFOUND) {
        ret = c->get(c, &key, &val, ret == DB_NOTFOUND ? DB_LAST : DB_PREV);
    }
    while (ret == 0) {
        if (key.size < 8 || calstore_get_be64(key.data) != b->coll) {
            break;
        }
        if (change_decode(&key, &val, &coll, &seq, &op, &when, &name,
                          &nlen) != 0) {
            rv = corrupt("change-log entry of collection", b->coll);
            break;
        }
        if (seq <= b->floor) {
            break;              /* only additions below the watermark */
        }
        if (op == CALSTORE_CHANGE_REMOVE) {
            b->next_seen++;
            if ((b->max_entries && b->next_seen > b->max_entries)
                || (b->cutoff && when < b->cutoff)) {
                b->target = seq;
                break;
            }
        }
        b->next_pos = seq;
        if (++n >= CALSTORE_PRUNE_BATCH) {
            b->done = 0;
            break;
        }
        ret = c->get(c, &key, &val, DB_PREV);
    }
    t_ret = c->close(c);
    free(key.data);
    free(val.data);
    if (ret == DB_NOTFOUND) {
        ret = 0;
    }
    if (ret == 0) {
        ret = t_ret;
    }
    if (rv == APR_SUCCESS && ret != 0) {
        rv = calstore__db_status(st, ret, "pruning");
    }
    return rv;
}

/* Phase 2: drop the removals from b->pos up to b->target, at most
 * CALSTORE_PRUNE_BATCH entries per transaction, and raise the watermark to
 * the newest one dropped, in the same transaction. */
static apr_status_t prune_drop_txn(calstore_t *st, DB_TXN *txn, void *baton,
                                   apr_pool_t *scratch)
{
    prune_baton_t *b = baton;
    unsigned char start[CALSTORE_CHANGE_KEY], wk[8], v8[8], *ik;
    apr_status_t rv;
    calstore_id_t coll;
    apr_uint64_t seq, at, w, top = 0;
    apr_size_t iksize;
    apr_time_t when;
    const char *name;
    apr_size_t nlen;
    pcur_t pc;
    int op, ret, t_ret, n = 0;

    b->next_pos = b->pos;
    b->done = 1;
    /* The collection must still exist (a read lock on it, kept until the
     * commit, holds off its deletion): no watermark for a deleted one. */
    rv = check_collection(st, txn, b->coll, scratch);
    if (rv == CALSTORE_ENOENT) {
        b->gone = 1;
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    change_key(start, b->coll, b->pos);
    ret = pcur_first(&pc, st->changes, txn, start, sizeof(start), DB_RMW);
    while (ret == 0) {
        if (change_decode(&pc.key, &pc.val, &coll, &seq, &op, &when, &name,
                          &nlen) != 0) {
            rv = corrupt("change-log entry of collection", b->coll);
            break;
        }
        if (seq > b->target) {
            break;
        }
        if (op == CALSTORE_CHANGE_REMOVE) {
            ik = node_key(b->coll, name, nlen, &iksize, scratch);
            rv = get_u64(st, st->chindex, txn, ik, iksize, DB_RMW, &at,
                         b->coll);
            if (rv == APR_SUCCESS && at == seq) {
                rv = del_key(st, st->chindex, txn, ik, iksize,
                             "pruning the change index");
            }
            else if (rv == APR_SUCCESS || rv == CALSTORE_ENOENT) {
                rv = corrupt("change index not naming its removal",
                             b->coll);
            }
            if (rv != APR_SUCCESS) {
                break;
            }
            if ((ret = pc.c->del(pc.c, 0)) != 0) {
                break;
            }
            top = seq;
        }
        b->next_pos = seq + 1;
        if (++n >= CALSTORE_PRUNE_BATCH) {
            b->done = 0;
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
    if (rv == APR_SUCCESS && ret != 0) {
        rv = calstore__db_status(st, ret, "pruning");
    }
    if (rv != APR_SUCCESS || top == 0) {
        return rv;
    }
    if ((rv = get_watermark(st, txn, b->coll, DB_RMW, &w)) != APR_SUCCESS) {
        return rv;
    }
    if (top > w) {
        calstore_put_be64(wk, b->coll);
        calstore_put_be64(v8, top);
        rv = put_kv(st, st->chindex, txn, wk, 8, v8, 8,
                    "writing a watermark");
    }
    return rv;
}

static apr_status_t prune_start_txn(calstore_t *st, DB_TXN *txn, void *baton,
                                    apr_pool_t *scratch)
{
    prune_baton_t *b = baton;

    return get_watermark(st, txn, b->coll, 0, &b->floor);
}

static apr_status_t prune_one(calstore_t *st, calstore_id_t coll,
                              apr_time_t cutoff, unsigned max_entries,
                              apr_pool_t *pool)
{
    prune_baton_t b;
    apr_status_t rv;

    memset(&b, 0, sizeof(b));
    b.coll = coll;
    b.cutoff = cutoff;
    b.max_entries = max_entries;
    if ((rv = calstore__run(st, 0, prune_start_txn, &b, pool))
        != APR_SUCCESS) {
        return rv;
    }
    b.pos = APR_UINT64_MAX;
    do {
        if ((rv = calstore__run(st, 0, prune_find_txn, &b, pool))
            != APR_SUCCESS) {
            return rv;
        }
        b.pos = b.next_pos;
        b.seen = b.next_seen;
    } while (!b.done && b.target == 0);
    if (b.target == 0) {
        return APR_SUCCESS;
    }
    b.pos = b.floor + 1;
    do {
        if ((rv = calstore__run(st, 1, prune_drop_txn, &b, pool))
            != APR_SUCCESS) {
            return rv;
        }
        b.pos = b.next_pos;
    } while (!b.done && !b.gone);
    return APR_SUCCESS;
}

/* The first collection id >= 'from' with a change log, or 0. */
typedef struct prune_next_baton_t {
    calstore_id_t from;
    calstore_id_t found;
} prune_next_baton_t;

static apr_status_t prune_next_txn(calstore_t *st, DB_TXN *txn, void *baton,
                                   apr_pool_t *scratch)
{
    prune_next_baton_t *b = baton;
    unsigned char start[8];
    DBT key, val;
    DBC *c;
    int ret, t_ret;

    b->found = 0;
    if ((ret = st->changes->cursor(st->changes, txn, &c, 0)) != 0) {
        return calstore__db_status(st, ret, "pruning cursor");
    }
    calstore_put_be64(start, b->from);
    memset(&key, 0, sizeof(key));
    memset(&val, 0, sizeof(val));
    key.flags = val.flags = DB_DBT_REALLOC;
    if ((key.data = malloc(8)) == NULL) {
        c->close(c);
        return APR_ENOMEM;
    }
    memcpy(key.data, start, 8);
    key.size = 8;
    ret = c->get(c, &key, &val, DB_SET_RANGE);
    if (ret == 0 && key.size >= 8) {
        b->found = calstore_get_be64(key.data);
    }
    t_ret = c->close(c);
    free(key.data);
    free(val.data);
    if (ret == DB_NOTFOUND) {
        ret = 0;
    }
    if (ret == 0) {
        ret = t_ret;
    }
    return calstore__db_status(st, ret, "pruning");
}

typedef struct prune_check_baton_t {
    calstore_id_t coll;
} prune_check_baton_t;

static apr_status_t prune_check_txn(calstore_t *st, DB_TXN *txn, void *baton,
                                    apr_pool_t *scratch)
{
    prune_check_baton_t *b = baton;

    return check_collection(st, txn, b->coll, scratch);
}

apr_status_t calstore_changes_prune(calstore_t *st, calstore_id_t coll,
                                    apr_interval_time_t max_age,
                                    unsigned max_entries, apr_pool_t *pool)
{
    prune_check_baton_t cb;
    prune_next_baton_t nb;
    apr_time_t cutoff = 0;
    apr_pool_t *iter;
    apr_status_t rv = APR_SUCCESS;

    if (max_age < 0) {
        return CALSTORE_EINVAL;
    }
    if (coll != 0) {
        cb.coll = coll;
        if ((rv = calstore__run(st, 0, prune_check_txn, &cb, pool))
            != APR_SUCCESS) {
            return rv;
        }
    }
    if (max_age == 0 && max_entries == 0) {
        return APR_SUCCESS;
    }
    if (max_age > 0) {
        cutoff = apr_time_now() - max_age;
    }
    apr_pool_create(&iter, pool);
    if (coll != 0) {
        rv = prune_one(st, coll, cutoff, max_entries, iter);
    }
    else {
        nb.from = 1;
        for (;;) {
            apr_pool_clear(iter);
            if ((rv = calstore__run(st, 0, prune_next_txn, &nb, iter))
                != APR_SUCCESS || nb.found == 0) {
                break;
            }
            if ((rv = prune_one(st, nb.found, cutoff, max_entries, iter))
                != APR_SUCCESS) {
                break;
            }
            if (nb.found == APR_UINT64_MAX) {
                break;
            }
            nb.from = nb.found + 1;
        }
    }
    apr_pool_destroy(iter);
    return rv;
}

/* ---- test hooks and consistency check ----------------------------------- */

typedef struct counts_baton_t {
    apr_size_t *counts;
    int cal;
} counts_baton_t;

static apr_status_t counts_txn(calstore_t *st, DB_TXN *txn, void *baton,
                               apr_pool_t *scratch)
{
    counts_baton_t *b = baton;
    DB *dbs[5];
    DBC *c;
    DBT key, val;
    int i, n, ret, t_ret;

    if (b->cal) {
        dbs[0] = st->calobj;
        dbs[1] = st->uid;
        dbs[2] = st->tr;
        dbs[3] = st->tredge;
        n = 4;
    }
    else {
        dbs[0] = st->meta;
        dbs[1] = st->nodes;
        dbs[2] = st->byid;
        dbs[3] = st->bodies;
        dbs[4] = st->props;
        n = 5;
    }
    for (i = 0; i < n; i++) {
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
    b.cal = 0;
    apr_pool_create(&pool, st->pool);
    rv = calstore__run(st, 0, counts_txn, &b, pool);
    apr_pool_destroy(pool);
    return rv;
}

apr_status_t calstore__test_cal_counts(calstore_t *st, apr_size_t counts[4])
{
    counts_baton_t b;
    apr_pool_t *pool;
    apr_status_t rv;

    b.counts = counts;
    b.cal = 1;
    apr_pool_create(&pool, st->pool);
    rv = calstore__run(st, 0, counts_txn, &b, pool);
    apr_pool_destroy(pool);
    return rv;
}

typedef struct log_counts_baton_t {
    calstore_id_t coll;
    apr_size_t *counts;
    apr_uint64_t watermark;
} log_counts_baton_t;

static apr_status_t log_counts_txn(calstore_t *st, DB_TXN *txn, void *baton,
                                  apr_pool_t *scratch)
{
    log_counts_baton_t *b = baton;
    DB *db;
    DBC *c;
    DBT key, val;
    int i, ret, t_ret;

    b->counts[0] = b->counts[1] = b->counts[2] = 0;
    b->watermark = 0;
    for (i = 0; i < 2; i++) {
        db = i ? st->chindex : st->changes;
        if ((ret = db->cursor(db, txn, &c, 0)) != 0) {
            return calstore__db_status(st, ret, "counting");
        }
        memset(&key, 0, sizeof(key));
        memset(&val, 0, sizeof(val));
        key.flags = val.flags = DB_DBT_REALLOC;
        while ((ret = c->get(c, &key, &val, DB_NEXT)) == 0) {
            if (key.size < 8 || val.size < 1
                || (b->coll && calstore_get_be64(key.data) != b->coll)) {
                continue;
            }
            if (i == 0) {
                b->counts[((unsigned char *)val.data)[0]
                          == CALSTORE_CHANGE_ADD ? 0 : 1]++;
            }
            else if (key.size > 8) {
                b->counts[2]++;
            }
            else if (b->coll && val.size == 8) {
                b->watermark = calstore_get_be64(val.data);
            }
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

apr_status_t calstore__test_log_counts(calstore_t *st, calstore_id_t coll,
                                       apr_size_t counts[3],
                                       apr_uint64_t *watermark)
{
    log_counts_baton_t b;
    apr_pool_t *pool;
    apr_status_t rv;

    b.coll = coll;
    b.counts = counts;
    apr_pool_create(&pool, st->pool);
    rv = calstore__run(st, 0, log_counts_txn, &b, pool);
    apr_pool_destroy(pool);
    if (watermark) {
        *watermark = rv == APR_SUCCESS ? b.watermark : 0;
    }
    return rv;
}

typedef struct check_state_t {
    int bad;                    /* problems found                           */
    int roots;                  /* root records seen                        */
    apr_size_t cal_members;     /* resources whose parent is a calendar    */
    apr_size_t calobjs;         /* calobj records                          */
    apr_size_t want_tr;         /* tr entries the records call for         */
    apr_size_t want_edges;      /* tredge entries the records call for     */
    apr_size_t uids;            /* entries seen in uid, tr, tredge         */
    apr_size_t trs;
    apr_size_t edges;
    apr_size_t members;         /* nodes other than the root               */
    apr_size_t adds;            /* 'A' entries in the change log           */
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

/* A member's last change: the change index names an 'A' entry of its
 * parent's log for it, at or below the parent's revision. */
static apr_status_t check_member_log(calstore_t *st, DB_TXN *txn,
                                     const node_ref_t *dir, const char *name,
                                     apr_size_t nlen, calstore_id_t id,
                                     check_state_t *cs, apr_pool_t *pool)
{
    unsigned char ck[CALSTORE_CHANGE_KEY], *ik;
    apr_size_t iksize;
    apr_uint64_t seq;
    apr_status_t rv;
    DBT key, val;
    int ret, ok;

    ik = node_key(dir->rec.id, name, nlen, &iksize, pool);
    rv = get_u64(st, st->chindex, txn, ik, iksize, 0, &seq, dir->rec.id);
    if (rv == CALSTORE_ENOENT || rv == CALSTORE_ECORRUPT) {
        check_fail(cs, "member without its last change in the log", id);
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    change_key(ck, dir->rec.id, seq);
    dbt_in(&key, ck, sizeof(ck));
    dbt_malloc(&val);
    ret = st->changes->get(st->changes, txn, &key, &val, 0);
    if (ret == DB_NOTFOUND) {
        check_fail(cs, "change index naming no change", id);
        return APR_SUCCESS;
    }
    if (ret != 0) {
        return calstore__db_status(st, ret, "check");
    }
    ok = val.size == CALSTORE_CHANGE_FIXED + nlen
         && ((unsigned char *)val.data)[0] == CALSTORE_CHANGE_ADD
         && memcmp((char *)val.data + CALSTORE_CHANGE_FIXED, name, nlen) == 0
         && seq <= dir->rec.revision;
    free(val.data);
    if (!ok) {
        check_fail(cs, "member's last change is no addition of it at or "
                   "below its collection's revision", id);
    }
    return APR_SUCCESS;
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
        else if (pref.rec.flags & CALSTORE_COLL_CALENDAR) {
            if (rec.kind == CALSTORE_KIND_COLLECTION) {
                check_fail(cs, "collection inside a calendar", rec.id);
            }
            else {
                cs->cal_members++;
            }
        }
        else if (rec.kind == CALSTORE_KIND_RESOURCE && rec.flags != 0) {
            check_fail(cs, "component flags outside a calendar", rec.id);
        }
        cs->members++;
        if (rv == APR_SUCCESS && pref.rec.kind == CALSTORE_KIND_COLLECTION
            && (rv = check_member_log(st, txn, &pref, name, nlen, rec.id, cs,
                                      pool)) != APR_SUCCESS) {
            return rv;
        }
    }
    if (rec.kind == CALSTORE_KIND_COLLECTION
        ? ((rec.flags & ~(CALSTORE_COLL_CALENDAR
                          | CALSTORE_COLL_CALLER_MASK)) != 0
           || (!(rec.flags & CALSTORE_COLL_CALENDAR) && rec.maxdur != 0))
        : ((rec.flags & ~CALSTORE_RES_COMP_MASK) != 0 || rec.maxdur != 0)) {
        check_fail(cs, "unknown node flags or stray maxdur", rec.id);
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

/* Does 'db' hold 'k' with exactly the value 'v' (vlen bytes)?  1, 0, or
 * -1 with *rv set on a Berkeley DB error. */
static int check_has(calstore_t *st, DB *db, DB_TXN *txn, const void *k,
                     apr_size_t klen, const void *v, apr_size_t vlen,
                     apr_status_t *rv)
{
    DBT key, val;
    int ret, same;

    dbt_in(&key, k, klen);
    dbt_malloc(&val);
    ret = db->get(db, txn, &key, &val, 0);
    if (ret == DB_NOTFOUND) {
        return 0;
    }
    if (ret != 0) {
        *rv = calstore__db_status(st, ret, "check");
        return -1;
    }
    same = val.size == vlen && (vlen == 0 || memcmp(val.data, v, vlen) == 0);
    free(val.data);
    return same;
}

/* calobj: belongs to a resource of a calendar, with the same component,
 * and every index entry it calls for is there. */
static apr_status_t check_calobj(calstore_t *st, DB_TXN *txn, const DBT *key,
                                 const DBT *val, check_state_t *cs,
                                 apr_pool_t *pool)
{
    calstore_id_t id = key->size == 8 ? calstore_get_be64(key->data) : 0;
    node_ref_t node, coll;
    unsigned char k[CALSTORE_EDGE_KEY], v[16], *uk;
    apr_size_t usize;
    apr_status_t rv = APR_SUCCESS;
    calobj_t co;
    tr_item_t it;
    int i, has;

    cs->calobjs++;
    if (key->size != 8 || calobj_decode(val->data, val->size, &co, pool)) {
        check_fail(cs, "undecodable calendar object record", id);
        return APR_SUCCESS;
    }
    rv = get_by_id(st, txn, id, &node, pool);
    if (rv == APR_SUCCESS) {
        rv = get_by_id(st, txn, node.parent, &coll, pool);
    }
    if (rv == CALSTORE_ENOENT || rv == CALSTORE_ECORRUPT) {
        check_fail(cs, "calendar object record without its node", id);
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (node.rec.kind != CALSTORE_KIND_RESOURCE || !is_calendar(&coll)) {
        check_fail(cs, "calendar object record outside a calendar", id);
        return APR_SUCCESS;
    }
    if (node.rec.flags != (co.comp & CALSTORE_RES_COMP_MASK)) {
        check_fail(cs, "node flags differ from the component", id);
    }
    uk = uid_key(coll.rec.id, co.uid, co.uid_len, &usize, pool);
    if ((has = check_has(st, st->uid, txn, uk, usize, node.name, node.nlen,
                         &rv)) < 0) {
        return rv;
    }
    if (!has) {
        check_fail(cs, "UID entry missing or naming another member", id);
    }
    for (i = 0; i < co.nspans; i++) {
        const calstore_span_t *sp = &co.spans[i];

        if (!span_is_long(sp)) {
            continue;
        }
        span_val(v, sp, &co);
        long_key(k, coll.rec.id, sp, co.comp, id);
        has = check_has(st, st->tredge, txn, k, CALSTORE_LONG_KEY, v,
                        CALSTORE_SPAN_VAL, &rv);
        cs->want_edges++;
        if (has < 0) {
            return rv;
        }
        if (!has) {
            check_fail(cs, "instance missing from the time-range index", id);
        }
    }
    i = 0;
    while (tr_next(&co, coll.rec.id, id, &i, &it)) {
        has = check_has(st, st->tr, txn, it.key, CALSTORE_TR_KEY, it.val,
                        it.vlen, &rv);
        cs->want_tr++;
        if (it.maxdur > coll.rec.maxdur) {
            check_fail(cs, "instance longer than its calendar's maxdur", id);
        }
        if (has < 0) {
            return rv;
        }
        if (!has) {
            check_fail(cs, "instance missing from the time-range index", id);
        }
    }
    for (i = 0; i < 2; i++) {
        int kind = i ? CALSTORE_EDGE_AFTER : CALSTORE_EDGE_BEFORE;

        if (!(co.flags & (i ? CALSTORE_CALOBJ_AFTER
                            : CALSTORE_CALOBJ_BEFORE))) {
            continue;
        }
        edge_key(k, coll.rec.id, kind, &co, id);
        edge_val(v, kind, &co);
        if ((has = check_has(st, st->tredge, txn, k, CALSTORE_EDGE_KEY, v,
                             CALSTORE_EDGE_VAL, &rv)) < 0) {
            return rv;
        }
        cs->want_edges++;
        if (!has) {
            check_fail(cs, "window edge missing", id);
        }
    }
    return APR_SUCCESS;
}

/* uid: names a member of that calendar whose record has this UID. */
static apr_status_t check_uid(calstore_t *st, DB_TXN *txn, const DBT *key,
                              const DBT *val, check_state_t *cs,
                              apr_pool_t *pool)
{
    calstore_id_t coll = key->size > 8 ? calstore_get_be64(key->data) : 0;
    node_ref_t node;
    apr_status_t rv;
    calobj_t co;

    cs->uids++;
    if (key->size <= 8 || val->size == 0 || val->size > CALSTORE_NAME_MAX) {
        check_fail(cs, "bad UID entry in calendar", coll);
        return APR_SUCCESS;
    }
    rv = get_member(st, txn, coll, val->data, val->size, 0, &node, pool);
    if (rv == APR_SUCCESS) {
        rv = get_calobj(st, txn, node.rec.id, 0, &co, pool);
    }
    if (rv == CALSTORE_ENOENT || rv == CALSTORE_ECORRUPT) {
        check_fail(cs, "UID entry naming no calendar object of calendar",
                   coll);
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (co.uid_len != key->size - 8
        || memcmp(co.uid, (const char *)key->data + 8, co.uid_len) != 0) {
        check_fail(cs, "UID entry differs from the object's UID", node.rec.id);
    }
    return APR_SUCCESS;
}

/* tr and tredge: well-formed, for an object of that calendar. */
static apr_status_t check_entry(calstore_t *st, DB_TXN *txn, const DBT *key,
                                const DBT *val, check_state_t *cs, int tr,
                                apr_pool_t *pool)
{
    const unsigned char *k = key->data;
    calstore_id_t coll = key->size >= 8 ? calstore_get_be64(k) : 0, obj;
    calstore_id_t parent;
    const char *name;
    apr_size_t nlen;
    apr_status_t rv;
    int ok;

    if (tr) {
        cs->trs++;
        ok = key->size == CALSTORE_TR_KEY
             && (k[8] < CALSTORE_SHORT_CLASSES
                 ? val->size == CALSTORE_SPAN_VAL
                 : k[8] == CALSTORE_RUN_CLASS
                   && calstore_run_val_ok(val->size));
    }
    else {
        cs->edges++;
        /* A 'G' key carries its component byte, which must be the
         * value's (the query picks entries by the key's, filters on the
         * value's); an 'L' / 'H' key carries the set's reach, which must
         * be the value's first / last (the query decides by the key's). */
        ok = key->size > 8
             && (k[8] == CALSTORE_EDGE_LONG
                 ? key->size == CALSTORE_LONG_KEY
                   && val->size == CALSTORE_SPAN_VAL
                   && k[9] == (((const unsigned char *)val->data)[8]
                               & CALSTORE_SPAN_KIND)
                 : (k[8] == CALSTORE_EDGE_BEFORE
                    || k[8] == CALSTORE_EDGE_AFTER)
                   && key->size == CALSTORE_EDGE_KEY
                   && val->size == CALSTORE_EDGE_VAL
                   && calstore_get_ord64(k + 17)
                      == (apr_int64_t)calstore_get_be64(
                             (const unsigned char *)val->data + 1));
    }
    if (!ok) {
        check_fail(cs, "bad time-range index entry in calendar", coll);
        return APR_SUCCESS;
    }
    obj = calstore_get_be64(k + key->size - 8);
    rv = get_byid(st, txn, obj, &parent, &name, &nlen, pool);
    if (rv == CALSTORE_ENOENT || (rv == APR_SUCCESS && parent != coll)) {
        check_fail(cs, "time-range index entry for no object of its "
                   "calendar", obj);
        return APR_SUCCESS;
    }
    return rv;
}

static apr_status_t check_tr(calstore_t *st, DB_TXN *txn, const DBT *key,
                             const DBT *val, check_state_t *cs,
                             apr_pool_t *pool)
{
    return check_entry(st, txn, key, val, cs, 1, pool);
}

static apr_status_t check_edge(calstore_t *st, DB_TXN *txn, const DBT *key,
                               const DBT *val, check_state_t *cs,
                               apr_pool_t *pool)
{
    return check_entry(st, txn, key, val, cs, 0, pool);
}

/* changes: of an existing collection, at or below its revision, in the
 * change index, an addition of a member or a removal of a name that is no
 * member, above the watermark. */
static apr_status_t check_change(calstore_t *st, DB_TXN *txn, const DBT *key,
                                 const DBT *val, check_state_t *cs,
                                 apr_pool_t *pool)
{
    calstore_id_t coll;
    apr_uint64_t seq, at, w;
    apr_time_t when;
    const char *name;
    apr_size_t nlen, iksize;
    unsigned char *ik;
    node_ref_t dir, m;
    apr_status_t rv;
    int op;

    if (change_decode(key, val, &coll, &seq, &op, &when, &name, &nlen)
        != 0) {
        check_fail(cs, "undecodable change-log entry", 0);
        return APR_SUCCESS;
    }
    rv = get_by_id(st, txn, coll, &dir, pool);
    if (rv == CALSTORE_ENOENT || rv == CALSTORE_ECORRUPT
        || (rv == APR_SUCCESS && dir.rec.kind != CALSTORE_KIND_COLLECTION)) {
        check_fail(cs, "change-log entry of no collection", coll);
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (seq < 2 || seq > dir.rec.revision) {
        check_fail(cs, "change-log entry outside its collection's "
                   "revisions", coll);
    }
    ik = node_key(coll, name, nlen, &iksize, pool);
    rv = get_u64(st, st->chindex, txn, ik, iksize, 0, &at, coll);
    if (rv == CALSTORE_ENOENT || rv == CALSTORE_ECORRUPT
        || (rv == APR_SUCCESS && at != seq)) {
        check_fail(cs, "change-log entry not in the change index (not "
                   "compacted)", coll);
    }
    else if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = get_member(st, txn, coll, name, nlen, 0, &m, pool);
    if (rv != APR_SUCCESS && rv != CALSTORE_ENOENT) {
        return rv;
    }
    if (op == CALSTORE_CHANGE_ADD) {
        cs->adds++;
        if (rv == CALSTORE_ENOENT) {
            check_fail(cs, "logged addition of a name that is no member",
                       coll);
        }
        return APR_SUCCESS;
    }
    if (rv == APR_SUCCESS) {
        check_fail(cs, "logged removal of a name that is a member", coll);
    }
    if ((rv = get_watermark(st, txn, coll, 0, &w)) != APR_SUCCESS) {
        return rv;
    }
    if (seq <= w) {
        check_fail(cs, "removal kept at or below the watermark", coll);
    }
    return APR_SUCCESS;
}

/* chindex: a name names its entry in the log; a watermark belongs to a
 * collection and is at or below its revision. */
static apr_status_t check_chindex(calstore_t *st, DB_TXN *txn,
                                  const DBT *key, const DBT *val,
                                  check_state_t *cs, apr_pool_t *pool)
{
    calstore_id_t coll = key->size >= 8 ? calstore_get_be64(key->data) : 0;
    unsigned char ck[CALSTORE_CHANGE_KEY];
    apr_size_t nlen = key->size >= 8 ? key->size - 8 : 0;
    apr_uint64_t v;
    node_ref_t dir;
    apr_status_t rv;
    DBT k2, v2;
    int ret, ok;

    if (key->size < 8 || nlen > CALSTORE_NAME_MAX || val->size != 8) {
        check_fail(cs, "bad change index entry", coll);
        return APR_SUCCESS;
    }
    v = calstore_get_be64(val->data);
    if (nlen == 0) {
        rv = get_by_id(st, txn, coll, &dir, pool);
        if (rv == CALSTORE_ENOENT || rv == CALSTORE_ECORRUPT
            || (rv == APR_SUCCESS
                && (dir.rec.kind != CALSTORE_KIND_COLLECTION
                    || v > dir.rec.revision))) {
            check_fail(cs, "watermark of no collection or above its "
                       "revision", coll);
            return APR_SUCCESS;
        }
        return rv;
    }
    change_key(ck, coll, v);
    dbt_in(&k2, ck, sizeof(ck));
    dbt_malloc(&v2);
    ret = st->changes->get(st->changes, txn, &k2, &v2, 0);
    if (ret == DB_NOTFOUND) {
        check_fail(cs, "change index naming no change", coll);
        return APR_SUCCESS;
    }
    if (ret != 0) {
        return calstore__db_status(st, ret, "check");
    }
    ok = v2.size == CALSTORE_CHANGE_FIXED + nlen
         && memcmp((char *)v2.data + CALSTORE_CHANGE_FIXED,
                   (char *)key->data + 8, nlen) == 0;
    free(v2.data);
    if (!ok) {
        check_fail(cs, "change index naming another member's change", coll);
    }
    return APR_SUCCESS;
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
           != APR_SUCCESS
        || (rv = check_scan(st, st->calobj, txn, check_calobj, &cs,
                            scratch)) != APR_SUCCESS
        || (rv = check_scan(st, st->uid, txn, check_uid, &cs, scratch))
           != APR_SUCCESS
        || (rv = check_scan(st, st->tr, txn, check_tr, &cs, scratch))
           != APR_SUCCESS
        || (rv = check_scan(st, st->tredge, txn, check_edge, &cs, scratch))
           != APR_SUCCESS
        || (rv = check_scan(st, st->changes, txn, check_change, &cs,
                            scratch)) != APR_SUCCESS
        || (rv = check_scan(st, st->chindex, txn, check_chindex, &cs,
                            scratch)) != APR_SUCCESS) {
        return rv;
    }
    if (cs.roots != 1) {
        check_fail(&cs, "not exactly one root", CALSTORE_ROOT_ID);
    }
    /* Each record's entries exist; equal counts mean there are no others. */
    if (cs.calobjs != cs.cal_members) {
        check_fail(&cs, "calendar members and calendar object records "
                   "differ in number", 0);
    }
    if (cs.uids != cs.calobjs) {
        check_fail(&cs, "UID entries and calendar objects differ in "
                   "number", 0);
    }
    if (cs.trs != cs.want_tr || cs.edges != cs.want_edges) {
        check_fail(&cs, "time-range index holds entries no record calls "
                   "for", 0);
    }
    /* Each member's last change is an addition of it, each addition names
     * a member, and names are unique in the index: a bijection iff the
     * numbers agree. */
    if (cs.adds != cs.members) {
        check_fail(&cs, "logged additions and members differ in number", 0);
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

/* ---- damage for the consistency check's tests --------------------------- */

typedef struct damage_t {
    int what;                   /* 0: nothing to undo                       */
    int req;                    /* what damage_txn is asked to do          */
    DB *db;
    void *key;                  /* malloc'd                                 */
    apr_size_t klen;
    void *val;                  /* malloc'd; NULL: undo deletes the key     */
    apr_size_t vlen;
} damage_t;

static damage_t last_damage;

static void *memdup_malloc(const void *p, apr_size_t len)
{
    void *q = malloc(len ? len : 1);

    if (q != NULL && len) {
        memcpy(q, p, len);
    }
    return q;
}

static void damage_free(damage_t *d)
{
    int req = d->req;

    free(d->key);
    free(d->val);
    memset(d, 0, sizeof(*d));
    d->req = req;
}

/* Read the first record of 'db' (write-locked) into malloc'd copies. */
static apr_status_t damage_first(calstore_t *st, DB *db, DB_TXN *txn,
                                 damage_t *d)
{
    DBT key, val;
    DBC *c;
    int ret, t_ret;

    if ((ret = db->cursor(db, txn, &c, 0)) != 0) {
        return calstore__db_status(st, ret, "damage");
    }
    dbt_malloc(&key);
    dbt_malloc(&val);
    ret = c->get(c, &key, &val, DB_FIRST | DB_RMW);
    t_ret = c->close(c);
    if (ret == DB_NOTFOUND) {
        return CALSTORE_ENOENT;
    }
    if (ret == 0 && t_ret != 0) {
        free(key.data);
        free(val.data);
        ret = t_ret;
    }
    if (ret != 0) {
        return calstore__db_status(st, ret, "damage");
    }
    d->db = db;
    d->key = key.data;
    d->klen = key.size;
    d->val = val.data ? val.data : malloc(1);
    d->vlen = val.size;
    return d->val ? APR_SUCCESS : APR_ENOMEM;
}

static apr_status_t damage_txn(calstore_t *st, DB_TXN *txn, void *baton,
                               apr_pool_t *scratch)
{
    damage_t *d = baton;
    unsigned char k[CALSTORE_TR_KEY], v[16], *rec;
    node_ref_t coll;
    apr_status_t rv;
    DBT key, val;
    DBC *c;
    int ret, t_ret;

    damage_free(d);             /* what a failed attempt left */
    d->what = d->req;
    switch (d->what) {
    default:
        return CALSTORE_EINVAL;
    case 'T':
    case 'U':
    case 'E':
    case 'C':
    case 'I':
        rv = damage_first(st, d->what == 'T' ? st->tr
                              : d->what == 'U' ? st->uid
                              : d->what == 'E' ? st->tredge
                              : d->what == 'C' ? st->changes : st->chindex,
                          txn, d);
        if (rv == APR_SUCCESS) {
            rv = del_key(st, d->db, txn, d->key, d->klen, "damage");
        }
        return rv;
    case 'W':
        /* The root's watermark far above its revision; undo deletes it
         * (the tests never prune the root's log). */
        calstore_put_be64(k, CALSTORE_ROOT_ID);
        calstore_put_be64(v, APR_UINT64_C(1) << 62);
        if ((d->key = malloc(8)) == NULL) {
            return APR_ENOMEM;
        }
        memcpy(d->key, k, 8);
        d->klen = 8;
        d->db = st->chindex;
        return put_kv(st, st->chindex, txn, k, 8, v, 8, "damage");
    case 'u':
        if ((rv = damage_first(st, st->uid, txn, d)) != APR_SUCCESS) {
            return rv;
        }
        return put_kv(st, st->uid, txn, d->key, d->klen, "no-such-member",
                      14, "damage");
    case 't':
        /* An entry for an object that does not exist; undo deletes it. */
        {
            calstore_span_t zero = { 0, 0 };

            tr_key(k, CALSTORE_ROOT_ID, &zero,
                   APR_UINT64_C(0xFFFFFFFFFFFFFFF0));
        }
        calstore_put_be64(v, 3600);
        v[8] = 1;
        if ((d->key = malloc(sizeof(k))) == NULL) {
            return APR_ENOMEM;
        }
        memcpy(d->key, k, sizeof(k));
        d->klen = sizeof(k);
        d->db = st->tr;
        return put_kv(st, st->tr, txn, k, sizeof(k), v, CALSTORE_SPAN_VAL,
                      "damage");
    case 'M':
        /* The calendar of the first tr entry longer than 0 s: its maxdur
         * set to 0. */
        if ((ret = st->tr->cursor(st->tr, txn, &c, 0)) != 0) {
            return calstore__db_status(st, ret, "damage");
        }
        memset(&key, 0, sizeof(key));
        memset(&val, 0, sizeof(val));
        key.flags = val.flags = DB_DBT_REALLOC;
        rv = CALSTORE_ENOENT;
        while ((ret = c->get(c, &key, &val, DB_NEXT)) == 0) {
            if (key.size == CALSTORE_TR_KEY && val.size == CALSTORE_SPAN_VAL
                && (apr_int64_t)calstore_get_be64(val.data)
                   > calstore_get_ord64((unsigned char *)key.data + 9)) {
                rv = APR_SUCCESS;
                break;
            }
        }
        t_ret = c->close(c);
        if (rv == APR_SUCCESS) {
            rv = get_by_id(st, txn, calstore_get_be64(key.data), &coll,
                           scratch);
        }
        free(key.data);
        free(val.data);
        if (ret != 0 && ret != DB_NOTFOUND) {
            return calstore__db_status(st, ret, "damage");
        }
        if (t_ret != 0) {
            return calstore__db_status(st, t_ret, "damage");
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        d->db = st->nodes;
        d->key = node_key(coll.parent, coll.name, coll.nlen, &d->klen,
                          scratch);
        d->vlen = calstore_rec_size(&coll.rec);
        d->val = apr_palloc(scratch, d->vlen);
        calstore_rec_encode(&coll.rec, d->val);
        d->key = memdup_malloc(d->key, d->klen);
        d->val = memdup_malloc(d->val, d->vlen);
        if (d->key == NULL || d->val == NULL) {
            return APR_ENOMEM;
        }
        coll.rec.maxdur = 0;
        rec = apr_palloc(scratch, calstore_rec_size(&coll.rec));
        calstore_rec_encode(&coll.rec, rec);
        return put_kv(st, st->nodes, txn, d->key, d->klen, rec,
                      calstore_rec_size(&coll.rec), "damage");
    }
}

static apr_status_t undamage_txn(calstore_t *st, DB_TXN *txn, void *baton,
                                 apr_pool_t *scratch)
{
    damage_t *d = baton;

    if (d->val == NULL) {
        return del_key(st, d->db, txn, d->key, d->klen, "undamage");
    }
    return put_kv(st, d->db, txn, d->key, d->klen, d->val, d->vlen,
                  "undamage");
}

apr_status_t calstore__test_damage(calstore_t *st, int what)
{
    apr_pool_t *pool;
    damage_t d;
    apr_status_t rv;

    apr_pool_create(&pool, st->pool);
    if (what == 0) {
        rv = last_damage.what ? calstore__run(st, 1, undamage_txn,
                                              &last_damage, pool)
                              : CALSTORE_ENOENT;
        if (rv == APR_SUCCESS) {
            damage_free(&last_damage);
        }
    }
    else if (last_damage.what) {
        rv = CALSTORE_EINVAL;   /* undo the last damage first */
    }
    else {
        memset(&d, 0, sizeof(d));
        d.req = what;
        rv = calstore__run(st, 1, damage_txn, &d, pool);
        if (rv == APR_SUCCESS) {
            last_damage = d;
        }
        else {
            damage_free(&d);
        }
    }
    apr_pool_destroy(pool);
    return rv;
}

/*
 * caldav_props.c - dead properties (mod_dav's propdb hooks) in the store.
 *
 * A dead property is stored under (node id, namespace URI, local name) with
 * its value as a self-contained XML element: apr_xml_to_text() with
 * APR_XML_X2T_FULL_NS_LANG writes the element itself, an xmlns declaration
 * for every namespace it may use and its xml:lang.  Output is then a plain
 * copy of the stored text: no namespace table to keep in step, and values
 * with nested elements, foreign namespaces and languages come back intact.
 *
 * Writes: mod_dav validates every property of a PROPPATCH, executes them
 * one by one and, if any failed, rolls all of them back.  We collect the
 * sets and removes in memory and apply them in ONE transaction, unless a
 * rollback was requested: all-or-nothing without holding Berkeley DB locks
 * while mod_dav works.  Our PROPPATCH handler (caldav_methods.c) commits
 * through caldav_propdb_commit() before it answers; close() commits what is
 * left for any other caller, which can only log a failure.
 *
 * DAV:getcontenttype is a live property of ours; for allprop we list it in
 * the property iteration too, so mod_dav does not run a sub-request per
 * resource to find one.
 */
#include <apr_strings.h>
#include <apr_xml.h>

#include "mod_caldav.h"

/* mod_dav bounds nothing here: keep a PROPPATCH from growing without end */
#define CALDAV_MAX_PROPS_PER_RESOURCE 1000

#define CALDAV_RW_PROPDB_KEY "caldav-rw-propdb"

struct dav_namespace_map {
    const apr_array_header_t *namespaces;
};

struct dav_deadprop_rollback {
    int unused;
};

struct dav_db {
    apr_pool_t *pool;
    const dav_resource *resource;
    calstore_t *st;
    calstore_id_t id;
    int ro;
    apr_array_header_t *props;      /* calstore_prop_t, loaded on demand  */
    int iter;                       /* first_name/next_name position       */
    int iter_ctype;                 /* the virtual getcontenttype is next  */
    apr_array_header_t *patch;      /* pending calstore_prop_t ops         */
    int discard;                    /* a rollback was requested            */
};

static dav_error *caldav_db_load(dav_db *db)
{
    apr_status_t rv;

    if (db->props) {
        return NULL;
    }
    rv = calstore_prop_list(db->st, db->id, &db->props, db->pool);
    if (rv != APR_SUCCESS) {
        db->props = apr_array_make(db->pool, 1, sizeof(calstore_prop_t));
        return caldav_store_error(db->resource->info->r, rv,
                                  "Could not read the dead properties");
    }
    {
        /* the module's own bookkeeping is no property of the resource */
        int i, j;

        for (i = j = 0; i < db->props->nelts; i++) {
            calstore_prop_t *pr = &APR_ARRAY_IDX(db->props, i,
                                                 calstore_prop_t);

            if (strcmp(pr->ns, CALDAV_INTERNAL_NS) != 0) {
                APR_ARRAY_IDX(db->props, j++, calstore_prop_t) = *pr;
            }
        }
        db->props->nelts = j;
    }
    return NULL;
}

static calstore_prop_t *caldav_db_find(dav_db *db, const dav_prop_name *name)
{
    int i;

    if (caldav_db_load(db) != NULL) {
        return NULL;
    }
    for (i = 0; i < db->props->nelts; i++) {
        calstore_prop_t *p = &APR_ARRAY_IDX(db->props, i, calstore_prop_t);

        if (p->value && strcmp(p->name, name->name) == 0
            && strcmp(p->ns, name->ns) == 0) {
            return p;
        }
    }
    return NULL;
}

static dav_error *caldav_db_open(apr_pool_t *p, const dav_resource *resource,
                                 int ro, dav_db **pdb)
{
    dav_db *db;

    if (!resource->exists) {
        *pdb = NULL;
        return NULL;
    }
    db = apr_pcalloc(p, sizeof(*db));
    db->pool = p;
    db->resource = resource;
    db->st = resource->info->st;
    db->id = resource->info->node->id;
    db->ro = ro;
    if (!ro) {
        /* for caldav_propdb_commit() */
        apr_pool_userdata_setn(db, CALDAV_RW_PROPDB_KEY, NULL,
                               resource->info->r->pool);
    }
    *pdb = db;
    return NULL;
}

dav_error *caldav_propdb_commit(request_rec *r)
{
    void *data = NULL;
    dav_db *db;
    apr_status_t rv;

    apr_pool_userdata_get(&data, CALDAV_RW_PROPDB_KEY, r->pool);
    db = data;
    if (db == NULL || db->discard || db->patch == NULL
        || db->patch->nelts == 0) {
        return NULL;
    }
    rv = calstore_prop_patch(db->st, db->id, db->patch, db->pool);
    caldav_lookup_forget(r);
    db->patch = NULL;               /* consumed: close() has nothing left */
    if (rv != APR_SUCCESS) {
        db->discard = 1;
        return caldav_store_error(r, rv, "Could not store the properties "
                                  "(nothing was changed)");
    }
    return NULL;
}

static void caldav_db_close(dav_db *db)
{
    request_rec *r = db->resource->info->r;
    apr_status_t rv;
    char buf[256];

    if (db->ro || db->discard || db->patch == NULL || db->patch->nelts == 0) {
        return;
    }
    rv = calstore_prop_patch(db->st, db->id, db->patch, db->pool);
    caldav_lookup_forget(r);
    if (rv != APR_SUCCESS) {
        /* mod_dav gives close() no way to fail the request. */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, caldav_log_status(rv), r,
                      "PROPPATCH of %s could not be committed, nothing was "
                      "changed: %s", db->resource->uri,
                      calstore_strerror(rv, buf, sizeof(buf)));
    }
}

static dav_error *caldav_db_define_namespaces(dav_db *db,
                                              dav_xmlns_info *xi)
{
    return NULL;    /* values are self-contained */
}

static const char *caldav_ctype_value(apr_pool_t *p, const char *ctype)
{
    return apr_pstrcat(p, "<getcontenttype xmlns=\"DAV:\">",
                       apr_xml_quote_string(p, ctype, 0),
                       "</getcontenttype>", NULL);
}

static dav_error *caldav_db_output_value(dav_db *db,
                                         const dav_prop_name *name,
                                         dav_xmlns_info *xi,
                                         apr_text_header *phdr, int *found)
{
    calstore_prop_t *p;
    const calstore_node_t *node = db->resource->info->node;
    dav_error *err;

    *found = 0;
    if (strcmp(name->ns, "DAV:") == 0
        && strcmp(name->name, "getcontenttype") == 0
        && node->kind == CALSTORE_KIND_RESOURCE && node->content_type) {
        apr_text_append(db->pool, phdr,
                        caldav_ctype_value(db->pool, node->content_type));
        *found = 1;
        return NULL;
    }
    if ((err = caldav_db_load(db)) != NULL) {
        return err;
    }
    if ((p = caldav_db_find(db, name)) != NULL) {
        apr_text_append(db->pool, phdr, p->value);
        *found = 1;
    }
    return NULL;
}

static dav_error *caldav_db_map_namespaces(dav_db *db,
                                           const apr_array_header_t *namespaces,
                                           dav_namespace_map **mapping)
{
    dav_namespace_map *m = apr_palloc(db->pool, sizeof(*m));

    m->namespaces = namespaces;
    *mapping = m;
    return NULL;
}

static void caldav_db_queue(dav_db *db, const char *ns, const char *name,
                            const char *value, apr_size_t len)
{
    calstore_prop_t *op;
    int i;

    if (db->patch == NULL) {
        db->patch = apr_array_make(db->pool, 4, sizeof(calstore_prop_t));
    }
    op = apr_array_push(db->patch);
    op->ns = apr_pstrdup(db->pool, ns);
    op->name = apr_pstrdup(db->pool, name);
    op->value = value;
    op->len = len;

    /* keep the in-memory view in step for later reads in this request */
    if (caldav_db_load(db) != NULL) {
        return;
    }
    for (i = 0; i < db->props->nelts; i++) {
        calstore_prop_t *p = &APR_ARRAY_IDX(db->props, i, calstore_prop_t);

        if (strcmp(p->name, name) == 0 && strcmp(p->ns, ns) == 0) {
            p->value = value;
            p->len = len;
            return;
        }
    }
    if (value) {
        APR_ARRAY_PUSH(db->props, calstore_prop_t) = *op;
    }
}

const char *caldav_prop_serialize(apr_pool_t *p, apr_xml_elem *elem,
                                  const apr_array_header_t *namespaces,
                                  apr_size_t *len)
{
    const char *text;

    /* as mod_dav_fs does: quote in place (so: once per element) */
    apr_xml_quote_elem(p, elem);
    apr_xml_to_text(p, elem, APR_XML_X2T_FULL_NS_LANG,
                    (apr_array_header_t *)namespaces, NULL, &text, len);
    /* apr_xml_to_text's size is an upper bound (it counts namespace
     * declarations it may not write); the text ends at its NUL */
    *len = strlen(text);
    return text;
}

static dav_error *caldav_db_store(dav_db *db, const dav_prop_name *name,
                                  const apr_xml_elem *elem,
                                  dav_namespace_map *mapping)
{
    request_rec *r = db->resource->info->r;
    const char *text;
    apr_size_t len;
    dav_error *err;

    if (strcmp(name->ns, CALDAV_INTERNAL_NS) == 0) {
        return dav_new_error(db->pool, HTTP_FORBIDDEN, 0, 0,
                             "Properties in " CALDAV_INTERNAL_NS " are "
                             "protected");
    }
    if ((err = caldav_db_load(db)) != NULL) {
        return err;
    }
    if (caldav_db_find(db, name) == NULL
        && db->props->nelts >= CALDAV_MAX_PROPS_PER_RESOURCE) {
        return dav_new_error(db->pool, HTTP_INSUFFICIENT_STORAGE, 0, 0,
                             apr_psprintf(db->pool, "A resource may carry at "
                                          "most %d dead properties",
                                          CALDAV_MAX_PROPS_PER_RESOURCE));
    }
    text = caldav_prop_serialize(db->pool, (apr_xml_elem *)elem,
                                 mapping->namespaces, &len);
    if (len > 1024 * 1024) {
        return dav_new_error(db->pool, HTTP_INSUFFICIENT_STORAGE, 0, 0,
                             "A dead property value may be at most 1 MB");
    }
    (void)r;
    caldav_db_queue(db, name->ns, name->name, text, len);
    return NULL;
}

static dav_error *caldav_db_remove(dav_db *db, const dav_prop_name *name)
{
    if (strcmp(name->ns, CALDAV_INTERNAL_NS) == 0) {
        return dav_new_error(db->pool, HTTP_FORBIDDEN, 0, 0,
                             "Properties in " CALDAV_INTERNAL_NS " are "
                             "protected");
    }
    caldav_db_queue(db, name->ns, name->name, NULL, 0);
    return NULL;
}

static int caldav_db_exists(dav_db *db, const dav_prop_name *name)
{
    return caldav_db_find(db, name) != NULL;
}

static dav_error *caldav_db_next_name(dav_db *db, dav_prop_name *pname)
{
    const calstore_node_t *node = db->resource->info->node;

    while (db->props && db->iter < db->props->nelts) {
        calstore_prop_t *p = &APR_ARRAY_IDX(db->props, db->iter,
                                            calstore_prop_t);

        db->iter++;
        if (p->value) {
            pname->ns = p->ns;
            pname->name = p->name;
            return NULL;
        }
    }
    if (db->iter_ctype) {
        db->iter_ctype = 0;
        if (node->kind == CALSTORE_KIND_RESOURCE && node->content_type) {
            pname->ns = "DAV:";
            pname->name = "getcontenttype";
            return NULL;
        }
    }
    pname->ns = NULL;
    pname->name = NULL;
    return NULL;
}

static dav_error *caldav_db_first_name(dav_db *db, dav_prop_name *pname)
{
    dav_error *err = caldav_db_load(db);

    db->iter = 0;
    db->iter_ctype = 1;
    if (err) {
        pname->ns = NULL;
        pname->name = NULL;
        return err;
    }
    return caldav_db_next_name(db, pname);
}

static dav_error *caldav_db_get_rollback(dav_db *db,
                                         const dav_prop_name *name,
                                         dav_deadprop_rollback **prollback)
{
    /* non-NULL, so that mod_dav calls apply_rollback on failure */
    *prollback = apr_pcalloc(db->pool, sizeof(**prollback));
    return NULL;
}

static dav_error *caldav_db_apply_rollback(dav_db *db,
                                           dav_deadprop_rollback *rollback)
{
    db->discard = 1;
    return NULL;
}

const dav_hooks_propdb caldav_hooks_propdb = {
    caldav_db_open,
    caldav_db_close,
    caldav_db_define_namespaces,
    caldav_db_output_value,
    caldav_db_map_namespaces,
    caldav_db_store,
    caldav_db_remove,
    caldav_db_exists,
    caldav_db_first_name,
    caldav_db_next_name,
    caldav_db_get_rollback,
    caldav_db_apply_rollback,
    NULL                            /* ctx */
};

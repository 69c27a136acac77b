/*
 * caldav_liveprops.c - the live properties mod_caldav computes.
 *
 * RFC 4918 leaves creationdate, getcontentlength, getcontenttype, getetag
 * and getlastmodified to the provider; resourcetype, displayname (a dead
 * property) and the lock properties come from mod_dav itself.  All are
 * read-only: a PROPPATCH of one of them fails with 409 (mod_dav's
 * "read-only property" answer) and nothing of the PROPPATCH is applied.
 */
#include <apr_strings.h>

#include "mod_caldav.h"

static const char * const caldav_namespace_uris[] = {
    "DAV:",
    NULL
};

enum {
    CALDAV_NS_DAV = 0
};

static const dav_liveprop_spec caldav_props[] = {
    { CALDAV_NS_DAV, "creationdate",     DAV_PROPID_creationdate,     0 },
    { CALDAV_NS_DAV, "getcontentlength", DAV_PROPID_getcontentlength, 0 },
    { CALDAV_NS_DAV, "getcontenttype",   DAV_PROPID_getcontenttype,   0 },
    { CALDAV_NS_DAV, "getetag",          DAV_PROPID_getetag,          0 },
    { CALDAV_NS_DAV, "getlastmodified",  DAV_PROPID_getlastmodified,  0 },
    { 0 }
};

static dav_prop_insert caldav_insert_prop(const dav_resource *resource,
                                          int propid, dav_prop_insert what,
                                          apr_text_header *phdr);
static int caldav_is_writable(const dav_resource *resource, int propid);

static const dav_hooks_liveprop caldav_hooks_liveprop = {
    caldav_insert_prop,
    caldav_is_writable,
    caldav_namespace_uris,
    NULL,                           /* patch_validate */
    NULL,                           /* patch_exec */
    NULL,                           /* patch_commit */
    NULL,                           /* patch_rollback */
    NULL                            /* ctx */
};

static const dav_liveprop_group caldav_liveprop_group = {
    caldav_props,
    caldav_namespace_uris,
    &caldav_hooks_liveprop
};

static dav_prop_insert caldav_insert_prop(const dav_resource *resource,
                                          int propid, dav_prop_insert what,
                                          apr_text_header *phdr)
{
    const calstore_node_t *node = resource->info->node;
    apr_pool_t *p = resource->pool;
    char buf[CALDAV_TIMEBUF_SIZE + CALSTORE_ETAG_LEN];
    const dav_liveprop_spec *info;
    const char *value;
    long global_ns;

    if (!resource->exists) {
        return DAV_PROP_INSERT_NOTDEF;
    }
    switch (propid) {
    case DAV_PROPID_creationdate:
        caldav_format_iso8601(node->created, buf);
        value = buf;
        break;
    case DAV_PROPID_getcontentlength:
        if (resource->collection) {
            return DAV_PROP_INSERT_NOTDEF;
        }
        apr_snprintf(buf, sizeof(buf), "%" APR_OFF_T_FMT, node->length);
        value = buf;
        break;
    case DAV_PROPID_getcontenttype:
        if (resource->collection || node->content_type == NULL) {
            return DAV_PROP_INSERT_NOTDEF;
        }
        value = apr_xml_quote_string(p, node->content_type, 0);
        break;
    case DAV_PROPID_getetag:
        calstore_etag(node, buf);
        value = apr_xml_quote_string(p, buf, 0);
        break;
    case DAV_PROPID_getlastmodified:
        caldav_format_rfc1123(node->modified, buf);
        value = buf;
        break;
    default:
        return DAV_PROP_INSERT_NOTDEF;
    }

    global_ns = dav_get_liveprop_info(propid, &caldav_liveprop_group, &info);
    if (what == DAV_PROP_INSERT_VALUE) {
        apr_text_append(p, phdr,
                        apr_psprintf(p, "<lp%ld:%s>%s</lp%ld:%s>" DEBUG_CR,
                                     global_ns, info->name, value,
                                     global_ns, info->name));
    }
    else if (what == DAV_PROP_INSERT_NAME) {
        apr_text_append(p, phdr, apr_psprintf(p, "<lp%ld:%s/>" DEBUG_CR,
                                              global_ns, info->name));
    }
    else {
        apr_text_append(p, phdr,
                        apr_pstrcat(p, "<D:supported-live-property D:name=\"",
                                    info->name, "\" D:namespace=\"",
                                    caldav_namespace_uris[info->ns],
                                    "\"/>" DEBUG_CR, NULL));
    }
    return what;
}

static int caldav_is_writable(const dav_resource *resource, int propid)
{
    return 0;
}

static int caldav_find_liveprop(const dav_resource *resource,
                                const char *ns_uri, const char *name,
                                const dav_hooks_liveprop **hooks)
{
    if (resource->hooks != &caldav_hooks_repository) {
        return 0;
    }
    return dav_do_find_liveprop(ns_uri, name, &caldav_liveprop_group, hooks);
}

static void caldav_insert_all_liveprops(request_rec *r,
                                        const dav_resource *resource,
                                        dav_prop_insert what,
                                        apr_text_header *phdr)
{
    if (resource->hooks != &caldav_hooks_repository || !resource->exists) {
        return;
    }
    /* getcontenttype is listed by the propdb iteration (see
     * caldav_props.c), so that mod_dav skips its sub-request. */
    (void)caldav_insert_prop(resource, DAV_PROPID_creationdate, what, phdr);
    (void)caldav_insert_prop(resource, DAV_PROPID_getcontentlength, what,
                             phdr);
    (void)caldav_insert_prop(resource, DAV_PROPID_getetag, what, phdr);
    (void)caldav_insert_prop(resource, DAV_PROPID_getlastmodified, what,
                             phdr);
}

void caldav_liveprops_register(apr_pool_t *p)
{
    dav_register_liveprop_group(p, &caldav_liveprop_group);
    dav_hook_find_liveprop(caldav_find_liveprop, NULL, NULL, APR_HOOK_MIDDLE);
    dav_hook_insert_all_liveprops(caldav_insert_all_liveprops, NULL, NULL,
                                  APR_HOOK_MIDDLE);
}

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

#include <httpd.h>

#include "mod_caldav.h"
#include "calcore_tz.h"

static const char * const caldav_namespace_uris[] = {
    "DAV:",
    CALDAV_NS,
    CALDAV_CS_NS,
    NULL
};

enum {
    CALDAV_NS_DAV = 0,
    CALDAV_NS_CALDAV,
    CALDAV_NS_CS
};

/* provider-local ids for what DAV_PROPID_* does not name */
enum {
    CALDAV_PROPID_supported_report_set = 1,
    CALDAV_PROPID_calendar_timezone,
    CALDAV_PROPID_supported_calendar_component_set,
    CALDAV_PROPID_supported_calendar_data,
    CALDAV_PROPID_max_resource_size,
    CALDAV_PROPID_min_date_time,
    CALDAV_PROPID_max_date_time,
    CALDAV_PROPID_max_instances,
    CALDAV_PROPID_max_attendees_per_instance,
    CALDAV_PROPID_supported_collation_set,
    CALDAV_PROPID_calendar_data,
    CALDAV_PROPID_getctag,
    CALDAV_PROPID_current_user_principal,
    CALDAV_PROPID_principal_collection_set,
    CALDAV_PROPID_principal_URL,
    CALDAV_PROPID_owner,
    CALDAV_PROPID_calendar_home_set,
    CALDAV_PROPID_calendar_user_address_set,
    CALDAV_PROPID_current_user_privilege_set,
    CALDAV_PROPID_sync_token,
    CALDAV_PROPID_acl,
    CALDAV_PROPID_supported_privilege_set,
    CALDAV_PROPID_acl_restrictions,
    CALDAV_PROPID_inherited_acl_set
};

static const dav_liveprop_spec caldav_props[] = {
    { CALDAV_NS_DAV, "creationdate",     DAV_PROPID_creationdate,     0 },
    { CALDAV_NS_DAV, "getcontentlength", DAV_PROPID_getcontentlength, 0 },
    { CALDAV_NS_DAV, "getcontenttype",   DAV_PROPID_getcontenttype,   0 },
    { CALDAV_NS_DAV, "getetag",          DAV_PROPID_getetag,          0 },
    { CALDAV_NS_DAV, "getlastmodified",  DAV_PROPID_getlastmodified,  0 },
    { CALDAV_NS_DAV, "supported-report-set",
      CALDAV_PROPID_supported_report_set, 0 },
    { CALDAV_NS_CALDAV, "calendar-timezone",
      CALDAV_PROPID_calendar_timezone, 1 },
    { CALDAV_NS_CALDAV, "supported-calendar-component-set",
      CALDAV_PROPID_supported_calendar_component_set, 0 },
    { CALDAV_NS_CALDAV, "supported-calendar-data",
      CALDAV_PROPID_supported_calendar_data, 0 },
    { CALDAV_NS_CALDAV, "max-resource-size",
      CALDAV_PROPID_max_resource_size, 0 },
    { CALDAV_NS_CALDAV, "min-date-time", CALDAV_PROPID_min_date_time, 0 },
    { CALDAV_NS_CALDAV, "max-date-time", CALDAV_PROPID_max_date_time, 0 },
    { CALDAV_NS_CALDAV, "max-instances", CALDAV_PROPID_max_instances, 0 },
    { CALDAV_NS_CALDAV, "max-attendees-per-instance",
      CALDAV_PROPID_max_attendees_per_instance, 0 },
    { CALDAV_NS_CALDAV, "supported-collation-set",
      CALDAV_PROPID_supported_collation_set, 0 },
    { CALDAV_NS_CALDAV, "calendar-data", CALDAV_PROPID_calendar_data, 0 },
    { CALDAV_NS_CS, "getctag", CALDAV_PROPID_getctag, 0 },
    { CALDAV_NS_DAV, "current-user-principal",
      CALDAV_PROPID_current_user_principal, 0 },
    { CALDAV_NS_DAV, "principal-collection-set",
      CALDAV_PROPID_principal_collection_set, 0 },
    { CALDAV_NS_DAV, "principal-URL", CALDAV_PROPID_principal_URL, 0 },
    { CALDAV_NS_DAV, "owner", CALDAV_PROPID_owner, 0 },
    { CALDAV_NS_CALDAV, "calendar-home-set",
      CALDAV_PROPID_calendar_home_set, 0 },
    { CALDAV_NS_CALDAV, "calendar-user-address-set",
      CALDAV_PROPID_calendar_user_address_set, 0 },
    { CALDAV_NS_DAV, "current-user-privilege-set",
      CALDAV_PROPID_current_user_privilege_set, 0 },
    { CALDAV_NS_DAV, "sync-token", CALDAV_PROPID_sync_token, 0 },
    { CALDAV_NS_DAV, "acl", CALDAV_PROPID_acl, 0 },
    { CALDAV_NS_DAV, "supported-privilege-set",
      CALDAV_PROPID_supported_privilege_set, 0 },
    { CALDAV_NS_DAV, "acl-restrictions", CALDAV_PROPID_acl_restrictions, 0 },
    { CALDAV_NS_DAV, "inherited-acl-set", CALDAV_PROPID_inherited_acl_set,
      0 },
    { 0 }
};

/* RFC 3744 5.4: what the current user may do here (caldav_acl.c). */
static const char *caldav_privilege_set(const dav_resource *resource,
                                        apr_pool_t *p)
{
    return caldav_current_privileges(p, caldav_access_level(
                                            resource->info->r,
                                            resource->info->path));
}

static const char *caldav_href(apr_pool_t *p, const char *uri)
{
    return apr_pstrcat(p, "<D:href>",
                       apr_xml_quote_string(p, ap_escape_uri(p, uri), 0),
                       "</D:href>", NULL);
}

/* Principal properties (RFC 3744, RFC 5397, RFC 4791 6), or NULL. */
static const char *caldav_principal_value(const dav_resource *resource,
                                          int propid, apr_pool_t *p)
{
    request_rec *r = resource->info->r->main ? resource->info->r->main
                                             : resource->info->r;
    const calstore_node_t *node = resource->info->node;
    const char *root = resource->info->root_uri;
    int is_principal = node->kind == CALSTORE_KIND_COLLECTION
                       && (node->flags & CALDAV_NODE_PRINCIPAL);
    const char *owner;
    int area;

    switch (propid) {
    case CALDAV_PROPID_current_user_principal:
        return r->user ? caldav_href(p, caldav_principal_href(r, root,
                                                              r->user))
                       : "<D:unauthenticated/>";
    case CALDAV_PROPID_principal_collection_set:
        return caldav_href(p, caldav_principals_href(r, root));
    case CALDAV_PROPID_principal_URL:
        return is_principal ? caldav_href(p, resource->uri) : NULL;
    case CALDAV_PROPID_owner:
        owner = caldav_owner_of(r, resource->info->path, &area);
        return owner ? caldav_href(p, caldav_principal_href(r, root, owner))
                     : NULL;
    case CALDAV_PROPID_calendar_home_set:
        return is_principal ? caldav_href(p, caldav_home_href(r, root,
                                                              node->name))
                            : NULL;
    case CALDAV_PROPID_current_user_privilege_set:
        return caldav_privilege_set(resource, p);
    case CALDAV_PROPID_acl:
        return caldav_acl_value(resource, p);
    case CALDAV_PROPID_supported_privilege_set:
        return caldav_supported_privilege_set(p);
    case CALDAV_PROPID_acl_restrictions:
        return caldav_acl_restrictions();
    case CALDAV_PROPID_inherited_acl_set:
        return caldav_inherited_acl_set(resource, p);
    case CALDAV_PROPID_sync_token:
        return resource->collection
               ? apr_xml_quote_string(p, caldav_sync_token(p, node), 0)
               : NULL;
    case CALDAV_PROPID_calendar_user_address_set:
        return is_principal
               ? apr_pstrcat(p, "<D:href>",
                             apr_xml_quote_string(p, caldav_user_address(
                                                      r, node->name), 0),
                             "</D:href>", caldav_href(p, resource->uri),
                             NULL)
               : NULL;
    default:
        return NULL;
    }
}

#define CALDAV_XMLNS_C " xmlns:C=\"" CALDAV_NS "\""

/* The value of a CalDAV property of a calendar collection, or NULL when the
 * property is not defined on 'resource'. */
static const char *caldav_calendar_value(const dav_resource *resource,
                                         int propid, apr_pool_t *p)
{
    const calstore_node_t *node = resource->info->node;
    int is_cal = caldav_is_calendar(node);
    request_rec *r = resource->info->r;
    calcore_limits_t lim;
    char tbuf[CALCORE_TIME_STRLEN + 1];
    char etag[CALSTORE_ETAG_LEN];
    unsigned mask;
    const char *v;
    int i;

    switch (propid) {
    case CALDAV_PROPID_supported_report_set: {
        /* RFC 3744 9 and RFC 3253 3.8 everywhere; principal-match and
         * sync-collection on collections; the principal search on the
         * principal collection; the CalDAV reports on calendars and
         * their objects */
        const char *pp = caldav_principal_path(caldav_dir_config(r));
        int is_pcoll = resource->collection
                       && strcmp(resource->info->path, pp) == 0;

        return apr_pstrcat(p,
            "<D:supported-report><D:report><D:expand-property/>"
            "</D:report></D:supported-report>"
            "<D:supported-report><D:report><D:acl-principal-prop-set/>"
            "</D:report></D:supported-report>"
            "<D:supported-report><D:report><D:principal-property-search/>"
            "</D:report></D:supported-report>",
            resource->collection
            ? "<D:supported-report><D:report><D:principal-match/>"
              "</D:report></D:supported-report>"
              "<D:supported-report><D:report><D:sync-collection/>"
              "</D:report></D:supported-report>" : "",
            is_pcoll
            ? "<D:supported-report><D:report>"
              "<D:principal-search-property-set/></D:report>"
              "</D:supported-report>" : "",
            is_cal || caldav_is_calendar_object(resource)
            ? "<D:supported-report><D:report><C:calendar-query"
              CALDAV_XMLNS_C "/></D:report></D:supported-report>"
              "<D:supported-report><D:report><C:calendar-multiget"
              CALDAV_XMLNS_C "/></D:report></D:supported-report>"
              "<D:supported-report><D:report><C:free-busy-query"
              CALDAV_XMLNS_C "/></D:report></D:supported-report>" : "",
            NULL);
    }
    case CALDAV_PROPID_getctag:
        if (!is_cal) {
            return NULL;
        }
        calstore_etag(node, etag);
        /* apr_xml_quote_string() may return its argument: copy first */
        return apr_xml_quote_string(p, apr_pstrdup(p, etag), 0);
    default:
        break;
    }
    if (!is_cal) {
        return NULL;
    }
    caldav_server_limits(r, &lim);
    switch (propid) {
    case CALDAV_PROPID_supported_calendar_component_set:
        mask = caldav_comp_mask(node);
        v = "";
        for (i = 0; i < 8; i++) {
            if (mask & (1u << i)) {
                v = apr_pstrcat(p, v, "<C:comp" CALDAV_XMLNS_C " name=\"",
                                calcore_comp_name((calcore_comp_e)(1u << i)),
                                "\"/>", NULL);
            }
        }
        return v;
    case CALDAV_PROPID_supported_calendar_data:
        return "<C:calendar-data" CALDAV_XMLNS_C
               " content-type=\"text/calendar\" version=\"2.0\"/>"
               "<C:calendar-data" CALDAV_XMLNS_C
               " content-type=\"application/calendar+json\" version=\"2.0\"/>"
               "<C:calendar-data" CALDAV_XMLNS_C
               " content-type=\"application/calendar+xml\" version=\"2.0\"/>";
    case CALDAV_PROPID_max_resource_size:
        return apr_psprintf(p, "%" APR_SIZE_T_FMT, lim.max_resource_size);
    case CALDAV_PROPID_min_date_time:
        return apr_pstrdup(p, calcore_time_format(lim.min_date_time, tbuf));
    case CALDAV_PROPID_max_date_time:
        return apr_pstrdup(p, calcore_time_format(lim.max_date_time, tbuf));
    case CALDAV_PROPID_max_instances:
        return apr_psprintf(p, "%u", lim.max_instances);
    case CALDAV_PROPID_max_attendees_per_instance:
        return apr_psprintf(p, "%u", lim.max_attendees_per_instance);
    case CALDAV_PROPID_supported_collation_set:
        return "<C:supported-collation" CALDAV_XMLNS_C
               ">i;ascii-casemap</C:supported-collation>"
               "<C:supported-collation" CALDAV_XMLNS_C
               ">i;octet</C:supported-collation>"
               "<C:supported-collation" CALDAV_XMLNS_C
               ">i;unicode-casemap</C:supported-collation>";
    default:
        return NULL;
    }
}

static dav_prop_insert caldav_insert_prop(const dav_resource *resource,
                                          int propid, dav_prop_insert what,
                                          apr_text_header *phdr);
static int caldav_is_writable(const dav_resource *resource, int propid);

static dav_error *caldav_patch_validate(const dav_resource *resource,
                                        const apr_xml_elem *elem,
                                        int operation, void **context,
                                        int *defer_to_dead);
static dav_error *caldav_patch_exec(const dav_resource *resource,
                                    const apr_xml_elem *elem, int operation,
                                    void *context,
                                    dav_liveprop_rollback **rollback_ctx);
static void caldav_patch_commit(const dav_resource *resource, int operation,
                                void *context,
                                dav_liveprop_rollback *rollback_ctx);
static dav_error *caldav_patch_rollback(const dav_resource *resource,
                                        int operation, void *context,
                                        dav_liveprop_rollback *rollback_ctx);

static const dav_hooks_liveprop caldav_hooks_liveprop = {
    caldav_insert_prop,
    caldav_is_writable,
    caldav_namespace_uris,
    caldav_patch_validate,
    caldav_patch_exec,
    caldav_patch_commit,
    caldav_patch_rollback,
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
        if (caldav_is_calendar_object(resource)) {
            value = apr_pstrcat(p, "text/calendar; charset=utf-8; component=",
                                calcore_comp_name((calcore_comp_e)
                                    (node->flags & CALSTORE_RES_COMP_MASK)),
                                NULL);
            break;
        }
        if (resource->collection || node->content_type == NULL) {
            return DAV_PROP_INSERT_NOTDEF;
        }
        value = apr_xml_quote_string(p, node->content_type, 0);
        break;
    case CALDAV_PROPID_calendar_timezone:
        return DAV_PROP_INSERT_NOTDEF;      /* a dead property, validated */
    case CALDAV_PROPID_calendar_data:
        if (what != DAV_PROP_INSERT_VALUE) {
            value = NULL;
            break;
        }
        if ((value = caldav_report_calendar_data(resource)) == NULL) {
            return DAV_PROP_INSERT_NOTDEF;
        }
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
        if ((value = caldav_calendar_value(resource, propid, p)) == NULL
            && (value = caldav_principal_value(resource, propid, p))
               == NULL) {
            return DAV_PROP_INSERT_NOTDEF;
        }
        break;
    }

    global_ns = dav_get_liveprop_info(propid, &caldav_liveprop_group, &info);
    if (what == DAV_PROP_INSERT_VALUE) {
        /* calendar-data (the whole object, from the resource's pool) is
         * linked, not copied through a format string; other values may
         * live in 'buf' */
        apr_text_append(p, phdr, apr_psprintf(p, "<lp%ld:%s>", global_ns,
                                              info->name));
        apr_text_append(p, phdr, propid == CALDAV_PROPID_calendar_data
                                 ? value : apr_pstrdup(p, value));
        apr_text_append(p, phdr, apr_psprintf(p, "</lp%ld:%s>" DEBUG_CR,
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
    return propid == CALDAV_PROPID_calendar_timezone;
}

/* C:calendar-timezone is stored as a dead property, but only a VCALENDAR
 * with exactly one VTIMEZONE may be stored (RFC 4791 5.2.2). */
static dav_error *caldav_patch_validate(const dav_resource *resource,
                                        const apr_xml_elem *elem,
                                        int operation, void **context,
                                        int *defer_to_dead)
{
    request_rec *r = resource->info->r;
    const char *text, *reason;

    if (operation == DAV_PROP_OP_SET) {
        text = caldav_elem_cdata(r->pool, elem);
        if (calcore_tz_validate_vtimezone(text, strlen(text), &reason,
                                          r->pool) != APR_SUCCESS) {
            return dav_new_error(r->pool, HTTP_FORBIDDEN, 0, 0,
                                 apr_pstrcat(r->pool, "Invalid "
                                             "calendar-timezone (CalDAV "
                                             "valid-calendar-data): ",
                                             reason, NULL));
        }
    }
    *defer_to_dead = 1;
    return NULL;
}

static dav_error *caldav_patch_exec(const dav_resource *resource,
                                    const apr_xml_elem *elem, int operation,
                                    void *context,
                                    dav_liveprop_rollback **rollback_ctx)
{
    return NULL;    /* never called: everything is deferred to dead props */
}

static void caldav_patch_commit(const dav_resource *resource, int operation,
                                void *context,
                                dav_liveprop_rollback *rollback_ctx)
{
}

static dav_error *caldav_patch_rollback(const dav_resource *resource,
                                        int operation, void *context,
                                        dav_liveprop_rollback *rollback_ctx)
{
    return NULL;
}

/* ---- DAV:resourcetype and OPTIONS --------------------------------- */

static int caldav_get_resource_type(const dav_resource *resource,
                                    const char **name, const char **uri)
{
    *name = *uri = NULL;
    if (resource->hooks != &caldav_hooks_repository || !resource->exists) {
        return -1;
    }
    if (caldav_is_calendar(resource->info->node)) {
        *name = "calendar";
        *uri = CALDAV_NS;
        return 0;
    }
    if (resource->collection
        && (resource->info->node->flags & CALDAV_NODE_PRINCIPAL)) {
        *name = "principal";
        *uri = "DAV:";
        return 0;
    }
    return -1;
}

static const dav_resource_type_provider caldav_resource_type = {
    caldav_get_resource_type
};

static dav_error *caldav_options_header(request_rec *r,
                                        const dav_resource *resource,
                                        apr_text_header *phdr)
{
    if (resource == NULL || resource->hooks != &caldav_hooks_repository) {
        return NULL;
    }
    apr_text_append(r->pool, phdr, "calendar-access");
    apr_text_append(r->pool, phdr, "access-control");
    apr_text_append(r->pool, phdr, "extended-mkcol");
    return NULL;
}

static dav_error *caldav_options_method(request_rec *r,
                                        const dav_resource *resource,
                                        apr_text_header *phdr)
{
    if (resource == NULL || resource->hooks != &caldav_hooks_repository) {
        return NULL;
    }
    apr_text_append(r->pool, phdr, "REPORT");
    apr_text_append(r->pool, phdr, "MKCALENDAR");
    apr_text_append(r->pool, phdr, "ACL");
    return NULL;
}

static const dav_options_provider caldav_options = {
    caldav_options_header,
    caldav_options_method,
    NULL
};

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
    dav_resource_type_provider_register(p, "caldav", &caldav_resource_type);
    dav_options_provider_register(p, "caldav", &caldav_options);
    dav_hook_find_liveprop(caldav_find_liveprop, NULL, NULL, APR_HOOK_MIDDLE);
    dav_hook_insert_all_liveprops(caldav_insert_all_liveprops, NULL, NULL,
                                  APR_HOOK_MIDDLE);
}

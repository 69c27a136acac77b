/*
 * caldav_import.c - POST of an iCalendar file to a calendar collection:
 * an import, the same as `caldavctl import` (docs/import.md).
 *
 *   POST /dav/calendars/alice/calendar/[?stop-on-error=1]
 *   Content-Type: text/calendar (or application/calendar+json / +xml)
 *
 * The body may hold any number of VCALENDARs and components, as other
 * systems export them.  The import is the store's (calstore_import(),
 * shared with caldavctl): components are grouped by UID into objects (a
 * master with its overrides and the VTIMEZONEs they use), each validated
 * exactly as a PUT into the calendar, then written create-or-modify by UID,
 * all in ONE transaction.  Invalid objects are skipped and reported;
 * with ?stop-on-error=1 the first invalid object stops the import and
 * nothing is written (all-or-nothing).  The answer is a 207 with one
 * D:response per object of the input:
 *
 *   created    201, D:href of the new member
 *   modified   204, D:href of the member it replaced (the one with its UID)
 *   invalid    403, D:error with the CalDAV precondition, and a
 *              D:responsedescription with the UID or line and the reason;
 *              D:href is the member that holds its UID, or the one it
 *              would have been created as
 *   not written (stop-on-error)
 *              424 Failed Dependency
 *
 * The right needed is the one PUT into the calendar needs (DAV:write: the
 * owner, or a sharee granted read-write).  The body is bounded by
 * CalDAVMaxImportSize (413 beyond), not by CalDAVMaxResourceSize, which
 * still bounds each object (C:max-resource-size).  Vendor X- aliases and
 * default values of CalDAVImportMap (calcore_attrmap.h) are applied to
 * every component.
 */
#include <stdlib.h>

#include <apr_strings.h>
#include <apr_xml.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

#include "mod_caldav.h"
#include "calstore_import.h"

/* ---- the body --------------------------------------------------------- */

static apr_status_t free_buffer(void *data)
{
    free(*(char **)data);
    return APR_SUCCESS;
}

/* Read the request body (at most 'limit' octets) into memory that lives as
 * long as r->pool; *data is NUL-terminated.  OK, or the status to answer:
 * 413 beyond the limit, 400 when it cannot be read. */
static int import_read_body(request_rec *r, apr_off_t limit, char **data,
                            apr_size_t *len)
{
    char **buf = apr_pcalloc(r->pool, sizeof(*buf));
    apr_size_t cap, used = 0;
    int status;

    if ((status = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return status;
    }
    if (r->remaining > limit) {
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    cap = r->remaining > 0 ? (apr_size_t)r->remaining + 1 : 65536;
    if ((*buf = malloc(cap)) == NULL) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(r->pool, buf, free_buffer,
                              apr_pool_cleanup_null);
    if (ap_should_client_block(r)) {
        for (;;) {
            long n;

            if (used + 1 >= cap) {
                char *nb = realloc(*buf, cap * 2);

                if (nb == NULL) {
                    return HTTP_INTERNAL_SERVER_ERROR;
                }
                *buf = nb;
                cap *= 2;
            }
            n = ap_get_client_block(r, *buf + used, cap - used - 1);
            if (n == 0) {
                break;
            }
            if (n < 0) {
                return HTTP_BAD_REQUEST;
            }
            used += (apr_size_t)n;
            if ((apr_off_t)used > limit) {
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
        }
    }
    (*buf)[used] = '\0';
    *data = *buf;
    *len = used;
    return OK;
}

/* ---- the answer ------------------------------------------------------- */

static const char *status_line(int status)
{
    switch (status) {
    case HTTP_CREATED:           return "HTTP/1.1 201 Created";
    case HTTP_NO_CONTENT:        return "HTTP/1.1 204 No Content";
    case HTTP_FORBIDDEN:         return "HTTP/1.1 403 Forbidden";
    case HTTP_FAILED_DEPENDENCY: return "HTTP/1.1 424 Failed Dependency";
    default:                     return "HTTP/1.1 500 Internal Server Error";
    }
}

/* One D:response for 'res'. */
static void import_response(request_rec *r, apr_bucket_brigade *bb,
                            const char *coll_href,
                            const calstore_import_result_t *res,
                            apr_pool_t *scratch)
{
    const char *href = apr_pstrcat(scratch, coll_href,
                                   ap_escape_uri(scratch, res->name), NULL);
    calcore_precond_e pc = CALCORE_PRECOND_NONE;
    const char *desc = NULL;
    int status;

    switch (res->outcome) {
    case CALSTORE_IMPORT_CREATED:
        status = HTTP_CREATED;
        break;
    case CALSTORE_IMPORT_MODIFIED:
        status = HTTP_NO_CONTENT;
        break;
    default:
        desc = apr_pstrcat(scratch, res->label, ": ",
                           res->reason ? res->reason : "not written", NULL);
        switch (res->why) {
        case CALSTORE_IMPORT_NOT_WRITTEN:
            status = HTTP_FAILED_DEPENDENCY;
            break;
        case CALSTORE_IMPORT_REFUSED:
            status = HTTP_FORBIDDEN;
            pc = res->precond != CALCORE_PRECOND_NONE
                 ? res->precond
                 : CALCORE_PRECOND_VALID_CALENDAR_OBJECT_RESOURCE;
            break;
        default:
            /* invalid (or broken): the precondition validation named */
            status = res->status == APR_SUCCESS ? HTTP_FORBIDDEN
                                                : HTTP_INTERNAL_SERVER_ERROR;
            pc = res->precond;
            break;
        }
        break;
    }
    ap_fputstrs(r->output_filters, bb, "<D:response><D:href>",
                apr_xml_quote_string(scratch, href, 0), "</D:href><D:status>",
                status_line(status), "</D:status>", NULL);
    if (pc != CALCORE_PRECOND_NONE && calcore_precond_name(pc)) {
        ap_fputstrs(r->output_filters, bb, "<D:error><C:",
                    calcore_precond_name(pc), "/></D:error>", NULL);
    }
    if (desc) {
        ap_fputstrs(r->output_filters, bb, "<D:responsedescription>",
                    apr_xml_quote_string(scratch, desc, 0),
                    "</D:responsedescription>", NULL);
    }
    ap_fputs(r->output_filters, bb, "</D:response>\n");
}

static int import_multistatus(request_rec *r, const dav_resource *res,
                              const calstore_import_report_t *report)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool,
                                                r->connection->bucket_alloc);
    const char *coll_href = ap_escape_uri(
        r->pool, apr_pstrcat(r->pool, res->info->root_uri, "/",
                             res->info->path, "/", NULL));
    apr_pool_t *scratch;
    int i;

    r->status = HTTP_MULTI_STATUS;
    ap_set_content_type(r, "application/xml; charset=utf-8");
    ap_fputs(r->output_filters, bb,
             "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
             "<D:multistatus xmlns:D=\"DAV:\" xmlns:C=\"" CALDAV_NS "\">\n");
    apr_pool_create(&scratch, r->pool);
    for (i = 0; i < report->results->nelts; i++) {
        apr_pool_clear(scratch);
        import_response(r, bb, coll_href,
                        &APR_ARRAY_IDX(report->results, i,
                                       calstore_import_result_t), scratch);
        if (i % 256 == 255) {
            ap_fflush(r->output_filters, bb);
        }
    }
    apr_pool_destroy(scratch);
    if (report->warnings->nelts > 0) {
        ap_fputstrs(r->output_filters, bb, "<D:responsedescription>",
                    apr_xml_quote_string(r->pool,
                                         apr_array_pstrcat(r->pool,
                                                           report->warnings,
                                                           '\n'), 0),
                    "</D:responsedescription>\n", NULL);
    }
    ap_fputs(r->output_filters, bb, "</D:multistatus>\n");
    ap_pass_brigade(r->output_filters, bb);
    return DONE;
}

/* ---- the request ------------------------------------------------------ */

const char *caldav_import_map_load(apr_pool_t *pconf, const char *path,
                                   const calcore_attrmap_t **map)
{
    calcore_attrmap_t *parsed;
    const char *why;

    if (calcore_attrmap_load(&parsed, path, &why, pconf) != APR_SUCCESS) {
        return apr_pstrcat(pconf, "CalDAVImportMap ", why, NULL);
    }
    *map = parsed;
    return NULL;
}

apr_off_t caldav_max_import_size(const caldav_server_conf *conf)
{
    return conf->max_import_size ? conf->max_import_size
                                 : CALDAV_DEFAULT_MAX_IMPORT_SIZE;
}

/* Is the query argument 'name' given (without a value, or with 1, true,
 * yes, on)?  0 for anything else. */
static int import_flag(request_rec *r, const char *name)
{
    char *args, *pair, *last = NULL;
    apr_size_t n = strlen(name);

    if (r->args == NULL) {
        return 0;
    }
    args = apr_pstrdup(r->pool, r->args);
    for (pair = apr_strtok(args, "&", &last); pair;
         pair = apr_strtok(NULL, "&", &last)) {
        if (strncmp(pair, name, n) == 0
            && (pair[n] == '\0'
                || (pair[n] == '='
                    && (strcmp(pair + n + 1, "1") == 0
                        || strcasecmp(pair + n + 1, "true") == 0
                        || strcasecmp(pair + n + 1, "yes") == 0
                        || strcasecmp(pair + n + 1, "on") == 0)))) {
            return 1;
        }
    }
    return 0;
}

int caldav_import_post(request_rec *r, const dav_resource *res, int format)
{
    const caldav_server_conf *conf = caldav_server_config(r->server);
    calstore_import_report_t *report;
    calstore_import_opts_t opts;
    calcore_limits_t limits;
    const char *ical, *reason = NULL;
    apr_size_t len, icallen;
    apr_status_t rv;
    char *body;
    int status;

    /* what a PUT into the calendar takes: DAV:write (a sharee granted
     * read-write may) */
    if (caldav_access_level(r, res->info->path) < CALDAV_ACCESS_WRITE) {
        return dav_handle_err(r, caldav_need_privilege(r, r->uri,
                                                       "D:write"), NULL);
    }
    status = import_read_body(r, caldav_max_import_size(conf), &body, &len);
    if (status != OK) {
        if (status == HTTP_REQUEST_ENTITY_TOO_LARGE) {
            return dav_handle_err(r, dav_new_error(
                r->pool, status, 0, 0, apr_psprintf(
                    r->pool, "An import may hold at most %" APR_OFF_T_FMT
                    " octets (CalDAVMaxImportSize)",
                    caldav_max_import_size(conf))), NULL);
        }
        return status;
    }
    if (caldav_format_to_ical(format, body, len, &ical, &icallen, &reason,
                              r->pool) != APR_SUCCESS) {
        return dav_handle_err(r, caldav_precond_error(
            r, HTTP_FORBIDDEN, CALCORE_PRECOND_VALID_CALENDAR_DATA,
            apr_pstrcat(r->pool, "Not valid ", caldav_format_mime(format),
                        ": ", reason, NULL), NULL), NULL);
    }

    calstore_import_opts_default(&opts);
    caldav_server_limits(r, &limits);
    opts.limits = &limits;
    opts.stop_on_error = import_flag(r, "stop-on-error");
    opts.map = conf->import_map;
    rv = calstore_import(res->info->st, res->info->node, res->info->path,
                         ical, icallen, &opts, &report, r->pool);
    caldav_lookup_forget(r);
    if (report->floating_problem) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "calendar-timezone of %s is unusable (%s); floating "
                      "times are read as UTC", res->info->path,
                      report->floating_problem);
    }
    if (rv != APR_SUCCESS) {
        /* one transaction: nothing was written */
        return dav_handle_err(r, caldav_store_error(r, rv, "Could not "
                                                    "import into the "
                                                    "calendar"), NULL);
    }
    if (report->results->nelts == 0) {
        return dav_handle_err(r, caldav_precond_error(
            r, HTTP_FORBIDDEN, CALCORE_PRECOND_VALID_CALENDAR_DATA,
            "The body holds no calendar component (VEVENT, VTODO, "
            "VJOURNAL, VFREEBUSY, VAVAILABILITY)", NULL), NULL);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "import into %s: created %"
                  APR_SIZE_T_FMT ", modified %" APR_SIZE_T_FMT ", skipped %"
                  APR_SIZE_T_FMT, res->info->path, report->created,
                  report->modified, report->skipped);
    return import_multistatus(r, res, report);
}

/*
 * caldav_feed.c - GET on a calendar collection: the whole calendar as one
 * text/calendar VCALENDAR (a webcal feed), streamed.
 *
 *   GET /dav/calendars/alice/calendar/
 *       [?start=20240101T000000Z&end=20240201T000000Z[&expand=1]]
 *       [&component=VEVENT,VTODO]
 *
 * Every member's components are copied octet for octet from the stored
 * objects (calcore_feed_split), each distinct VTIMEZONE (by TZID) once,
 * just before the first component that may use it.  The calendar's
 * DAV:displayname and C:calendar-description become X-WR-CALNAME /
 * X-WR-CALDESC; REFRESH-INTERVAL and X-PUBLISHED-TTL come from
 * CalDAVFeedRefresh.  With start/end only objects with an instance in the
 * range are included (found through the time-range index, checked
 * exactly); with expand the recurrences are flattened into instances in
 * UTC (RFC 4791 9.6.5 semantics, so generated rather than copied text).
 *
 * The ETag is the collection's (it changes with every change of a member)
 * with a digest of the query string for the narrowed variants, so
 * If-None-Match / If-Modified-Since get 304 from mod_dav's GET and any
 * cache can keep the feed.  Objects are read one at a time into a scratch
 * pool and written through the output filters: memory does not grow with
 * the size of the calendar.
 */
#include <apr_strings.h>
#include <apr_xml.h>
#include <apr_md5.h>
#include <apr_general.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_script.h>
#include <util_filter.h>

#include "mod_caldav.h"
#include "calcore_feed.h"
#include "calcore_filter.h"
#include "calcore_caldata.h"
#include "calcore_jcal.h"

#define FEED_KEY "caldav-feed"
#define FEED_KINDS 8            /* calcore_comp_e bits                     */

typedef struct caldav_feed_t {
    int ranged;
    calcore_time_t start, end;
    int expand;
    unsigned comps;             /* calcore_comp_e bits; 0 = all             */
} caldav_feed_t;

int caldav_is_feed(const dav_resource *res)
{
    return res->exists && res->collection
           && caldav_is_calendar(res->info->node);
}

static const char *arg_value(apr_pool_t *p, const char *v)
{
    char *s = apr_pstrdup(p, v), *c;

    /* '+' is a space in a query string */
    for (c = s; *c; c++) {
        if (*c == '+') {
            *c = ' ';
        }
    }
    return ap_unescape_url(s) == OK ? s : NULL;
}

/* A start/end argument: "20240101T000000Z" or a date "20240101". */
static int parse_bound(const char *v, calcore_time_t *t)
{
    char buf[CALCORE_TIME_STRLEN + 1];

    if (strlen(v) == 8) {
        apr_snprintf(buf, sizeof(buf), "%sT000000Z", v);
        v = buf;
    }
    return calcore_time_parse(v, t) == APR_SUCCESS;
}

/* The query string of 'r' decoded into *params (key -> value; "" for a
 * key without '='), or a 400 for a badly escaped one. */
static dav_error *query_params(request_rec *r, apr_table_t **params)
{
    char *args, *pair, *last = NULL;

    *params = apr_table_make(r->pool, 4);
    args = r->args ? apr_pstrdup(r->pool, r->args) : NULL;
    for (pair = args ? apr_strtok(args, "&", &last) : NULL; pair;
         pair = apr_strtok(NULL, "&", &last)) {
        char *eq = strchr(pair, '=');
        const char *val = "";

        if (eq) {
            *eq = '\0';
            val = arg_value(r->pool, eq + 1);
        }
        if (val == NULL) {
            return dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                                 "A query parameter is badly escaped");
        }
        apr_table_setn(*params, pair, val);
    }
    return NULL;
}

/* A start/end parameter of 'params' into *t: 1 when given, 0 when not, a
 * 400 in *err when malformed. */
static int bound_param(request_rec *r, apr_table_t *params, const char *key,
                       calcore_time_t *t, dav_error **err)
{
    const char *v = apr_table_get(params, key);

    if (v == NULL) {
        return 0;
    }
    if (!parse_bound(v, t)) {
        *err = dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                             apr_pstrcat(r->pool, "The ", key, " parameter "
                                         "must be a UTC date-time such as "
                                         "20240101T000000Z or a date such as "
                                         "20240101", NULL));
    }
    return 1;
}

/* Parse r->args into the request's feed (kept as pool userdata for
 * caldav_feed_deliver), or a 400.  Other parameters (cache busters) are
 * ignored. */
static dav_error *feed_args(request_rec *r, caldav_feed_t **out)
{
    caldav_feed_t *f = apr_pcalloc(r->pool, sizeof(*f));
    apr_table_t *params;
    const char *v;
    dav_error *err = NULL;
    int have_start, have_end;

    if ((err = query_params(r, &params)) != NULL) {
        return err;
    }
    f->start = CALCORE_TIME_MIN;
    f->end = CALCORE_TIME_MAX;
    have_start = bound_param(r, params, "start", &f->start, &err);
    have_end = bound_param(r, params, "end", &f->end, &err);
    if (err) {
        return err;
    }
    if ((v = apr_table_get(params, "expand")) != NULL) {
        f->expand = !(strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0
                      || strcasecmp(v, "no") == 0);
    }
    if ((v = apr_table_get(params, "component")) != NULL) {
        char *list = apr_pstrdup(r->pool, v), *c, *l2 = NULL;

        for (c = apr_strtok(list, ",", &l2); c;
             c = apr_strtok(NULL, ",", &l2)) {
            calcore_comp_e k = calcore_comp_from_name(c);

            if (k == CALCORE_COMP_NONE) {
                return dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                                     apr_pstrcat(r->pool, "Unknown "
                                                 "component ", c,
                                                 " (VEVENT, VTODO, VJOURNAL, "
                                                 "VFREEBUSY, VAVAILABILITY)",
                                                 NULL));
            }
            f->comps |= (unsigned)k;
        }
    }
    f->ranged = have_start || have_end;
    if (f->ranged && f->start >= f->end) {
        return dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                             "The end of the range must be after its start");
    }
    if (f->expand && !(have_start && have_end)) {
        return dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                             "expand needs both start and end");
    }
    *out = f;
    return NULL;
}

dav_error *caldav_feed_headers(request_rec *r, const dav_resource *res)
{
    calstore_node_t *node = res->info->node;
    char etag[CALSTORE_ETAG_LEN];
    caldav_feed_t *f;
    dav_error *err;

    if ((err = feed_args(r, &f)) != NULL) {
        return err;
    }
    apr_pool_userdata_setn(f, FEED_KEY, NULL, r->pool);
    calstore_etag(node, etag);
    if (r->args && *r->args) {
        /* a variant: the collection's tag plus a digest of the query */
        unsigned char d[APR_MD5_DIGESTSIZE];
        char hex[2 * 6 + 1];
        int i;

        apr_md5(d, r->args, strlen(r->args));
        for (i = 0; i < 6; i++) {
            apr_snprintf(hex + 2 * i, 3, "%02x", d[i]);
        }
        etag[strlen(etag) - 1] = '\0';          /* drop the closing quote */
        apr_table_setn(r->headers_out, "ETag",
                       apr_pstrcat(r->pool, etag, "-", hex, "\"", NULL));
    }
    else {
        apr_table_setn(r->headers_out, "ETag", apr_pstrdup(r->pool, etag));
    }
    ap_update_mtime(r, node->modified);
    ap_set_last_modified(r);
    ap_set_content_type(r, "text/calendar; charset=utf-8");
    caldav_format_headers(r, caldav_format_accept(r));
    return NULL;
}

/* ---- the body ---------------------------------------------------------- */

typedef struct feed_ctx {
    request_rec *r;
    const dav_resource *res;
    const caldav_feed_t *f;
    const caldav_calendar_t *cal;
    calcore_compfilter_t *filters[FEED_KINDS];
    apr_hash_t *tzids;          /* TZIDs written so far                     */
    apr_pool_t *tzpool;
    ap_filter_t *out;
    apr_bucket_brigade *bb;
    apr_array_header_t *pending;/* VTIMEZONEs of the current object         */
    apr_status_t wrv;           /* first write error                        */
    int format;                 /* CALDAV_FMT_*                             */
    int written;                /* components written so far                */
    apr_pool_t *convpool;       /* jCal / xCal conversions                  */
} feed_ctx;

/* Write one top-level component, in the feed's format. */
static void feed_write(feed_ctx *x, const char *text, apr_size_t len)
{
    const char *out, *reason = NULL;
    apr_size_t olen;
    apr_status_t rv;

    if (x->wrv != APR_SUCCESS) {
        return;
    }
    if (x->format != CALDAV_FMT_ICAL) {
        apr_pool_clear(x->convpool);
        rv = x->format == CALDAV_FMT_JCAL
             ? calcore_jcal_component(text, len, &out, &olen, &reason,
                                      x->convpool)
             : calcore_xcal_component(text, len, &out, &olen, &reason,
                                      x->convpool);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, x->r,
                          "feed: a component left out (no %s form: %s)",
                          caldav_format_mime(x->format), reason);
            return;
        }
        if (x->format == CALDAV_FMT_JCAL && x->written) {
            x->wrv = ap_fputs(x->out, x->bb, CALCORE_JCAL_SEPARATOR);
        }
        if (x->wrv == APR_SUCCESS) {
            x->wrv = ap_fwrite(x->out, x->bb, out, olen);
        }
        x->written++;
        return;
    }
    x->wrv = ap_fwrite(x->out, x->bb, text, len);
    /* a component cut from an object whose last line lacks its break */
    if (x->wrv == APR_SUCCESS && len && text[len - 1] != '\n') {
        x->wrv = ap_fwrite(x->out, x->bb, "\r\n", 2);
    }
    x->written++;
}

typedef struct tzpart {
    const char *tzid;
    const char *text;
    apr_size_t len;
} tzpart;

static apr_status_t part_cb(void *baton, const char *name, const char *text,
                            apr_size_t len, const char *tzid,
                            apr_pool_t *scratch)
{
    feed_ctx *x = baton;

    if (strcmp(name, "VTIMEZONE") == 0) {
        if (tzid && !apr_hash_get(x->tzids, tzid, APR_HASH_KEY_STRING)) {
            tzpart *t = apr_array_push(x->pending);

            t->tzid = tzid;
            t->text = text;
            t->len = len;
        }
        return APR_SUCCESS;
    }
    /* the object's new zones go just before its first other component */
    while (x->pending->nelts) {
        tzpart *t = &APR_ARRAY_IDX(x->pending, 0, tzpart);
        int i;

        if (!apr_hash_get(x->tzids, t->tzid, APR_HASH_KEY_STRING)) {
            apr_hash_set(x->tzids, apr_pstrdup(x->tzpool, t->tzid),
                         APR_HASH_KEY_STRING, "");
            feed_write(x, t->text, t->len);
        }
        for (i = 1; i < x->pending->nelts; i++) {
            APR_ARRAY_IDX(x->pending, i - 1, tzpart) =
                APR_ARRAY_IDX(x->pending, i, tzpart);
        }
        x->pending->nelts--;
    }
    (void)scratch;
    feed_write(x, text, len);
    return x->wrv;
}

/* A VCALENDAR filter with one comp-filter of 'kind' and a time-range. */
static calcore_compfilter_t *range_filter(apr_pool_t *p, calcore_comp_e kind,
                                          calcore_time_t s, calcore_time_t e)
{
    calcore_compfilter_t *root = apr_pcalloc(p, sizeof(*root));
    calcore_compfilter_t *cf = apr_pcalloc(p, sizeof(*cf));

    root->name = "VCALENDAR";
    root->comp_filters = apr_array_make(p, 1, sizeof(calcore_compfilter_t *));
    APR_ARRAY_PUSH(root->comp_filters, calcore_compfilter_t *) = cf;
    cf->name = calcore_comp_name(kind);
    cf->time_range = apr_pcalloc(p, sizeof(*cf->time_range));
    cf->time_range->start = s;
    cf->time_range->end = e;
    return root;
}

static int comp_index(calcore_comp_e kind)
{
    int i = 0;

    while (kind > 1 && i < FEED_KINDS - 1) {
        kind >>= 1;
        i++;
    }
    return i;
}

static apr_status_t object_cb(void *baton, const calstore_node_t *node,
                              const void *record, apr_size_t rlen,
                              apr_pool_t *scratch)
{
    feed_ctx *x = baton;
    calcore_comp_e kind = (calcore_comp_e)(node->flags
                                           & CALSTORE_RES_COMP_MASK);
    calcore_object_t *obj = NULL;
    const char *data, *reason;
    apr_size_t len;
    apr_status_t rv;

    (void)record;
    (void)rlen;
    rv = calstore_read(x->res->info->st, node->id, &data, &len, scratch);
    if (rv == CALSTORE_ENOENT) {
        return APR_SUCCESS;     /* deleted meanwhile */
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (x->f->ranged) {
        int i = comp_index(kind);

        if (calcore_object_load(&obj, &reason, data, len, scratch)
            != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, x->r,
                          "feed: skipping %s: %s", node->name, reason);
            return APR_SUCCESS;
        }
        if (!x->filters[i]) {
            x->filters[i] = range_filter(x->r->pool, kind, x->f->start,
                                         x->f->end);
        }
        if (!calcore_filter_match(x->filters[i], obj, x->cal->floating,
                                  scratch)) {
            return APR_SUCCESS;
        }
    }
    if (x->f->expand) {
        calcore_caldata_t spec;

        memset(&spec, 0, sizeof(spec));
        spec.expand = 1;
        spec.expand_range.start = x->f->start;
        spec.expand_range.end = x->f->end;
        spec.max_instances = x->cal->limits.max_instances;
        rv = calcore_caldata_render(&spec, obj, x->cal->floating, &data, &len,
                                    scratch);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    x->pending->nelts = 0;
    rv = calcore_feed_split(data, len, part_cb, x, scratch);
    if (rv == APR_SUCCESS && x->wrv == APR_SUCCESS) {
        /* keep the brigade from holding the whole feed */
        rv = ap_fflush(x->out, x->bb);
        if (rv == APR_SUCCESS) {
            apr_brigade_cleanup(x->bb);
        }
    }
    return rv != APR_SUCCESS ? rv : x->wrv;
}

static const char *refresh_duration(request_rec *r)
{
    const caldav_dir_conf *conf = caldav_dir_config(r);
    apr_int64_t s = conf->feed_refresh > 0 ? conf->feed_refresh
                                           : CALDAV_DEFAULT_FEED_REFRESH;

    if (s % 86400 == 0) {
        return apr_psprintf(r->pool, "P%" APR_INT64_T_FMT "D", s / 86400);
    }
    if (s % 3600 == 0) {
        return apr_psprintf(r->pool, "PT%" APR_INT64_T_FMT "H", s / 3600);
    }
    if (s % 60 == 0) {
        return apr_psprintf(r->pool, "PT%" APR_INT64_T_FMT "M", s / 60);
    }
    return apr_psprintf(r->pool, "PT%" APR_INT64_T_FMT "S", s);
}

dav_error *caldav_feed_deliver(const dav_resource *res, ap_filter_t *output)
{
    request_rec *r = res->info->r;
    calstore_t *st = res->info->st;
    const calstore_node_t *node = res->info->node;
    caldav_feed_t *f = NULL;
    caldav_calendar_t *cal;
    const char *name, *desc, *dur;
    apr_pool_t *scratch;
    feed_ctx x;
    dav_error *err;
    apr_status_t rv;

    apr_pool_userdata_get((void **)&f, FEED_KEY, r->pool);
    if (f == NULL && (err = feed_args(r, &f)) != NULL) {
        return err;
    }
    if ((err = caldav_calendar_open(r, st, node, &cal)) != NULL) {
        return err;
    }
    memset(&x, 0, sizeof(x));
    x.r = r;
    x.res = res;
    x.f = f;
    x.cal = cal;
    x.out = output;
    x.bb = apr_brigade_create(r->pool, output->c->bucket_alloc);
    apr_pool_create(&x.tzpool, r->pool);
    x.tzids = apr_hash_make(x.tzpool);
    x.pending = apr_array_make(r->pool, 4, sizeof(tzpart));

    name = calstore_prop_text(st, node->id, "DAV:", "displayname", r->pool);
    desc = calstore_prop_text(st, node->id, CALDAV_NS,
                              "calendar-description", r->pool);
    dur = refresh_duration(r);
    x.format = caldav_format_accept(r);
    apr_pool_create(&x.convpool, r->pool);
    {
        /* the calendar's own properties */
        const char *props = apr_pstrcat(
            r->pool, "VERSION:2.0\r\nPRODID:-//mod_caldav//feed//EN\r\n"
            "CALSCALE:GREGORIAN\r\n",
            name && *name ? calcore_feed_text_line(r->pool, "X-WR-CALNAME",
                                                   name) : "",
            desc && *desc ? calcore_feed_text_line(r->pool, "X-WR-CALDESC",
                                                   desc) : "",
            "REFRESH-INTERVAL;VALUE=DURATION:", dur, "\r\nX-PUBLISHED-TTL:",
            dur, "\r\n", NULL);
        const char *open, *reason = NULL;
        apr_size_t olen;

        if (x.format == CALDAV_FMT_ICAL) {
            x.wrv = ap_fputstrs(output, x.bb, "BEGIN:VCALENDAR\r\n", props,
                                NULL);
        }
        else if ((x.format == CALDAV_FMT_JCAL
                  ? calcore_jcal_calendar_open(props, strlen(props), &open,
                                               &olen, &reason, r->pool)
                  : calcore_xcal_calendar_open(props, strlen(props), &open,
                                               &olen, &reason, r->pool))
                 != APR_SUCCESS) {
            return dav_new_error(r->pool, HTTP_INTERNAL_SERVER_ERROR, 0, 0,
                                 apr_pstrcat(r->pool, "Could not start the "
                                             "feed: ", reason, NULL));
        }
        else {
            x.wrv = ap_fwrite(output, x.bb, open, olen);
        }
    }

    apr_pool_create(&scratch, r->pool);
    if (f->ranged) {
        rv = calstore_query_range(st, node->id, f->start, f->end, f->comps,
                                  object_cb, &x, scratch);
    }
    else {
        rv = calstore_query_all(st, node->id, f->comps, object_cb, &x,
                                scratch);
    }
    apr_pool_destroy(scratch);
    if (rv != APR_SUCCESS && x.wrv == APR_SUCCESS) {
        /* headers are out: all we can do is cut the feed short */
        char buf[256];

        ap_log_rerror(APLOG_MARK, APLOG_ERR, caldav_log_status(rv), r,
                      "feed of %s cut short: %s", res->uri,
                      calstore_strerror(rv, buf, sizeof(buf)));
        return dav_new_error(r->pool, AP_FILTER_ERROR, 0, rv,
                             "The feed could not be completed");
    }
    if (x.wrv == APR_SUCCESS) {
        x.wrv = ap_fputs(output, x.bb,
                         x.format == CALDAV_FMT_JCAL
                         ? CALCORE_JCAL_CALENDAR_CLOSE
                         : x.format == CALDAV_FMT_XCAL
                           ? CALCORE_XCAL_CALENDAR_CLOSE
                           : "END:VCALENDAR\r\n");
    }
    if (x.wrv == APR_SUCCESS) {
        APR_BRIGADE_INSERT_TAIL(x.bb, apr_bucket_eos_create(
                                          output->c->bucket_alloc));
        x.wrv = ap_pass_brigade(output, x.bb);
    }
    if (x.wrv != APR_SUCCESS) {
        return dav_new_error(r->pool, AP_FILTER_ERROR, 0, x.wrv,
                             "Could not write the feed");
    }
    return NULL;
}

/* ---- free/busy URL ----------------------------------------------------- */

#define FB_DEFAULT_PERIOD (42 * 86400)      /* six weeks */

/* The user a free/busy URL names: <location>/<principals>/<user>/
 * freebusy.ifb, or NULL. */
static const char *freebusy_user(request_rec *r, const caldav_dir_conf *conf)
{
    const char *loc = conf->location ? conf->location : "";
    const char *pp = caldav_principal_path(conf);
    apr_size_t n = strlen(loc), k = strlen(pp);
    const char *u = r->uri, *slash;

    while (n > 0 && loc[n - 1] == '/') {
        n--;
    }
    if (strncmp(u, loc, n) != 0 || u[n] != '/'
        || strncmp(u + n + 1, pp, k) != 0 || u[n + 1 + k] != '/') {
        return NULL;
    }
    u += n + 1 + k + 1;
    slash = strchr(u, '/');
    if (!slash || slash == u || strcmp(slash, "/freebusy.ifb") != 0) {
        return NULL;
    }
    return apr_pstrndup(r->pool, u, slash - u);
}

int caldav_freebusy_url(request_rec *r)
{
    const caldav_dir_conf *conf = caldav_dir_config(r);
    const char *user, *home, *text;
    calstore_node_t *node = NULL;
    calcore_time_t start, end, now;
    apr_int64_t period = FB_DEFAULT_PERIOD;
    apr_table_t *params;
    const char *v;
    int have_end = 0;
    calcore_fb_t *fb;
    calstore_t *st;
    apr_size_t len;
    apr_status_t rv;
    dav_error *err = NULL;

    if ((user = freebusy_user(r, conf)) == NULL) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        r->allowed = (AP_METHOD_BIT << M_GET) | (AP_METHOD_BIT << M_OPTIONS);
        return r->method_number == M_OPTIONS ? DECLINED
                                             : HTTP_METHOD_NOT_ALLOWED;
    }
    if (!conf->store_dir || !(st = caldav_store_for(conf->store_dir))) {
        return HTTP_SERVICE_UNAVAILABLE;
    }

    /* the window: start (default: today 00:00 UTC), end or period */
    now = calcore_time_now();
    start = now - (now % 86400 + 86400) % 86400;
    err = query_params(r, &params);
    if (!err) {
        (void)bound_param(r, params, "start", &start, &err);
        have_end = bound_param(r, params, "end", &end, &err);
    }
    if (!err && (v = apr_table_get(params, "period")) != NULL
        && calcore_duration_parse(v, &period) != APR_SUCCESS) {
        err = dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                            "Bad period parameter (P6W, P30D, ...)");
    }
    if (err) {
        return dav_handle_err(r, err, NULL);
    }
    if (!have_end) {
        end = start + period;
    }
    if (end <= start || end - start > APR_INT64_C(366) * 86400) {
        err = dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                            "The free/busy window must end after it starts "
                            "and span at most a year");
        return dav_handle_err(r, err, NULL);
    }

    home = apr_pstrcat(r->pool, caldav_home_path(conf), "/", user, NULL);
    if ((err = caldav_lookup_node(r, st, home, &node)) != NULL) {
        return dav_handle_err(r, err, NULL);
    }
    if (node == NULL) {
        return HTTP_NOT_FOUND;
    }
    /* the owner, or someone with C:read-free-busy on a calendar of it */
    if (caldav_access_level(r, home) < CALDAV_ACCESS_FREEBUSY) {
        return dav_handle_err(r, caldav_need_privilege(r, r->uri,
                                                       "C:read-free-busy"),
                              NULL);
    }
    fb = calcore_fb_create(start, end, r->pool);
    rv = caldav_freebusy_collect(r, st, home, node, fb);
    if (rv != APR_SUCCESS) {
        return dav_handle_err(r, caldav_store_error(r, rv, "Could not "
                                                    "compute free/busy "
                                                    "time"), NULL);
    }
    if (calcore_fb_render(fb, &text, &len, r->pool) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_set_content_type(r, "text/calendar; charset=utf-8");
    ap_set_content_length(r, (apr_off_t)len);
    apr_table_setn(r->headers_out, "Cache-Control", "private, max-age=60");
    if (!r->header_only) {
        ap_rwrite(text, (int)len, r);
    }
    return OK;
}

/* ---- public (secret-URL) feeds ---------------------------------------- */

#define SECRET_PROP  "feed-secret"
#define SECRET_BYTES 16

/* Compare without an early exit (the time taken says nothing about how
 * much of a guessed secret was right). */
static int caldav_secret_equal(const char *a, const char *b, apr_size_t n)
{
    unsigned char d = 0;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        d |= (unsigned char)(a[i] ^ b[i]);
    }
    return d == 0;
}

/* POST <calendar> with action=publish / action=unpublish (form encoded):
 * a new secret feed URL (any older one stops working), or none. */
static int feed_publish(request_rec *r, dav_resource *res, int publish)
{
    const caldav_dir_conf *conf = caldav_dir_config(r);
    apr_array_header_t *patch = apr_array_make(r->pool, 1,
                                               sizeof(calstore_prop_t));
    calstore_prop_t *op = apr_array_push(patch);
    unsigned char rnd[SECRET_BYTES];
    char secret[2 * SECRET_BYTES + 1];
    const char *url;
    apr_status_t rv;
    int i;

    op->ns = CALDAV_INTERNAL_NS;
    op->name = SECRET_PROP;
    op->value = NULL;
    if (publish) {
        if (!conf->public_feed_url) {
            return dav_handle_err(r, dav_new_error(
                r->pool, HTTP_CONFLICT, 0, 0, "No public feed location is "
                "configured here (CalDAVPublicFeedURL)"), NULL);
        }
        if ((rv = apr_generate_random_bytes(rnd, sizeof(rnd)))
            != APR_SUCCESS) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        for (i = 0; i < SECRET_BYTES; i++) {
            apr_snprintf(secret + 2 * i, 3, "%02x", rnd[i]);
        }
        op->value = secret;
        op->len = strlen(secret);
    }
    rv = calstore_prop_patch(res->info->st, res->info->node->id, patch,
                             r->pool);
    caldav_lookup_forget(r);
    if (rv != APR_SUCCESS) {
        return dav_handle_err(r, caldav_store_error(r, rv, "Could not store "
                                                    "the feed secret"),
                              NULL);
    }
    if (!publish) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "public feed of %s revoked", res->uri);
        return HTTP_NO_CONTENT;
    }
    url = apr_psprintf(r->pool, "%s/%" APR_UINT64_T_HEX_FMT "-%s.ics",
                       conf->public_feed_url, res->info->node->id, secret);
    url = ap_construct_url(r->pool, url, r);
    apr_table_setn(r->headers_out, "Location", url);
    ap_set_content_type(r, "text/plain; charset=utf-8");
    r->status = HTTP_CREATED;
    ap_rputs(url, r);
    ap_rputs("\n", r);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "public feed of %s published", res->uri);
    return OK;
}

int caldav_method_post(request_rec *r)
{
    const char *ctype = apr_table_get(r->headers_in, "Content-Type");
    apr_array_header_t *pairs = NULL;
    const char *action = NULL;
    dav_resource *res;
    dav_error *err;
    int i, format;

    if ((err = dav_get_resource(r, 0, 0, &res)) != NULL) {
        return dav_handle_err(r, err, NULL);
    }
    if (!res->exists) {
        return HTTP_NOT_FOUND;
    }
    if (!caldav_is_feed(res)) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    /* calendar data: an import (caldav_import.c); a form: publishing */
    format = ctype ? caldav_format_of(ctype) : -1;
    if (format >= 0) {
        return caldav_import_post(r, res, format);
    }
    if (!ctype || strncasecmp(ctype, "application/x-www-form-urlencoded",
                              33) != 0) {
        return dav_handle_err(r, dav_new_error(
            r->pool, HTTP_UNSUPPORTED_MEDIA_TYPE, 0, 0, "POST to a "
            "calendar takes text/calendar, application/calendar+json or "
            "application/calendar+xml (an import), or "
            "application/x-www-form-urlencoded (action=publish or "
            "action=unpublish)"), NULL);
    }
    if (caldav_access_level(r, res->info->path) < CALDAV_ACCESS_OWNER) {
        return dav_handle_err(r, caldav_need_privilege(r, res->uri,
                                                       "D:write-acl"),
                              NULL);
    }
    if (ap_parse_form_data(r, NULL, &pairs, 16, 4096) != OK) {
        return HTTP_BAD_REQUEST;
    }
    for (i = 0; pairs && i < pairs->nelts; i++) {
        ap_form_pair_t *pair = &APR_ARRAY_IDX(pairs, i, ap_form_pair_t);

        if (strcmp(pair->name, "action") == 0) {
            apr_off_t len;
            apr_size_t size;
            char *buf;

            apr_brigade_length(pair->value, 1, &len);
            size = (apr_size_t)len;
            buf = apr_palloc(r->pool, size + 1);
            apr_brigade_flatten(pair->value, buf, &size);
            buf[size] = '\0';
            action = buf;
        }
    }
    if (action && strcmp(action, "publish") == 0) {
        return feed_publish(r, res, 1);
    }
    if (action && strcmp(action, "unpublish") == 0) {
        return feed_publish(r, res, 0);
    }
    return dav_handle_err(r, dav_new_error(r->pool, HTTP_BAD_REQUEST, 0, 0,
                                           "Unknown action (publish or "
                                           "unpublish)"), NULL);
}

/* SetHandler caldav-public-feed: GET <base>/<id hex>-<secret>.ics */
int caldav_public_feed_handler(request_rec *r)
{
    const caldav_dir_conf *conf;
    const char *last, *dash, *secret, *stored, *path;
    calstore_node_t *node = NULL;
    dav_resource *res;
    calstore_t *st;
    apr_uint64_t id;
    apr_size_t slen;
    dav_error *err;
    char *end;
    int status;

    if (!r->handler || strcmp(r->handler, "caldav-public-feed") != 0) {
        return DECLINED;
    }
    r->allowed = (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    conf = caldav_dir_config(r);
    if (!conf->store_dir || !(st = caldav_store_for(conf->store_dir))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "caldav-public-feed: no "
                      "CalDAVFeedStore for this location");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    last = strrchr(r->uri, '/');
    last = last ? last + 1 : r->uri;
    dash = strchr(last, '-');
    if (!dash || strlen(dash + 1) != 2 * SECRET_BYTES + 4
        || strcmp(dash + 1 + 2 * SECRET_BYTES, ".ics") != 0) {
        return HTTP_NOT_FOUND;
    }
    id = apr_strtoi64(last, &end, 16);
    if (end != dash || id <= 0) {
        return HTTP_NOT_FOUND;
    }
    secret = apr_pstrndup(r->pool, dash + 1, 2 * SECRET_BYTES);
    if (calstore_get_node(st, (calstore_id_t)id, &node, &path, r->pool)
        != APR_SUCCESS || !caldav_is_calendar(node)
        || calstore_prop_get(st, node->id, CALDAV_INTERNAL_NS, SECRET_PROP,
                             &stored, &slen, r->pool) != APR_SUCCESS
        || slen != 2 * SECRET_BYTES
        || !caldav_secret_equal(stored, secret, slen)) {
        return HTTP_NOT_FOUND;      /* no difference between "no such
                                       calendar" and "wrong secret" */
    }
    if ((err = caldav_resolve(r, st, "", path, &res)) != NULL) {
        return dav_handle_err(r, err, NULL);
    }
    if (!caldav_is_feed(res)) {
        return HTTP_NOT_FOUND;
    }
    if ((err = caldav_feed_headers(r, res)) != NULL) {
        return dav_handle_err(r, err, NULL);
    }
    if ((status = ap_meets_conditions(r)) != OK) {
        return status;
    }
    if (r->header_only) {
        return OK;
    }
    if ((err = caldav_feed_deliver(res, r->output_filters)) != NULL) {
        return dav_handle_err(r, err, NULL);
    }
    return OK;
}

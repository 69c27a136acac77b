/*
 * caldav_format.c - the three representations of calendar data:
 * text/calendar (what is stored), application/calendar+json (jCal, RFC
 * 7265) and application/calendar+xml (xCal, RFC 6321).  The conversions
 * are core's (calcore_jcal.h); here: which one a request asks for (Accept,
 * Content-Type, the content-type attribute of C:calendar-data) and the
 * HTTP details (Vary, a distinct ETag per representation).
 */
#include <apr_strings.h>
#include <apr_lib.h>
#include <http_protocol.h>

#include "mod_caldav.h"
#include "calcore_jcal.h"

static const char *const mimes[] = {
    "text/calendar", "application/calendar+json", "application/calendar+xml"
};

int caldav_format_of(const char *ctype)
{
    apr_size_t n;
    const char *semi;
    int i;

    if (ctype == NULL) {
        return CALDAV_FMT_ICAL;
    }
    while (*ctype == ' ') {
        ctype++;
    }
    semi = strchr(ctype, ';');
    n = semi ? (apr_size_t)(semi - ctype) : strlen(ctype);
    while (n > 0 && ctype[n - 1] == ' ') {
        n--;
    }
    for (i = 0; i < 3; i++) {
        if (n == strlen(mimes[i]) && strncasecmp(ctype, mimes[i], n) == 0) {
            return i;
        }
    }
    return -1;
}

const char *caldav_format_mime(int format)
{
    return mimes[format >= 0 && format < 3 ? format : 0];
}

int caldav_format_accept(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    char *list, *item, *last = NULL;
    int best = CALDAV_FMT_ICAL;
    double best_q = -1;

    if (accept == NULL) {
        return CALDAV_FMT_ICAL;
    }
    list = apr_pstrdup(r->pool, accept);
    for (item = apr_strtok(list, ",", &last); item;
         item = apr_strtok(NULL, ",", &last)) {
        const char *qp = strstr(item, ";q=");
        double q = qp ? atof(qp + 3) : 1.0;
        int f;

        if (qp) {
            *(char *)qp = '\0';
        }
        f = caldav_format_of(item);
        /* text/calendar wins ties: it is the stored form */
        if (f >= 0 && q > 0 && (q > best_q || (q == best_q && f == 0))) {
            best = f;
            best_q = q;
        }
    }
    return best;
}

apr_status_t caldav_format_convert(int format, const char *ical,
                                   apr_size_t len, const char **out,
                                   apr_size_t *outlen, const char **reason,
                                   apr_pool_t *pool)
{
    switch (format) {
    case CALDAV_FMT_JCAL:
        return calcore_to_jcal(ical, len, out, outlen, reason, pool);
    case CALDAV_FMT_XCAL:
        return calcore_to_xcal(ical, len, out, outlen, reason, pool);
    default:
        *out = ical;
        *outlen = len;
        return APR_SUCCESS;
    }
}

apr_status_t caldav_format_to_ical(int format, const char *data,
                                   apr_size_t len, const char **ical,
                                   apr_size_t *icallen, const char **reason,
                                   apr_pool_t *pool)
{
    switch (format) {
    case CALDAV_FMT_JCAL:
        return calcore_from_jcal(data, len, ical, icallen, reason, pool);
    case CALDAV_FMT_XCAL:
        return calcore_from_xcal(data, len, ical, icallen, reason, pool);
    default:
        *ical = data;
        *icallen = len;
        return APR_SUCCESS;
    }
}

void caldav_format_headers(request_rec *r, int format)
{
    const char *etag = apr_table_get(r->headers_out, "ETag");

    apr_table_mergen(r->headers_out, "Vary", "Accept");
    if (format == CALDAV_FMT_ICAL) {
        return;
    }
    ap_set_content_type(r, apr_pstrcat(r->pool, caldav_format_mime(format),
                                       format == CALDAV_FMT_JCAL
                                       ? "; charset=utf-8" : "", NULL));
    apr_table_unset(r->headers_out, "Content-Length");
    r->clength = 0;
    if (etag && strlen(etag) > 2 && etag[strlen(etag) - 1] == '"') {
        /* another representation: another strong tag */
        apr_table_setn(r->headers_out, "ETag",
                       apr_psprintf(r->pool, "%.*s-%s\"",
                                    (int)strlen(etag) - 1, etag,
                                    format == CALDAV_FMT_JCAL ? "jcal"
                                                              : "xcal"));
    }
}

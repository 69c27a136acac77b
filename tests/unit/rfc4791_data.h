/*
 * rfc4791_data.h - shared by the filter, calendar-data and free-busy unit
 * tests: the RFC 4791 Appendix B calendar (tests/data/rfc4791/abcd1.ics ..
 * abcd8.ics, typed in from the RFC with CRLF line ends) and small builders
 * for filter trees.  Static functions only; each test includes it once.
 */
#ifndef RFC4791_DATA_H
#define RFC4791_DATA_H

#include <stdlib.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "calcore.h"
#include "calcore_filter.h"
#include "tap.h"

static apr_pool_t *pool;

/* Not every test uses every helper. */
#define RFC_UNUSED __attribute__((unused))

#define RFC_NOBJ 8
static const char *const rfc_names[RFC_NOBJ] = {
    "abcd1", "abcd2", "abcd3", "abcd4", "abcd5", "abcd6", "abcd7", "abcd8"
};
static calcore_object_t *rfc_obj[RFC_NOBJ];

/* The variants the example responses print (as-printed/): abcd2 with a
 * second override, abcd3 with X-ABC-GUID, the to-do of 7.8.5. */
static calcore_object_t *printed_abcd2, *printed_abcd3, *printed_todo;

/* tests/data/rfc4791 relative to this file; CALCORE_TEST_DATA (the
 * tests/data directory) overrides. */
RFC_UNUSED
static const char *rfc_datadir(void)
{
    const char *env = getenv("CALCORE_TEST_DATA");
    const char *slash = strrchr(__FILE__, '/');

    if (env) {
        return apr_pstrcat(pool, env, "/rfc4791", NULL);
    }
    if (slash) {
        return apr_pstrcat(pool, apr_pstrndup(pool, __FILE__,
                                              slash - __FILE__),
                           "/../data/rfc4791", NULL);
    }
    return "../data/rfc4791";
}

RFC_UNUSED
static char *load_file(const char *name, apr_size_t *len)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;
    const char *path = apr_pstrcat(pool, rfc_datadir(), "/", name, NULL);
    apr_size_t n;

    *len = 0;
    if (apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                      APR_OS_DEFAULT, pool) != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        diag("cannot read %s", path);
        return NULL;
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(pool, n + 1);
    apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Parse 'text' as a PUT would (no collection limits). */
RFC_UNUSED
static calcore_object_t *parse_obj(const char *text, apr_size_t len)
{
    calcore_object_t *obj = NULL;
    calcore_precond_e pc;
    const char *why = NULL;

    if (!text || calcore_object_parse(&obj, &pc, &why, text, len, NULL,
                                      pool) != APR_SUCCESS) {
        diag("object rejected: %s", why ? why : "(no text)");
        return NULL;
    }
    return obj;
}

RFC_UNUSED
static calcore_object_t *obj_of(const char *text)
{
    return parse_obj(text, strlen(text));
}

/* Load the eight Appendix B objects and the printed variants; returns
 * how many of the eight parsed, plus one when all three variants did. */
RFC_UNUSED
static int rfc_load(void)
{
    int i, n = 0;

    for (i = 0; i < RFC_NOBJ; i++) {
        apr_size_t len;
        char *t = load_file(apr_pstrcat(pool, rfc_names[i], ".ics", NULL),
                            &len);

        rfc_obj[i] = parse_obj(t, len);
        n += rfc_obj[i] != NULL;
    }
    {
        apr_size_t len;
        char *t = load_file("as-printed/abcd2.ics", &len);

        printed_abcd2 = parse_obj(t, len);
        t = load_file("as-printed/abcd3.ics", &len);
        printed_abcd3 = parse_obj(t, len);
        t = load_file("as-printed/abcd4-7.8.5.ics", &len);
        printed_todo = parse_obj(t, len);
        n += printed_abcd2 && printed_abcd3 && printed_todo;
    }
    return n;
}

RFC_UNUSED
static calcore_time_t utc(const char *s)
{
    calcore_time_t t = 0;

    if (calcore_time_parse(s, &t) != APR_SUCCESS) {
        diag("bad time literal %s", s);
    }
    return t;
}

/* ---- filter builders ---------------------------------------------------- */

RFC_UNUSED
static calcore_timerange_t *tr(const char *start, const char *end)
{
    calcore_timerange_t *r = apr_pcalloc(pool, sizeof(*r));

    r->start = start ? utc(start) : CALCORE_TIME_MIN;
    r->end = end ? utc(end) : CALCORE_TIME_MAX;
    return r;
}

RFC_UNUSED
static calcore_textmatch_t *tm(const char *text, calcore_collation_e coll,
                               int negate)
{
    calcore_textmatch_t *t = apr_pcalloc(pool, sizeof(*t));

    t->text = text;
    t->collation = coll;
    t->negate = negate;
    return t;
}

RFC_UNUSED
static calcore_compfilter_t *cf(const char *name)
{
    calcore_compfilter_t *c = apr_pcalloc(pool, sizeof(*c));

    c->name = name;
    return c;
}

RFC_UNUSED
static calcore_compfilter_t *cf_tr(const char *name, const char *start,
                                   const char *end)
{
    calcore_compfilter_t *c = cf(name);

    c->time_range = tr(start, end);
    return c;
}

RFC_UNUSED
static calcore_compfilter_t *cf_nd(const char *name)
{
    calcore_compfilter_t *c = cf(name);

    c->is_not_defined = 1;
    return c;
}

/* Append 'child' to 'parent' and return 'parent'. */
RFC_UNUSED
static calcore_compfilter_t *cf_add(calcore_compfilter_t *parent,
                                    calcore_compfilter_t *child)
{
    if (!parent->comp_filters) {
        parent->comp_filters = apr_array_make(pool, 2,
                                              sizeof(calcore_compfilter_t *));
    }
    APR_ARRAY_PUSH(parent->comp_filters, calcore_compfilter_t *) = child;
    return parent;
}

RFC_UNUSED
static calcore_propfilter_t *pf(const char *name)
{
    calcore_propfilter_t *p = apr_pcalloc(pool, sizeof(*p));

    p->name = name;
    return p;
}

RFC_UNUSED
static calcore_propfilter_t *pf_text(const char *name, const char *text,
                                     calcore_collation_e coll, int negate)
{
    calcore_propfilter_t *p = pf(name);

    p->text_match = tm(text, coll, negate);
    return p;
}

RFC_UNUSED
static calcore_propfilter_t *pf_nd(const char *name)
{
    calcore_propfilter_t *p = pf(name);

    p->is_not_defined = 1;
    return p;
}

RFC_UNUSED
static calcore_propfilter_t *pf_tr(const char *name, const char *start,
                                   const char *end)
{
    calcore_propfilter_t *p = pf(name);

    p->time_range = tr(start, end);
    return p;
}

RFC_UNUSED
static calcore_compfilter_t *cf_prop(calcore_compfilter_t *c,
                                     calcore_propfilter_t *p)
{
    if (!c->prop_filters) {
        c->prop_filters = apr_array_make(pool, 2,
                                         sizeof(calcore_propfilter_t *));
    }
    APR_ARRAY_PUSH(c->prop_filters, calcore_propfilter_t *) = p;
    return c;
}

RFC_UNUSED
static calcore_propfilter_t *pf_param(calcore_propfilter_t *p,
                                      const char *name, const char *text,
                                      int is_not_defined)
{
    calcore_paramfilter_t *pa = apr_pcalloc(pool, sizeof(*pa));

    pa->name = name;
    pa->is_not_defined = is_not_defined;
    if (text) {
        pa->text_match = tm(text, CALCORE_COLL_ASCII_CASEMAP, 0);
    }
    if (!p->param_filters) {
        p->param_filters = apr_array_make(pool, 2,
                                          sizeof(calcore_paramfilter_t *));
    }
    APR_ARRAY_PUSH(p->param_filters, calcore_paramfilter_t *) = pa;
    return p;
}

/* VCALENDAR > child */
RFC_UNUSED
static calcore_compfilter_t *vcal(calcore_compfilter_t *child)
{
    calcore_compfilter_t *root = cf("VCALENDAR");

    return child ? cf_add(root, child) : root;
}

/* Names of the objects 'filter' selects in Appendix B ('printed' 0) or in
 * the data set as the responses print it (1). */
RFC_UNUSED
static const char *select_in(const calcore_compfilter_t *filter,
                             const icaltimezone *floating, int printed)
{
    calcore_precond_e code;
    const char *why, *res = "";
    apr_pool_t *scratch;
    int i;

    if (calcore_filter_check(filter, &code, &why, pool) != APR_SUCCESS) {
        return apr_pstrcat(pool, "CHECK-FAILED: ", why, NULL);
    }
    apr_pool_create(&scratch, pool);
    for (i = 0; i < RFC_NOBJ; i++) {
        calcore_object_t *o = rfc_obj[i];

        if (printed && i == 1) {
            o = printed_abcd2;
        }
        else if (printed && i == 2) {
            o = printed_abcd3;
        }
        if (o && calcore_filter_match(filter, o, floating, scratch)) {
            res = *res ? apr_pstrcat(pool, res, " ", rfc_names[i], NULL)
                       : rfc_names[i];
        }
        apr_pool_clear(scratch);
    }
    apr_pool_destroy(scratch);
    return res;
}

/* The names of the Appendix B objects 'filter' selects, space-separated
 * ("" for none); "CHECK-FAILED: reason" when the filter is rejected. */
RFC_UNUSED
static const char *rfc_select(const calcore_compfilter_t *filter,
                              const icaltimezone *floating)
{
    return select_in(filter, floating, 0);
}

/* The same on the data set the example responses print (abcd2 and abcd3
 * replaced by their as-printed variants). */
RFC_UNUSED
static const char *printed_select(const calcore_compfilter_t *filter,
                                  const icaltimezone *floating)
{
    return select_in(filter, floating, 1);
}

/* Does 'filter' match the single object 'text'? -1 when the object or the
 * filter is rejected. */
RFC_UNUSED
static int match_text(const calcore_compfilter_t *filter, const char *text,
                      const icaltimezone *floating)
{
    calcore_object_t *obj = obj_of(text);
    calcore_precond_e code;
    const char *why;
    apr_pool_t *scratch;
    int r;

    if (!obj) {
        return -1;
    }
    if (calcore_filter_check(filter, &code, &why, pool) != APR_SUCCESS) {
        diag("filter rejected: %s", why);
        return -1;
    }
    apr_pool_create(&scratch, pool);
    r = calcore_filter_match(filter, obj, floating, scratch);
    apr_pool_destroy(scratch);
    return r;
}

#define HEAD "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
#define TAIL "END:VCALENDAR\r\n"

#endif /* RFC4791_DATA_H */

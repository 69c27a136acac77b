/*
 * calcore.c - process initialisation and the small shared helpers of
 * calcore_types.h.
 */
#include <string.h>

#include <apr_strings.h>
#include <libical/ical.h>

#include "calcore.h"
#include "calcore_private.h"

static int init_done;
static apr_status_t init_status;

int calcore__initialised(void)
{
    return init_done && init_status == APR_SUCCESS;
}

apr_status_t calcore_init(apr_pool_t *pconf)
{
    apr_pool_t *ptemp;

    if (init_done) {
        return init_status;
    }
    icalerror_set_errors_are_fatal(0);
    ical_set_unknown_token_handling_setting(ICAL_ASSUME_IANA_TOKEN);

    apr_pool_create(&ptemp, pconf);
    init_status = calcore__tz_init(ptemp);
    apr_pool_destroy(ptemp);
    init_done = 1;
    return init_status;
}

/* ---- time --------------------------------------------------------------- */

calcore_time_t calcore_time_from_apr(apr_time_t t)
{
    apr_int64_t s = t / APR_USEC_PER_SEC;

    if (t % APR_USEC_PER_SEC < 0) {
        s--;
    }
    return calcore__clamp(s);
}

apr_time_t calcore_time_to_apr(calcore_time_t t)
{
    return apr_time_from_sec(calcore__clamp(t));
}

calcore_time_t calcore_time_now(void)
{
    return calcore_time_from_apr(apr_time_now());
}

char *calcore_time_format(calcore_time_t t, char *buf)
{
    struct icaltimetype tt;

    if (t <= CALCORE_TIME_MIN) {
        memcpy(buf, "00000101T000000Z", CALCORE_TIME_STRLEN);
        return buf;
    }
    if (t >= CALCORE_TIME_MAX) {
        memcpy(buf, "99991231T235959Z", CALCORE_TIME_STRLEN);
        return buf;
    }
    tt = calcore_tz_wall_to_icaltime(t, 0);
    apr_snprintf(buf, CALCORE_TIME_STRLEN, "%04d%02d%02dT%02d%02d%02dZ",
                 tt.year, tt.month, tt.day, tt.hour, tt.minute, tt.second);
    return buf;
}

static int digits(const char *s, int n, int *v)
{
    int i;

    *v = 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

apr_status_t calcore_time_parse(const char *s, calcore_time_t *t)
{
    int y, mo, d, h, mi, se;
    struct icaltimetype tt = icaltime_null_time();

    if (!s || strlen(s) != 16 || (s[8] != 'T' && s[8] != 't')
        || (s[15] != 'Z' && s[15] != 'z')
        || !digits(s, 4, &y) || !digits(s + 4, 2, &mo)
        || !digits(s + 6, 2, &d) || !digits(s + 9, 2, &h)
        || !digits(s + 11, 2, &mi) || !digits(s + 13, 2, &se)) {
        return APR_EINVAL;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > icaltime_days_in_month(mo, y)
        || h > 23 || mi > 59 || se > 60) {
        return APR_EINVAL;
    }
    tt.year = y;
    tt.month = mo;
    tt.day = d;
    tt.hour = h;
    tt.minute = mi;
    tt.second = se;
    *t = calcore__clamp(calcore_tz_wall_seconds(tt));
    return APR_SUCCESS;
}

/* ---- status codes, preconditions, component names ----------------------- */

const char *calcore_strerror(apr_status_t rv, char *buf, apr_size_t bufsize)
{
    switch (rv) {
    case CALCORE_EINVALID:
        return "calendar data rejected";
    case CALCORE_ECORRUPT:
        return "calendar index record is corrupt";
    case CALCORE_EVERSION:
        return "calendar index record has an unknown version";
    case CALCORE_ENOTINIT:
        return "calcore_init() has not run";
    case CALCORE_ENOZONES:
        return "no system time zone data";
    default:
        return apr_strerror(rv, buf, bufsize);
    }
}

static const char *const precond_names[CALCORE_PRECOND__COUNT] = {
    NULL,
    "supported-calendar-data",
    "valid-calendar-data",
    "valid-calendar-object-resource",
    "supported-calendar-component",
    "calendar-collection-location-ok",
    "max-resource-size",
    "min-date-time",
    "max-date-time",
    "max-instances",
    "max-attendees-per-instance",
    "no-uid-conflict",
    "valid-filter",
    "supported-filter",
    "supported-collation"
};

const char *calcore_precond_name(calcore_precond_e code)
{
    if ((int)code <= 0 || code >= CALCORE_PRECOND__COUNT) {
        return NULL;
    }
    return precond_names[code];
}

static const struct {
    calcore_comp_e kind;
    const char *name;
} comp_names[] = {
    { CALCORE_COMP_VEVENT, "VEVENT" },
    { CALCORE_COMP_VTODO, "VTODO" },
    { CALCORE_COMP_VJOURNAL, "VJOURNAL" },
    { CALCORE_COMP_VFREEBUSY, "VFREEBUSY" },
    { CALCORE_COMP_VAVAILABILITY, "VAVAILABILITY" },
    { CALCORE_COMP_NONE, NULL }
};

const char *calcore_comp_name(calcore_comp_e kind)
{
    int i;

    for (i = 0; comp_names[i].name; i++) {
        if (comp_names[i].kind == kind) {
            return comp_names[i].name;
        }
    }
    return NULL;
}

calcore_comp_e calcore_comp_from_name(const char *name)
{
    int i;

    for (i = 0; name && comp_names[i].name; i++) {
        if (strcasecmp(comp_names[i].name, name) == 0) {
            return comp_names[i].kind;
        }
    }
    return CALCORE_COMP_NONE;
}

/*
 * calcore_tz.c - time zone resolution and UTC conversion (see calcore_tz.h).
 *
 * The system map is an apr_hash_t built once by calcore_init() (before any
 * thread exists) and only read afterwards: apr_hash_get() on a hash nobody
 * modifies is safe from any number of threads.  It maps
 *
 *   - every zone listed in zone.tab (libical's builtin list),
 *   - every other TZif file below the zoneinfo directory (aliases such as
 *     "US/Eastern", "Asia/Calcutta", "Etc/GMT+5"), loaded through libical
 *     while we are still single-threaded,
 *   - "UTC" and "GMT" (libical's UTC zone),
 *   - the Windows ids of the table below whose IANA target exists,
 *
 * to the libical zone, fully loaded (its VTIMEZONE parsed), so no request
 * ever makes libical read a file or append to its global zone array.
 */
#include <string.h>

#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "calcore_log.h"
#include "calcore_private.h"
#include "calcore_tz.h"

/* ---- Windows zone ids (CLDR windowsZones.xml, territory "001") ---------- */

typedef struct {
    const char *windows;
    const char *iana;
} windows_zone_t;

static const windows_zone_t windows_zones[] = {
    { "Dateline Standard Time",          "Etc/GMT+12" },
    { "UTC-11",                          "Etc/GMT+11" },
    { "Aleutian Standard Time",          "America/Adak" },
    { "Hawaiian Standard Time",          "Pacific/Honolulu" },
    { "Marquesas Standard Time",         "Pacific/Marquesas" },
    { "Alaskan Standard Time",           "America/Anchorage" },
    { "UTC-09",                          "Etc/GMT+9" },
    { "Pacific Standard Time (Mexico)",  "America/Tijuana" },
    { "UTC-08",                          "Etc/GMT+8" },
    { "Pacific Standard Time",           "America/Los_Angeles" },
    { "US Mountain Standard Time",       "America/Phoenix" },
    { "Mountain Standard Time (Mexico)", "America/Mazatlan" },
    { "Mountain Standard Time",          "America/Denver" },
    { "Yukon Standard Time",             "America/Whitehorse" },
    { "Central America Standard Time",   "America/Guatemala" },
    { "Central Standard Time",           "America/Chicago" },
    { "Easter Island Standard Time",     "Pacific/Easter" },
    { "Central Standard Time (Mexico)",  "America/Mexico_City" },
    { "Canada Central Standard Time",    "America/Regina" },
    { "SA Pacific Standard Time",        "America/Bogota" },
    { "Eastern Standard Time (Mexico)",  "America/Cancun" },
    { "Eastern Standard Time",           "America/New_York" },
    { "Haiti Standard Time",             "America/Port-au-Prince" },
    { "Cuba Standard Time",              "America/Havana" },
    { "US Eastern Standard Time",        "America/Indiana/Indianapolis" },
    { "Turks And Caicos Standard Time",  "America/Grand_Turk" },
    { "Paraguay Standard Time",          "America/Asuncion" },
    { "Atlantic Standard Time",          "America/Halifax" },
    { "Venezuela Standard Time",         "America/Caracas" },
    { "Central Brazilian Standard Time", "America/Cuiaba" },
    { "SA Western Standard Time",        "America/La_Paz" },
    { "Pacific SA Standard Time",        "America/Santiago" },
    { "Newfoundland Standard Time",      "America/St_Johns" },
    { "Tocantins Standard Time",         "America/Araguaina" },
    { "E. South America Standard Time",  "America/Sao_Paulo" },
    { "SA Eastern Standard Time",        "America/Cayenne" },
    { "Argentina Standard Time",         "America/Argentina/Buenos_Aires" },
    { "Greenland Standard Time",         "America/Nuuk" },
    { "Montevideo Standard Time",        "America/Montevideo" },
    { "Magallanes Standard Time",        "America/Punta_Arenas" },
    { "Saint Pierre Standard Time",      "America/Miquelon" },
    { "Bahia Standard Time",             "America/Bahia" },
    { "UTC-02",                          "Etc/GMT+2" },
    { "Mid-Atlantic Standard Time",      "Etc/GMT+2" },
    { "Azores Standard Time",            "Atlantic/Azores" },
    { "Cape Verde Standard Time",        "Atlantic/Cape_Verde" },
    { "Coordinated Universal Time",      "Etc/UTC" },
    { "GMT Standard Time",               "Europe/London" },
    { "Greenwich Standard Time",         "Atlantic/Reykjavik" },
    { "Sao Tome Standard Time",          "Africa/Sao_Tome" },
    { "Morocco Standard Time",           "Africa/Casablanca" },
    { "W. Europe Standard Time",         "Europe/Berlin" },
    { "Central Europe Standard Time",    "Europe/Budapest" },
    { "Romance Standard Time",           "Europe/Paris" },
    { "Central European Standard Time",  "Europe/Warsaw" },
    { "W. Central Africa Standard Time", "Africa/Lagos" },
    { "Jordan Standard Time",            "Asia/Amman" },
    { "GTB Standard Time",               "Europe/Bucharest" },
    { "Middle East Standard Time",       "Asia/Beirut" },
    { "Egypt Standard Time",             "Africa/Cairo" },
    { "E. Europe Standard Time",         "Europe/Chisinau" },
    { "Syria Standard Time",             "Asia/Damascus" },
    { "West Bank Standard Time",         "Asia/Hebron" },
    { "South Africa Standard Time",      "Africa/Johannesburg" },
    { "FLE Standard Time",               "Europe/Kyiv" },
    { "Israel Standard Time",            "Asia/Jerusalem" },
    { "South Sudan Standard Time",       "Africa/Juba" },
    { "Kaliningrad Standard Time",       "Europe/Kaliningrad" },
    { "Sudan Standard Time",             "Africa/Khartoum" },
    { "Libya Standard Time",             "Africa/Tripoli" },
    { "Namibia Standard Time",           "Africa/Windhoek" },
    { "Arabic Standard Time",            "Asia/Baghdad" },
    { "Turkey Standard Time",            "Europe/Istanbul" },
    { "Arab Standard Time",              "Asia/Riyadh" },
    { "Belarus Standard Time",           "Europe/Minsk" },
    { "Russian Standard Time",           "Europe/Moscow" },
    { "E. Africa Standard Time",         "Africa/Nairobi" },
    { "Volgograd Standard Time",         "Europe/Volgograd" },
    { "Iran Standard Time",              "Asia/Tehran" },
    { "Arabian Standard Time",           "Asia/Dubai" },
    { "Astrakhan Standard Time",         "Europe/Astrakhan" },
    { "Azerbaijan Standard Time",        "Asia/Baku" },
    { "Russia Time Zone 3",              "Europe/Samara" },
    { "Mauritius Standard Time",         "Indian/Mauritius" },
    { "Saratov Standard Time",           "Europe/Saratov" },
    { "Georgian Standard Time",          "Asia/Tbilisi" },
    { "Caucasus Standard Time",          "Asia/Yerevan" },
    { "Afghanistan Standard Time",       "Asia/Kabul" },
    { "West Asia Standard Time",         "Asia/Tashkent" },
    { "Ekaterinburg Standard Time",      "Asia/Yekaterinburg" },
    { "Pakistan Standard Time",          "Asia/Karachi" },
    { "Qyzylorda Standard Time",         "Asia/Qyzylorda" },
    { "India Standard Time",             "Asia/Kolkata" },
    { "Sri Lanka Standard Time",         "Asia/Colombo" },
    { "Nepal Standard Time",             "Asia/Kathmandu" },
    { "Central Asia Standard Time",      "Asia/Bishkek" },
    { "Bangladesh Standard Time",        "Asia/Dhaka" },
    { "Omsk Standard Time",              "Asia/Omsk" },
    { "Myanmar Standard Time",           "Asia/Yangon" },
    { "SE Asia Standard Time",           "Asia/Bangkok" },
    { "Altai Standard Time",             "Asia/Barnaul" },
    { "W. Mongolia Standard Time",       "Asia/Hovd" },
    { "North Asia Standard Time",        "Asia/Krasnoyarsk" },
    { "N. Central Asia Standard Time",   "Asia/Novosibirsk" },
    { "Tomsk Standard Time",             "Asia/Tomsk" },
    { "China Standard Time",             "Asia/Shanghai" },
    { "North Asia East Standard Time",   "Asia/Irkutsk" },
    { "Singapore Standard Time",         "Asia/Singapore" },
    { "W. Australia Standard Time",      "Australia/Perth" },
    { "Taipei Standard Time",            "Asia/Taipei" },
    { "Ulaanbaatar Standard Time",       "Asia/Ulaanbaatar" },
    { "Aus Central W. Standard Time",    "Australia/Eucla" },
    { "Transbaikal Standard Time",       "Asia/Chita" },
    { "Tokyo Standard Time",             "Asia/Tokyo" },
    { "North Korea Standard Time",       "Asia/Pyongyang" },
    { "Korea Standard Time",             "Asia/Seoul" },
    { "Yakutsk Standard Time",           "Asia/Yakutsk" },
    { "Cen. Australia Standard Time",    "Australia/Adelaide" },
    { "AUS Central Standard Time",       "Australia/Darwin" },
    { "E. Australia Standard Time",      "Australia/Brisbane" },
    { "AUS Eastern Standard Time",       "Australia/Sydney" },
    { "West Pacific Standard Time",      "Pacific/Port_Moresby" },
    { "Tasmania Standard Time",          "Australia/Hobart" },
    { "Vladivostok Standard Time",       "Asia/Vladivostok" },
    { "Lord Howe Standard Time",         "Australia/Lord_Howe" },
    { "Bougainville Standard Time",      "Pacific/Bougainville" },
    { "Russia Time Zone 10",             "Asia/Srednekolymsk" },
    { "Magadan Standard Time",           "Asia/Magadan" },
    { "Norfolk Standard Time",           "Pacific/Norfolk" },
    { "Sakhalin Standard Time",          "Asia/Sakhalin" },
    { "Central Pacific Standard Time",   "Pacific/Guadalcanal" },
    { "Russia Time Zone 11",             "Asia/Kamchatka" },
    { "New Zealand Standard Time",       "Pacific/Auckland" },
    { "UTC+12",                          "Etc/GMT-12" },
    { "Fiji Standard Time",              "Pacific/Fiji" },
    { "Kamchatka Standard Time",         "Asia/Kamchatka" },
    { "Chatham Islands Standard Time",   "Pacific/Chatham" },
    { "UTC+13",                          "Etc/GMT-13" },
    { "Tonga Standard Time",             "Pacific/Tongatapu" },
    { "Samoa Standard Time",             "Pacific/Apia" },
    { "Line Islands Standard Time",      "Pacific/Kiritimati" },
    { NULL, NULL }
};

/* ---- the map ------------------------------------------------------------ */

static void tzcache_init(void);

static apr_pool_t *tz_pool;      /* lives until apr_terminate()          */
static apr_hash_t *tz_map;       /* name -> icaltimezone*, read-only     */
static unsigned tz_count;

#define TZ_NAME_MAX  128
#define TZ_WALK_DEPTH 4

int calcore_tz_name_is_safe(const char *name)
{
    const char *p;
    apr_size_t n = 0;

    if (!name || !*name || *name == '/') {
        return 0;
    }
    for (p = name; *p; p++, n++) {
        char c = *p;

        if (n >= TZ_NAME_MAX) {
            return 0;
        }
        if (c == '/') {
            if (p[1] == '/' || p[1] == '\0') {
                return 0;
            }
            continue;
        }
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '_' || c == '+'
              || c == '-')) {
            return 0;
        }
    }
    return 1;
}

const char *calcore_tz_windows_to_iana(const char *windows_id)
{
    const windows_zone_t *w;

    if (!windows_id) {
        return NULL;
    }
    for (w = windows_zones; w->windows; w++) {
        if (strcmp(w->windows, windows_id) == 0) {
            return w->iana;
        }
    }
    return NULL;
}

unsigned calcore_tz_system_count(void)
{
    return tz_map ? tz_count : 0;
}

/* Add 'name' -> 'zone' unless the name is taken.  Single-threaded (init). */
static void map_add(const char *name, icaltimezone *zone)
{
    if (apr_hash_get(tz_map, name, APR_HASH_KEY_STRING)) {
        return;
    }
    apr_hash_set(tz_map, apr_pstrdup(tz_pool, name), APR_HASH_KEY_STRING,
                 zone);
    tz_count++;
}

/* Is 'path' a TZif file?  (Skips zone.tab, tzdata.zi, leapseconds, ...) */
static int is_tzif(const char *path, apr_pool_t *p)
{
    apr_file_t *f;
    char magic[4];
    apr_size_t n = sizeof(magic);
    int yes;

    if (apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                      APR_OS_DEFAULT, p) != APR_SUCCESS) {
        return 0;
    }
    yes = apr_file_read_full(f, magic, n, &n) == APR_SUCCESS
          && memcmp(magic, "TZif", 4) == 0;
    apr_file_close(f);
    return yes;
}

/* Load every TZif file below 'dir'/'rel' that is not in the map yet. */
static void walk_zones(const char *dir, const char *rel, int depth,
                       apr_pool_t *ptemp)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    apr_pool_t *iter;
    const char *path = *rel ? apr_pstrcat(ptemp, dir, "/", rel, NULL) : dir;

    if (depth > TZ_WALK_DEPTH
        || apr_dir_open(&d, path, ptemp) != APR_SUCCESS) {
        return;
    }
    apr_pool_create(&iter, ptemp);
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d)
           == APR_SUCCESS) {
        const char *name, *full;
        apr_finfo_t st;

        apr_pool_clear(iter);
        if (!fi.name || fi.name[0] == '.') {
            continue;
        }
        /* posix/ and right/ duplicate the tree (right/ with leap seconds),
         * localtime and posixrules are host settings, Factory is no zone. */
        if (!*rel && (strcmp(fi.name, "posix") == 0
                      || strcmp(fi.name, "right") == 0
                      || strcmp(fi.name, "localtime") == 0
                      || strcmp(fi.name, "posixrules") == 0
                      || strcmp(fi.name, "Factory") == 0)) {
            continue;
        }
        name = *rel ? apr_pstrcat(iter, rel, "/", fi.name, NULL)
                    : apr_pstrdup(iter, fi.name);
        if (!calcore_tz_name_is_safe(name)) {
            continue;
        }
        full = apr_pstrcat(iter, dir, "/", name, NULL);
        if (apr_stat(&st, full, APR_FINFO_TYPE, iter) != APR_SUCCESS) {
            continue;
        }
        if (st.filetype == APR_DIR) {
            walk_zones(dir, name, depth + 1, iter);
        }
        else if (st.filetype == APR_REG
                 && !apr_hash_get(tz_map, name, APR_HASH_KEY_STRING)
                 && is_tzif(full, iter)) {
            icaltimezone *z = icaltimezone_get_builtin_timezone(name);

            if (z && icaltimezone_get_component(z)) {
                map_add(name, z);
            }
            else {
                calcore_log(CALCORE_LOG_DEBUG, APR_SUCCESS,
                            "time zone file %s not usable", name);
            }
        }
    }
    apr_pool_destroy(iter);
    apr_dir_close(d);
}

apr_status_t calcore__tz_init(apr_pool_t *ptemp)
{
    icalarray *zones;
    const char *dir;
    const windows_zone_t *w;
    icaltimezone *utc = icaltimezone_get_utc_timezone();
    apr_size_t i;
    apr_status_t rv;

    if (tz_map) {
        return APR_SUCCESS;
    }
    if (!tz_pool) {
        /* A root-level pool: the map must survive httpd's pconf being
         * cleared on restart (libical's zones survive it too). */
        if ((rv = apr_pool_create(&tz_pool, NULL)) != APR_SUCCESS) {
            return rv;
        }
        apr_pool_tag(tz_pool, "calcore_tz");
    }
    tz_map = apr_hash_make(tz_pool);
    tz_count = 0;
    tzcache_init();

    zones = icaltimezone_get_builtin_timezones();
    dir = icaltzutil_get_zone_directory();
    if (!zones || zones->num_elements == 0 || !dir) {
        calcore_log(CALCORE_LOG_ERR, CALCORE_ENOZONES,
                    "no system time zone data (zone.tab) found");
        tz_map = NULL;
        return CALCORE_ENOZONES;
    }
    for (i = 0; i < zones->num_elements; i++) {
        icaltimezone *z = icalarray_element_at(zones, i);
        const char *loc;

        /* get_component loads the zone now, while single-threaded.  It
         * also replaces zone->location (frees the old string), so read the
         * location only afterwards. */
        if (!icaltimezone_get_component(z)) {
            continue;
        }
        loc = icaltimezone_get_location(z);
        if (loc && calcore_tz_name_is_safe(loc)) {
            map_add(loc, z);
        }
    }
    map_add("UTC", utc);
    map_add("GMT", utc);
    walk_zones(dir, "", 0, ptemp);

    for (w = windows_zones; w->windows; w++) {
        icaltimezone *z = apr_hash_get(tz_map, w->iana, APR_HASH_KEY_STRING);

        if (z) {
            map_add(w->windows, z);
        }
        else {
            calcore_log(CALCORE_LOG_DEBUG, APR_SUCCESS,
                        "Windows zone '%s': target %s not installed",
                        w->windows, w->iana);
        }
    }

    /* libical remembers the current year the first time it expands a
     * zone's transitions (an unlocked static): make that happen now. */
    {
        icaltimezone *z = apr_hash_get(tz_map, "Europe/Berlin",
                                       APR_HASH_KEY_STRING);

        if (!z) {
            z = icalarray_element_at(zones, 0);
        }
        (void)calcore_tz_offset_at(z, calcore_time_now());
    }
    calcore_log(CALCORE_LOG_INFO, APR_SUCCESS,
                "%u time zone names loaded from %s", tz_count, dir);
    return APR_SUCCESS;
}

/* "/freeassociation.sourceforge.net/[Tzfile/]NAME", "/mozilla.org/VER/NAME",
 * "/softwarestudio.org/VER/NAME", "/citadel.org/VER/NAME" -> NAME. */
static const char *strip_prefix(const char *tzid)
{
    static const char fa[] = "/freeassociation.sourceforge.net/";
    static const char *const vendors[] = {
        "/mozilla.org/", "/softwarestudio.org/", "/citadel.org/", NULL
    };
    const char *const *v;

    if (strncmp(tzid, fa, sizeof(fa) - 1) == 0) {
        const char *p = tzid + sizeof(fa) - 1;

        return strncmp(p, "Tzfile/", 7) == 0 ? p + 7 : p;
    }
    for (v = vendors; *v; v++) {
        apr_size_t n = strlen(*v);

        if (strncmp(tzid, *v, n) == 0) {
            const char *slash = strchr(tzid + n, '/');

            return (slash && slash > tzid + n) ? slash + 1 : NULL;
        }
    }
    return NULL;
}

icaltimezone *calcore_tz_system(const char *tzid)
{
    icaltimezone *z;
    const char *name;

    if (!tz_map || !tzid || !*tzid) {
        return NULL;
    }
    /* Exact names: IANA names and aliases (all passed name_is_safe when
     * they were added) and Windows ids.  A hash lookup never touches the
     * file system, whatever the string holds. */
    z = apr_hash_get(tz_map, tzid, APR_HASH_KEY_STRING);
    if (z) {
        return z;
    }
    name = strip_prefix(tzid);
    if (name && calcore_tz_name_is_safe(name)) {
        return apr_hash_get(tz_map, name, APR_HASH_KEY_STRING);
    }
    return NULL;
}

/* ---- civil calendar arithmetic (proleptic Gregorian, H. Hinnant) -------- */

apr_int64_t calcore__days_from_civil(apr_int64_t y, unsigned m, unsigned d)
{
    apr_int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void calcore__civil_from_days(apr_int64_t z, apr_int64_t *y, unsigned *m,
                              unsigned *d)
{
    apr_int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static apr_int64_t floor_div(apr_int64_t a, apr_int64_t b)
{
    apr_int64_t q = a / b;

    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

calcore_time_t calcore_tz_wall_seconds(struct icaltimetype tt)
{
    apr_int64_t days = calcore__days_from_civil(tt.year,
                                                (unsigned)tt.month,
                                                (unsigned)tt.day);

    if (tt.is_date) {
        return days * 86400;
    }
    return days * 86400 + tt.hour * 3600 + tt.minute * 60 + tt.second;
}

struct icaltimetype calcore_tz_wall_to_icaltime(calcore_time_t wall,
                                                int is_date)
{
    struct icaltimetype tt = icaltime_null_time();
    apr_int64_t days = floor_div(wall, 86400), secs = wall - days * 86400;
    apr_int64_t y;
    unsigned m, d;

    calcore__civil_from_days(days, &y, &m, &d);
    tt.year = (int)y;
    tt.month = (int)m;
    tt.day = (int)d;
    if (is_date) {
        tt.is_date = 1;
    }
    else {
        tt.hour = (int)(secs / 3600);
        tt.minute = (int)(secs / 60 % 60);
        tt.second = (int)(secs % 60);
    }
    tt.zone = NULL;
    return tt;
}

/* 2400-01-01T00:00:00Z and the length of a Gregorian 400-year cycle: the
 * calendar (weekdays included) repeats exactly every 400 years, so far
 * future instants are looked up 400*k years earlier.  This keeps libical
 * from re-expanding a zone's transitions on every call past its
 * ICALTIMEZONE_MAX_YEAR (2582). */
#define T_2400   ((calcore_time_t)13569465600LL)
#define CYCLE400 ((calcore_time_t)146097 * 86400)

int calcore_tz_offset_at(const icaltimezone *zone, calcore_time_t utc)
{
    struct icaltimetype tt;
    int is_dst = 0;

    if (!zone || zone == icaltimezone_get_utc_timezone()) {
        return 0;
    }
    if (utc > T_2400) {
        utc -= ((utc - T_2400) / CYCLE400 + 1) * CYCLE400;
    }
    tt = calcore_tz_wall_to_icaltime(utc, 0);
    tt.zone = icaltimezone_get_utc_timezone();
    return icaltimezone_get_utc_offset_of_utc_time((icaltimezone *)zone, &tt,
                                                   &is_dst);
}

calcore_time_t calcore_tz_utc_to_wall(calcore_time_t utc,
                                      const icaltimezone *zone)
{
    return calcore__add(utc, calcore_tz_offset_at(zone, utc));
}

calcore_time_t calcore_tz_wall_to_utc(calcore_time_t wall,
                                      const icaltimezone *zone)
{
    int oa, ob;
    calcore_time_t ua, ub;

    if (!zone || zone == icaltimezone_get_utc_timezone()) {
        return calcore__clamp(wall);
    }
    /* The offsets in force a day before and a day after; if they differ a
     * transition lies in between.  Candidate UTC instants: wall - oa and
     * wall - ob; a candidate is real if the zone has that offset then.
     * Both real: ambiguous, take the earlier (first occurrence, offset
     * before the transition); neither: a gap, use the offset before it. */
    oa = calcore_tz_offset_at(zone, wall - 86400);
    ob = calcore_tz_offset_at(zone, wall + 86400);
    ua = wall - oa;
    if (oa == ob) {
        return calcore__clamp(ua);
    }
    ub = wall - ob;
    if (calcore_tz_offset_at(zone, ua) == oa) {
        return calcore__clamp(ua);
    }
    if (calcore_tz_offset_at(zone, ub) == ob) {
        return calcore__clamp(ub);
    }
    return calcore__clamp(ua);
}

calcore_time_t calcore_tz_to_utc(struct icaltimetype tt,
                                 const icaltimezone *floating)
{
    calcore_time_t wall = calcore_tz_wall_seconds(tt);

    if (tt.is_date || !tt.zone) {
        return calcore_tz_wall_to_utc(wall, floating);
    }
    return calcore_tz_wall_to_utc(wall, tt.zone);
}

/* ---- VTIMEZONE validation ----------------------------------------------- */

/* Changes per year an RRULE of a STANDARD/DAYLIGHT component may produce
 * (real zones have 1). */
#define VTZ_MAX_PER_YEAR 12
#define VTZ_MAX_RRULES   4

static const char *check_tz_rrule(const struct icalrecurrencetype *r,
                                  apr_pool_t *pool)
{
    int nm, est;

    if (r->freq != ICAL_YEARLY_RECURRENCE) {
        return "a time zone RRULE must be FREQ=YEARLY";
    }
    if (calcore__by_count(r->by_second, ICAL_BY_SECOND_SIZE)
        || calcore__by_count(r->by_minute, ICAL_BY_MINUTE_SIZE)
        || calcore__by_count(r->by_hour, ICAL_BY_HOUR_SIZE)) {
        return "a time zone RRULE must not use BYHOUR, BYMINUTE or BYSECOND";
    }
    if (!calcore__rrule_feasible(r)) {
        return "a time zone RRULE never matches a day";
    }
    nm = calcore__by_count(r->by_month, ICAL_BY_MONTH_SIZE);
    if (!nm) {
        nm = 1;
    }
    if (calcore__by_count(r->by_year_day, ICAL_BY_YEARDAY_SIZE)) {
        est = calcore__by_count(r->by_year_day, ICAL_BY_YEARDAY_SIZE);
    }
    else if (calcore__by_count(r->by_week_no, ICAL_BY_WEEKNO_SIZE)) {
        est = 7 * calcore__by_count(r->by_week_no, ICAL_BY_WEEKNO_SIZE);
    }
    else if (calcore__by_count(r->by_month_day, ICAL_BY_MONTHDAY_SIZE)) {
        est = nm * calcore__by_count(r->by_month_day, ICAL_BY_MONTHDAY_SIZE);
    }
    else {
        int nd = calcore__by_count(r->by_day, ICAL_BY_DAY_SIZE), i;
        int per = 0;

        for (i = 0; i < nd; i++) {
            per += icalrecurrencetype_day_position(r->by_day[i]) ? 1 : 5;
        }
        est = nm * (nd ? per : 1);
    }
    if (est > VTZ_MAX_PER_YEAR) {
        return apr_psprintf(pool, "a time zone RRULE produces about %d "
                            "changes a year (at most %d accepted)",
                            est, VTZ_MAX_PER_YEAR);
    }
    return NULL;
}

static const char *check_tz_observance(icalcomponent *obs, apr_pool_t *pool)
{
    icalproperty *p;
    const char *what = icalcomponent_isa(obs) == ICAL_XSTANDARD_COMPONENT
                       ? "STANDARD" : "DAYLIGHT";
    int n;

    if (icalcomponent_count_properties(obs, ICAL_DTSTART_PROPERTY) != 1) {
        return apr_psprintf(pool, "%s needs exactly one DTSTART", what);
    }
    p = icalcomponent_get_first_property(obs, ICAL_DTSTART_PROPERTY);
    if (!icalproperty_get_value(p)
        || icalvalue_isa(icalproperty_get_value(p)) != ICAL_DATETIME_VALUE) {
        return apr_psprintf(pool, "%s DTSTART must be a DATE-TIME", what);
    }
    if (icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER)) {
        return apr_psprintf(pool, "%s DTSTART must not have a TZID", what);
    }
    if (icalcomponent_count_properties(obs, ICAL_TZOFFSETTO_PROPERTY) != 1) {
        return apr_psprintf(pool, "%s needs exactly one TZOFFSETTO", what);
    }
    if (icalcomponent_count_properties(obs, ICAL_TZOFFSETFROM_PROPERTY) > 1) {
        return apr_psprintf(pool, "%s has more than one TZOFFSETFROM", what);
    }
    for (p = icalcomponent_get_first_property(obs, ICAL_ANY_PROPERTY); p;
         p = icalcomponent_get_next_property(obs, ICAL_ANY_PROPERTY)) {
        icalproperty_kind k = icalproperty_isa(p);

        if (k == ICAL_TZOFFSETTO_PROPERTY || k == ICAL_TZOFFSETFROM_PROPERTY) {
            int off = k == ICAL_TZOFFSETTO_PROPERTY
                      ? icalproperty_get_tzoffsetto(p)
                      : icalproperty_get_tzoffsetfrom(p);

            if (off <= -86400 || off >= 86400) {
                return apr_psprintf(pool, "%s has a UTC offset out of range",
                                    what);
            }
        }
    }
    n = icalcomponent_count_properties(obs, ICAL_RRULE_PROPERTY);
    if (n > VTZ_MAX_RRULES) {
        return apr_psprintf(pool, "%s has %d RRULEs", what, n);
    }
    for (p = icalcomponent_get_first_property(obs, ICAL_RRULE_PROPERTY); p;
         p = icalcomponent_get_next_property(obs, ICAL_RRULE_PROPERTY)) {
        struct icalrecurrencetype r = icalproperty_get_rrule(p);
        const char *why = check_tz_rrule(&r, pool);

        if (why) {
            return apr_psprintf(pool, "%s: %s", what, why);
        }
    }
    return NULL;
}

/* Validate one VTIMEZONE; returns its TZID or NULL with *reason. */
static const char *check_vtimezone(icalcomponent *vtz, const char **reason,
                                   apr_pool_t *pool)
{
    icalproperty *p;
    icalcomponent *c;
    const char *tzid;
    int observances = 0;

    if (icalcomponent_count_properties(vtz, ICAL_TZID_PROPERTY) != 1) {
        *reason = "a VTIMEZONE needs exactly one TZID";
        return NULL;
    }
    p = icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY);
    tzid = icalproperty_get_tzid(p);
    if (!tzid || !*tzid) {
        *reason = "a VTIMEZONE has an empty TZID";
        return NULL;
    }
    for (c = icalcomponent_get_first_component(vtz, ICAL_ANY_COMPONENT); c;
         c = icalcomponent_get_next_component(vtz, ICAL_ANY_COMPONENT)) {
        icalcomponent_kind k = icalcomponent_isa(c);

        if (k == ICAL_XSTANDARD_COMPONENT || k == ICAL_XDAYLIGHT_COMPONENT) {
            const char *why = check_tz_observance(c, pool);

            if (why) {
                *reason = apr_psprintf(pool, "VTIMEZONE '%s': %s", tzid, why);
                return NULL;
            }
            observances++;
        }
        else if (k != ICAL_X_COMPONENT) {
            *reason = apr_psprintf(pool, "VTIMEZONE '%s' contains a %s "
                                   "component", tzid,
                                   icalcomponent_kind_to_string(k)
                                   ? icalcomponent_kind_to_string(k)
                                   : "unknown");
            return NULL;
        }
    }
    if (!observances) {
        *reason = apr_psprintf(pool, "VTIMEZONE '%s' has no STANDARD or "
                               "DAYLIGHT component", tzid);
        return NULL;
    }
    return tzid;
}

/* ---- shared copies of objects' VTIMEZONEs -------------------------------- */

/* Converting a time through a zone that is new to libical makes libical
 * expand the zone's STANDARD/DAYLIGHT rules from their DTSTART (often 1970)
 * to a few years past the time asked, with its ICU-backed recurrence
 * iterator: about 0.3 ms for a common VTIMEZONE, paid by every request that
 * parses an object, because an object's VTIMEZONE is a new icaltimezone
 * each time.  Clients send the same VTIMEZONE text over and over, so the
 * zones are shared: keyed by the VTIMEZONE's serialisation (the exact
 * definition libical computes with, so two definitions that differ in any
 * way never share a zone), cloned out of the request's tree into a zone
 * that lives as long as the process, with its transition table kept and
 * extended by libical under its own lock.  Bounded: past TZCACHE_MAX
 * distinct definitions an object uses its own zone, as before. */
#define TZCACHE_MAX 256

static apr_thread_mutex_t *tzc_lock;
static apr_hash_t *tzc_map;      /* serialised VTIMEZONE -> icaltimezone*  */
static unsigned tzc_count;

/* The shared zones, also held here: they live as long as the process
 * (like libical's own builtin zones) and stay reachable from static
 * storage after apr_terminate() frees tz_pool with the hash, so leak
 * checkers do not count them.  (No pool cleanup frees them: in httpd it
 * would run at exit, after the module holding its code was unloaded.) */
static icaltimezone *tzc_zones[TZCACHE_MAX];
static apr_uint64_t tzc_ids[TZCACHE_MAX];   /* calcore_tz_zone_id() of each */

/* FNV-1a of a zone's definition, kept clear of the two reserved ids. */
static apr_uint64_t zone_hash(const char *text)
{
    apr_uint64_t h = APR_UINT64_C(14695981039346656037);

    for (; *text; text++) {
        h ^= (unsigned char)*text;
        h *= APR_UINT64_C(1099511628211);
    }
    if (h == CALCORE_TZ_ID_UTC || h == CALCORE_TZ_ID_UNKNOWN) {
        h = 2;
    }
    return h;
}

static void tzcache_init(void)
{
    if (!tzc_lock
        && apr_thread_mutex_create(&tzc_lock, APR_THREAD_MUTEX_DEFAULT,
                                   tz_pool) == APR_SUCCESS) {
        tzc_map = apr_hash_make(tz_pool);
    }
}

/* The shared zone with the definition of 'vtz' (a VTIMEZONE that passed
 * check_vtimezone), or NULL (cache full, no memory, init not run). */
static icaltimezone *tzcache_get(icalcomponent *vtz)
{
    icaltimezone *z;
    char *text;

    if (!tzc_lock || !(text = icalcomponent_as_ical_string_r(vtz))) {
        return NULL;
    }
    apr_thread_mutex_lock(tzc_lock);
    z = apr_hash_get(tzc_map, text, APR_HASH_KEY_STRING);
    if (!z && tzc_count < TZCACHE_MAX) {
        icalcomponent *copy = icalcomponent_new_clone(vtz);

        z = copy ? icaltimezone_new() : NULL;
        if (z && icaltimezone_set_component(z, copy)) {
            apr_hash_set(tzc_map, apr_pstrdup(tz_pool, text),
                         APR_HASH_KEY_STRING, z);
            tzc_ids[tzc_count] = zone_hash(text);
            tzc_zones[tzc_count++] = z;
        }
        else {
            if (z) {
                icaltimezone_free(z, 1);
            }
            if (copy) {
                icalcomponent_free(copy);
            }
            z = NULL;
        }
    }
    apr_thread_mutex_unlock(tzc_lock);
    icalmemory_free_buffer(text);
    return z;
}

apr_uint64_t calcore_tz_zone_id(const icaltimezone *zone)
{
    apr_uint64_t id = CALCORE_TZ_ID_UNKNOWN;
    unsigned i;

    if (zone == NULL
        || zone == (const icaltimezone *)icaltimezone_get_utc_timezone()) {
        return CALCORE_TZ_ID_UTC;
    }
    if (!tzc_lock) {
        return id;
    }
    apr_thread_mutex_lock(tzc_lock);
    for (i = 0; i < tzc_count; i++) {
        if (tzc_zones[i] == zone) {
            id = tzc_ids[i];
            break;
        }
    }
    apr_thread_mutex_unlock(tzc_lock);
    return id;
}

unsigned calcore__tzcache_count(void)
{
    unsigned n;

    if (!tzc_lock) {
        return 0;
    }
    apr_thread_mutex_lock(tzc_lock);
    n = tzc_count;
    apr_thread_mutex_unlock(tzc_lock);
    return n;
}

/* ---- per-object zone sets ----------------------------------------------- */

struct calcore_tzset_t {
    apr_hash_t *zones;      /* TZID -> icaltimezone* (in the tree)   */
};

apr_status_t calcore_tzset_create(calcore_tzset_t **set,
                                  icalcomponent *vcalendar,
                                  const char **reason, apr_pool_t *pool)
{
    calcore_tzset_t *s = apr_pcalloc(pool, sizeof(*s));
    icalcomponent *c;
    int n = 0;

    *set = NULL;
    s->zones = apr_hash_make(pool);
    if (vcalendar) {
        n = icalcomponent_count_components(vcalendar,
                                           ICAL_VTIMEZONE_COMPONENT);
    }
    if (n) {
        const char *first = NULL;

        for (c = icalcomponent_get_first_component(vcalendar,
                                                   ICAL_VTIMEZONE_COMPONENT);
             c; c = icalcomponent_get_next_component(vcalendar,
                                                   ICAL_VTIMEZONE_COMPONENT)) {
            const char *tzid = check_vtimezone(c, reason, pool);

            if (!tzid) {
                return CALCORE_EINVALID;
            }
            if (apr_hash_get(s->zones, tzid, APR_HASH_KEY_STRING)) {
                *reason = apr_psprintf(pool, "two VTIMEZONEs have the TZID "
                                       "'%s'", tzid);
                return CALCORE_EINVALID;
            }
            apr_hash_set(s->zones, apr_pstrdup(pool, tzid),
                         APR_HASH_KEY_STRING, c);
            if (!first) {
                first = tzid;
            }
        }
        /* icalcomponent_get_timezone() sorts the tree's zone array on its
         * first call (moving the elements): call it once before taking
         * pointers, then resolve every TZID.  The array is not touched again
         * as long as nobody adds or removes a VTIMEZONE. */
        (void)icalcomponent_get_timezone(vcalendar, first);
        {
            apr_hash_index_t *hi;

            for (hi = apr_hash_first(pool, s->zones); hi;
                 hi = apr_hash_next(hi)) {
                const void *key;
                void *val;
                icaltimezone *z;
                icaltimezone *shared;

                apr_hash_this(hi, &key, NULL, &val);
                z = icalcomponent_get_timezone(vcalendar, key);
                if (!z || icaltimezone_get_component(z) != val) {
                    *reason = apr_psprintf(pool, "VTIMEZONE '%s' is not "
                                           "usable", (const char *)key);
                    return CALCORE_EINVALID;
                }
                if ((shared = tzcache_get(val)) != NULL) {
                    z = shared;
                }
                apr_hash_set(s->zones, key, APR_HASH_KEY_STRING, z);
            }
        }
    }
    *set = s;
    return APR_SUCCESS;
}

icaltimezone *calcore_tzset_resolve(const calcore_tzset_t *set,
                                    const char *tzid)
{
    icaltimezone *z;

    if (!tzid) {
        return NULL;
    }
    if (set && (z = apr_hash_get(set->zones, tzid, APR_HASH_KEY_STRING))) {
        return z;
    }
    return calcore_tz_system(tzid);
}

apr_status_t calcore_tz_prop_time(const calcore_tzset_t *set,
                                  icalproperty *prop,
                                  struct icaltimetype *tt,
                                  struct icalperiodtype *period,
                                  const char **tzid_out)
{
    icalvalue *v = prop ? icalproperty_get_value(prop) : NULL;
    icalparameter *param;
    struct icalperiodtype per;
    int is_period = 0;

    if (tzid_out) {
        *tzid_out = NULL;
    }
    if (period) {
        period->start = icaltime_null_time();
        period->end = icaltime_null_time();
        period->duration = icaldurationtype_null_duration();
    }
    if (!v) {
        return CALCORE_EINVALID;
    }
    switch (icalvalue_isa(v)) {
    case ICAL_DATETIME_VALUE:
        *tt = icalvalue_get_datetime(v);
        break;
    case ICAL_DATE_VALUE:
        *tt = icalvalue_get_date(v);
        break;
    case ICAL_DATETIMEPERIOD_VALUE: {
        struct icaldatetimeperiodtype dtp = icalvalue_get_datetimeperiod(v);

        if (!icaltime_is_null_time(dtp.time)) {
            *tt = dtp.time;
        }
        else {
            per = dtp.period;
            *tt = per.start;
            is_period = 1;
        }
        break;
    }
    case ICAL_PERIOD_VALUE:
        per = icalvalue_get_period(v);
        *tt = per.start;
        is_period = 1;
        break;
    default:
        return CALCORE_EINVALID;
    }
    if (icaltime_is_null_time(*tt)) {
        return CALCORE_EINVALID;
    }
    if (tt->is_date) {
        tt->zone = NULL;
    }
    else if (!icaltime_is_utc(*tt)) {
        tt->zone = NULL;
        param = icalproperty_get_first_parameter(prop, ICAL_TZID_PARAMETER);
        if (param) {
            const char *tzid = icalparameter_get_tzid(param);
            icaltimezone *z = calcore_tzset_resolve(set, tzid);

            if (!z) {
                if (tzid_out) {
                    *tzid_out = tzid;
                }
                return CALCORE_EINVALID;
            }
            tt->zone = z;
        }
    }
    if (is_period && period) {
        period->start = *tt;
        period->end = per.end;
        period->duration = per.duration;
        if (!icaltime_is_null_time(per.end)) {
            period->end.zone = tt->zone;
            period->end.is_date = tt->is_date;
        }
    }
    return APR_SUCCESS;
}

apr_status_t calcore_tz_prop_utc(const calcore_tzset_t *set,
                                 icalproperty *prop,
                                 const icaltimezone *floating,
                                 calcore_time_t *t)
{
    struct icaltimetype tt;
    apr_status_t rv = calcore_tz_prop_time(set, prop, &tt, NULL, NULL);

    if (rv == APR_SUCCESS) {
        *t = calcore_tz_to_utc(tt, floating);
    }
    return rv;
}

/* ---- calendar-timezone -------------------------------------------------- */

static apr_status_t parse_vtimezone_text(icalcomponent **vtz_out,
                                         icalcomponent **root_out,
                                         const char *text, apr_size_t len,
                                         const char **reason,
                                         apr_pool_t *pool)
{
    icalcomponent *root, *c, *vtz = NULL;
    icalproperty *p;
    apr_size_t skip;
    apr_status_t rv;

    if ((rv = calcore__raw_check(text, len, &skip, reason, pool))) {
        return rv;
    }
    /* libical wants a NUL-terminated string; 'text' is length-delimited */
    text = apr_pstrmemdup(pool, text + skip, len - skip);
    if ((rv = calcore__parse(&root, NULL, text, len - skip, reason, pool))) {
        return rv;
    }
    if (icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT) {
        *reason = "not exactly one VCALENDAR";
        return CALCORE_EINVALID;
    }
    for (p = icalcomponent_get_first_property(root, ICAL_ANY_PROPERTY); p;
         p = icalcomponent_get_next_property(root, ICAL_ANY_PROPERTY)) {
        icalproperty_kind k = icalproperty_isa(p);

        if (k == ICAL_CALSCALE_PROPERTY) {
            const char *cs = icalproperty_get_calscale(p);

            if (!cs || strcasecmp(cs, "GREGORIAN") != 0) {
                *reason = "CALSCALE must be GREGORIAN";
                return CALCORE_EINVALID;
            }
        }
        else if (k != ICAL_VERSION_PROPERTY && k != ICAL_PRODID_PROPERTY
                 && k != ICAL_X_PROPERTY) {
            *reason = apr_psprintf(pool, "property %s is not allowed next "
                                   "to the VTIMEZONE",
                                   icalproperty_get_property_name(p));
            return CALCORE_EINVALID;
        }
    }
    for (c = icalcomponent_get_first_component(root, ICAL_ANY_COMPONENT); c;
         c = icalcomponent_get_next_component(root, ICAL_ANY_COMPONENT)) {
        if (icalcomponent_isa(c) != ICAL_VTIMEZONE_COMPONENT) {
            *reason = "only a VTIMEZONE component is allowed";
            return CALCORE_EINVALID;
        }
        if (vtz) {
            *reason = "more than one VTIMEZONE";
            return CALCORE_EINVALID;
        }
        vtz = c;
    }
    if (!vtz) {
        *reason = "no VTIMEZONE component";
        return CALCORE_EINVALID;
    }
    *vtz_out = vtz;
    *root_out = root;
    return APR_SUCCESS;
}

apr_status_t calcore_tz_parse_vtimezone(icaltimezone **zone,
                                        const char **tzid,
                                        const char *text, apr_size_t len,
                                        const char **reason,
                                        apr_pool_t *pool)
{
    icalcomponent *vtz, *root;
    calcore_tzset_t *set;
    const char *id;
    apr_status_t rv;

    *zone = NULL;
    if ((rv = parse_vtimezone_text(&vtz, &root, text, len, reason, pool))) {
        return rv;
    }
    if ((rv = calcore_tzset_create(&set, root, reason, pool))) {
        return rv;
    }
    id = icalproperty_get_tzid(icalcomponent_get_first_property(
                                   vtz, ICAL_TZID_PROPERTY));
    *zone = apr_hash_get(set->zones, id, APR_HASH_KEY_STRING);
    if (!*zone) {
        *reason = "VTIMEZONE is not usable";
        return CALCORE_EINVALID;
    }
    if (tzid) {
        *tzid = apr_pstrdup(pool, id);
    }
    return APR_SUCCESS;
}

apr_status_t calcore_tz_validate_vtimezone(const char *text, apr_size_t len,
                                           const char **reason,
                                           apr_pool_t *pool)
{
    icaltimezone *zone;
    apr_pool_t *scratch;
    apr_status_t rv;

    apr_pool_create(&scratch, pool);
    rv = calcore_tz_parse_vtimezone(&zone, NULL, text, len, reason, scratch);
    if (rv && *reason) {
        *reason = apr_pstrdup(pool, *reason);
    }
    apr_pool_destroy(scratch);
    return rv;
}

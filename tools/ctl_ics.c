/*
 * ctl_ics.c - cut an iCalendar stream (an export of another system, a
 * feed, a concatenation of files) into its VCALENDARs and their
 * components at the octet level, with what import needs to group them:
 * each component's UID, whether it has a RECURRENCE-ID, the TZIDs it uses,
 * a VTIMEZONE's TZID.
 *
 * Nothing is re-serialised: import builds each object's text from the
 * input's own bytes, and the validator (core/) then judges that text
 * exactly as it would judge a PUT.  So this scanner follows only the
 * BEGIN/END nesting and a few property names, and leaves every other
 * rule to core/.
 */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "ctl.h"

/* One content line, unfolded. */
typedef struct ics_line_t {
    const char *raw;            /* the octets, folds and breaks included   */
    apr_size_t raw_len;
    const char *eol;            /* its last line break: "\r\n", "\n", ""   */
    char *name;                 /* upper-cased property name               */
    char *value;                /* the value (after the first unquoted ':') */
    apr_array_header_t *tzids;  /* const char *: TZID parameter values     */
    unsigned lineno;
    unsigned physical;          /* physical lines it spans                 */
} ics_line_t;

/* Read the content line starting at text[*pos] into 'ln' (allocations from
 * 'pool'); advance *pos past it. */
static void ics_read_line(const char *text, apr_size_t len, apr_size_t *pos,
                          ics_line_t *ln, apr_pool_t *pool)
{
    apr_size_t start = *pos, p = *pos, end;
    char *u, *o, *c;
    int quoted = 0;

    ln->physical = 0;
    /* the physical lines: up to a line break not followed by a fold */
    for (;;) {
        const char *lf = memchr(text + p, '\n', len - p);

        ln->physical++;
        p = lf ? (apr_size_t)(lf - text) + 1 : len;
        if (p >= len || (text[p] != ' ' && text[p] != '\t')) {
            break;
        }
    }
    end = p;
    ln->raw = text + start;
    ln->raw_len = end - start;
    if (end > start && text[end - 1] == '\n') {
        ln->eol = (end - start >= 2 && text[end - 2] == '\r') ? "\r\n" : "\n";
    }
    else {
        ln->eol = "";
    }
    *pos = end;

    /* unfold: drop each line break and the one blank that follows it */
    o = u = apr_palloc(pool, end - start + 1);
    for (p = start; p < end; p++) {
        if (text[p] == '\r' && p + 1 < end && text[p + 1] == '\n') {
            continue;
        }
        if (text[p] == '\n') {
            if (p + 1 < end && (text[p + 1] == ' ' || text[p + 1] == '\t')) {
                p++;
            }
            continue;
        }
        *o++ = text[p];
    }
    *o = '\0';

    /* NAME *(";" param) ":" value, with quoted parameter values */
    ln->tzids = NULL;
    ln->value = NULL;
    for (c = u; *c && *c != ';' && *c != ':'; c++) {
        *c = apr_toupper(*c);
    }
    ln->name = u;
    if (*c == '\0') {
        return;
    }
    while (*c == ';') {
        char *pname, *pval, *q;

        *c++ = '\0';
        pname = c;
        while (*c && *c != '=' && *c != ';' && *c != ':') {
            c++;
        }
        if (*c != '=') {
            continue;
        }
        *c++ = '\0';
        /* the parameter's values, up to an unquoted ';' or ':' */
        pval = q = c;
        while (*c && (quoted || (*c != ';' && *c != ':'))) {
            if (*c == '"') {
                quoted = !quoted;
            }
            else {
                *q++ = *c;
            }
            c++;
        }
        if (strcasecmp(pname, "TZID") == 0) {
            char save = *c;

            *c = '\0';
            if (ln->tzids == NULL) {
                ln->tzids = apr_array_make(pool, 1, sizeof(const char *));
            }
            APR_ARRAY_PUSH(ln->tzids, const char *) =
                apr_pstrndup(pool, pval, q - pval);
            *c = save;
        }
        else if (q < c) {
            *q = '\0';
        }
    }
    if (*c == ':') {
        *c++ = '\0';
        ln->value = c;
    }
}

/* RFC 5545 3.3.11 TEXT unescaping, and the value trimmed of blanks. */
static const char *ics_text_value(const char *v, apr_pool_t *pool)
{
    char *out = apr_palloc(pool, strlen(v) + 1), *o = out;

    while (*v == ' ' || *v == '\t') {
        v++;
    }
    for (; *v; v++) {
        if (*v == '\\' && v[1]) {
            v++;
            *o++ = (*v == 'n' || *v == 'N') ? '\n' : *v;
        }
        else {
            *o++ = *v;
        }
    }
    while (o > out && (o[-1] == ' ' || o[-1] == '\t')) {
        o--;
    }
    *o = '\0';
    return out;
}

/* The upper-cased, trimmed value of a BEGIN/END line. */
static const char *ics_token(const char *v, apr_pool_t *pool)
{
    char *t, *c;

    if (v == NULL) {
        return "";
    }
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    t = apr_pstrdup(pool, v);
    for (c = t; *c; c++) {
        *c = apr_toupper(*c);
    }
    while (c > t && (c[-1] == ' ' || c[-1] == '\t')) {
        *--c = '\0';
    }
    return t;
}

void ctl_ics_split(ctl_ics_t **icsp, const char *text, apr_size_t len,
                   apr_pool_t *pool)
{
    ctl_ics_t *ics = apr_pcalloc(pool, sizeof(*ics));
    ctl_vcal_t *vcal = NULL;
    ctl_comp_t *comp = NULL;
    apr_pool_t *scratch;
    apr_size_t pos = 0;
    unsigned lineno = 1, outside = 0;
    int depth = 0;              /* 0 outside, 1 in a VCALENDAR, 2+ in a
                                   component                              */

    apr_pool_create(&scratch, pool);
    ics->vcals = apr_array_make(pool, 1, sizeof(ctl_vcal_t));
    ics->comps = apr_array_make(pool, 64, sizeof(ctl_comp_t));
    ics->broken = apr_array_make(pool, 1, sizeof(const char *));
    ics->warnings = apr_array_make(pool, 1, sizeof(const char *));
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        pos = 3;                /* a UTF-8 byte-order mark */
    }
    while (pos < len) {
        ics_line_t ln;
        const char *tok;
        int i;

        apr_pool_clear(scratch);
        ics_read_line(text, len, &pos, &ln, scratch);
        ln.lineno = lineno;
        lineno += ln.physical;
        if (ln.name[0] == '\0' && ln.value == NULL) {
            continue;           /* a blank line */
        }
        if (strcmp(ln.name, "BEGIN") == 0) {
            tok = ics_token(ln.value, scratch);
            if (depth == 0) {
                if (strcmp(tok, "VCALENDAR") != 0) {
                    outside++;
                    continue;
                }
                vcal = apr_array_push(ics->vcals);
                memset(vcal, 0, sizeof(*vcal));
                vcal->begin = ln.raw;
                vcal->begin_len = ln.raw_len;
                vcal->props = apr_array_make(pool, 4, sizeof(ctl_line_t));
                vcal->line = ln.lineno;
                depth = 1;
                continue;
            }
            if (depth == 1) {
                comp = apr_array_push(ics->comps);
                memset(comp, 0, sizeof(*comp));
                comp->name = apr_pstrdup(pool, tok);
                comp->text = ln.raw;
                comp->begin_len = ln.raw_len;
                comp->eol = *ln.eol ? ln.eol : "\r\n";
                comp->vcal = ics->vcals->nelts - 1;
                comp->line = ln.lineno;
            }
            depth++;
            continue;
        }
        if (strcmp(ln.name, "END") == 0) {
            if (depth == 0) {
                outside++;
                continue;
            }
            if (depth == 1) {
                vcal->end = ln.raw;
                vcal->end_len = ln.raw_len;
                depth = 0;
                vcal = NULL;
                continue;
            }
            if (--depth == 1) {
                comp->len = (apr_size_t)((text + pos) - comp->text);
                comp = NULL;
            }
            continue;
        }
        if (depth == 0) {
            outside++;
        }
        else if (depth == 1) {
            ctl_line_t *pl = apr_array_push(vcal->props);

            pl->name = apr_pstrdup(pool, ln.name);
            pl->text = ln.raw;
            pl->len = ln.raw_len;
        }
        else {
            if (depth == 2 && ln.value != NULL) {
                if (strcmp(ln.name, "UID") == 0 && comp->uid == NULL) {
                    comp->uid = ics_text_value(ln.value, pool);
                }
                else if (strcmp(ln.name, "RECURRENCE-ID") == 0) {
                    comp->has_recurrence_id = 1;
                }
                else if (strcmp(ln.name, "TZID") == 0
                         && strcmp(comp->name, "VTIMEZONE") == 0
                         && comp->tzid == NULL) {
                    comp->tzid = ics_text_value(ln.value, pool);
                }
            }
            for (i = 0; ln.tzids && i < ln.tzids->nelts; i++) {
                if (comp->tzrefs == NULL) {
                    comp->tzrefs = apr_array_make(pool, 2,
                                                  sizeof(const char *));
                }
                APR_ARRAY_PUSH(comp->tzrefs, const char *) =
                    apr_pstrdup(pool, APR_ARRAY_IDX(ln.tzids, i,
                                                    const char *));
            }
        }
    }
    if (comp != NULL) {
        /* cut short: the object is lost */
        APR_ARRAY_PUSH(ics->broken, const char *) =
            apr_psprintf(pool, "line %u: %s%s%s is not terminated (no "
                         "END:%s before the end of the input)", comp->line,
                         comp->name, comp->uid ? " UID " : "",
                         comp->uid ? comp->uid : "", comp->name);
        ics->comps->nelts--;
    }
    if (vcal != NULL) {
        APR_ARRAY_PUSH(ics->warnings, const char *) =
            apr_psprintf(pool, "line %u: VCALENDAR without END:VCALENDAR",
                         vcal->line);
    }
    if (outside) {
        APR_ARRAY_PUSH(ics->warnings, const char *) =
            apr_psprintf(pool, "%u line(s) outside any VCALENDAR ignored",
                         outside);
    }
    apr_pool_destroy(scratch);
    *icsp = ics;
}

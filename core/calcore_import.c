/*
 * calcore_import.c - an iCalendar stream cut into components at the octet
 * level and grouped by UID into calendar object resources
 * (calcore_import.h).
 *
 * Nothing is re-serialised: each object's text is built from the input's
 * own bytes, and the validator (calcore_object_parse) then judges that text
 * exactly as it would judge a PUT.  So this scanner follows only the
 * BEGIN/END nesting and a few property names (UID, RECURRENCE-ID, a
 * VTIMEZONE's TZID, TZID parameters), and leaves every other rule to the
 * validator.
 */
#include <string.h>

#include <apr_lib.h>
#include <apr_sha1.h>
#include <apr_strings.h>

#include "calcore_import.h"

/* ---- cutting ---------------------------------------------------------- */

/* One content line, unfolded. */
typedef struct import_rawline_t {
    const char *raw;            /* the octets, folds and breaks included   */
    apr_size_t raw_len;
    const char *eol;            /* its last line break: "\r\n", "\n", ""   */
    char *name;                 /* upper-cased property name               */
    char *value;                /* the value (after the first unquoted ':') */
    apr_array_header_t *tzids;  /* const char *: TZID parameter values     */
    unsigned lineno;
    unsigned physical;          /* physical lines it spans                 */
} import_rawline_t;

/* Read the content line starting at text[*pos] into 'ln' (allocations from
 * 'pool'); advance *pos past it. */
static void import_read_line(const char *text, apr_size_t len,
                             apr_size_t *pos, import_rawline_t *ln,
                             apr_pool_t *pool)
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
static const char *import_text_value(const char *v, apr_pool_t *pool)
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
static const char *import_token(const char *v, apr_pool_t *pool)
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

/* Cut 'text' into imp->vcals and imp->comps, listing what could not be
 * cut (imp->broken) and what was ignored (imp->warnings). */
static void import_split(calcore_import_t *imp, const char *text,
                         apr_size_t len, apr_pool_t *pool)
{
    calcore_import_vcal_t *vcal = NULL;
    calcore_import_comp_t *comp = NULL;
    apr_pool_t *scratch;
    apr_size_t pos = 0;
    unsigned lineno = 1, outside = 0;
    int depth = 0;              /* 0 outside, 1 in a VCALENDAR, 2+ in a
                                   component                              */

    apr_pool_create(&scratch, pool);
    imp->vcals = apr_array_make(pool, 1, sizeof(calcore_import_vcal_t));
    imp->comps = apr_array_make(pool, 64, sizeof(calcore_import_comp_t));
    imp->broken = apr_array_make(pool, 1, sizeof(calcore_import_broken_t));
    imp->warnings = apr_array_make(pool, 1, sizeof(const char *));
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        pos = 3;                /* a UTF-8 byte-order mark */
    }
    while (pos < len) {
        import_rawline_t ln;
        const char *tok;
        int i;

        apr_pool_clear(scratch);
        import_read_line(text, len, &pos, &ln, scratch);
        ln.lineno = lineno;
        lineno += ln.physical;
        if (ln.name[0] == '\0' && ln.value == NULL) {
            continue;           /* a blank line */
        }
        if (strcmp(ln.name, "BEGIN") == 0) {
            tok = import_token(ln.value, scratch);
            if (depth == 0) {
                if (strcmp(tok, "VCALENDAR") != 0) {
                    outside++;
                    continue;
                }
                vcal = apr_array_push(imp->vcals);
                memset(vcal, 0, sizeof(*vcal));
                vcal->begin = ln.raw;
                vcal->begin_len = ln.raw_len;
                vcal->props = apr_array_make(pool, 4,
                                             sizeof(calcore_import_line_t));
                vcal->line = ln.lineno;
                depth = 1;
                continue;
            }
            if (depth == 1) {
                comp = apr_array_push(imp->comps);
                memset(comp, 0, sizeof(*comp));
                comp->name = apr_pstrdup(pool, tok);
                comp->text = ln.raw;
                comp->begin_len = ln.raw_len;
                comp->eol = *ln.eol ? ln.eol : "\r\n";
                comp->vcal = imp->vcals->nelts - 1;
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
            calcore_import_line_t *pl = apr_array_push(vcal->props);

            pl->name = apr_pstrdup(pool, ln.name);
            pl->text = ln.raw;
            pl->len = ln.raw_len;
        }
        else {
            if (depth == 2 && ln.value != NULL) {
                if (strcmp(ln.name, "UID") == 0 && comp->uid == NULL) {
                    comp->uid = import_text_value(ln.value, pool);
                }
                else if (strcmp(ln.name, "RECURRENCE-ID") == 0) {
                    comp->has_recurrence_id = 1;
                }
                else if (strcmp(ln.name, "TZID") == 0
                         && strcmp(comp->name, "VTIMEZONE") == 0
                         && comp->tzid == NULL) {
                    comp->tzid = import_text_value(ln.value, pool);
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
        calcore_import_broken_t *b = apr_array_push(imp->broken);

        b->name = comp->name;
        b->text = comp->text;
        b->len = (apr_size_t)((text + len) - comp->text);
        b->uid = comp->uid;
        b->line = comp->line;
        b->reason = apr_psprintf(pool, "%s is not terminated (no END:%s "
                                 "before the end of the input)", comp->name,
                                 comp->name);
        imp->comps->nelts--;
    }
    if (vcal != NULL) {
        APR_ARRAY_PUSH(imp->warnings, const char *) =
            apr_psprintf(pool, "line %u: VCALENDAR without END:VCALENDAR",
                         vcal->line);
    }
    if (outside) {
        APR_ARRAY_PUSH(imp->warnings, const char *) =
            apr_psprintf(pool, "%u line(s) outside any VCALENDAR ignored",
                         outside);
    }
    apr_pool_destroy(scratch);
}

/* ---- grouping --------------------------------------------------------- */

/* The SHA-1 of 'len' octets at 'data', in lower-case hex. */
static const char *hex_sha1(const char *data, apr_size_t len,
                            apr_pool_t *pool)
{
    unsigned char digest[APR_SHA1_DIGESTSIZE];
    char *out = apr_palloc(pool, 2 * APR_SHA1_DIGESTSIZE + 1);
    apr_sha1_ctx_t sha;
    int i;

    apr_sha1_init(&sha);
    apr_sha1_update_binary(&sha, (const unsigned char *)data,
                           (unsigned int)len);
    apr_sha1_final(digest, &sha);
    for (i = 0; i < APR_SHA1_DIGESTSIZE; i++) {
        apr_snprintf(out + 2 * i, 3, "%02x", digest[i]);
    }
    return out;
}

/* Group the calendar components of 'imp' by UID, in order of first
 * appearance; list the other kinds (not VTIMEZONE) as ignored. */
static void import_group(calcore_import_t *imp, apr_pool_t *pool)
{
    apr_array_header_t *ignored = apr_array_make(pool, 1,
                                                 sizeof(const char *));
    apr_hash_t *by_uid = apr_hash_make(pool);
    apr_hash_t *counts = apr_hash_make(pool);
    int i;

    imp->groups = apr_array_make(pool, imp->comps->nelts,
                                 sizeof(calcore_import_group_t));
    imp->first_tz = apr_hash_make(pool);
    imp->vcal_tz = apr_hash_make(pool);
    for (i = 0; i < imp->comps->nelts; i++) {
        const calcore_import_comp_t *comp =
            &APR_ARRAY_IDX(imp->comps, i, calcore_import_comp_t);
        calcore_import_group_t *g;
        const char *uid = comp->uid;
        apr_uintptr_t at;
        int generated = 0;

        if (strcmp(comp->name, "VTIMEZONE") == 0) {
            const char *key;

            if (comp->tzid == NULL) {
                continue;
            }
            if (!apr_hash_get(imp->first_tz, comp->tzid,
                              APR_HASH_KEY_STRING)) {
                apr_hash_set(imp->first_tz, comp->tzid, APR_HASH_KEY_STRING,
                             comp);
            }
            key = apr_psprintf(pool, "%d\n%s", comp->vcal, comp->tzid);
            if (!apr_hash_get(imp->vcal_tz, key, APR_HASH_KEY_STRING)) {
                apr_hash_set(imp->vcal_tz, key, APR_HASH_KEY_STRING, comp);
            }
            continue;
        }
        if (calcore_comp_from_name(comp->name) == CALCORE_COMP_NONE) {
            int *count = apr_hash_get(counts, comp->name,
                                      APR_HASH_KEY_STRING);

            if (count == NULL) {
                count = apr_pcalloc(pool, sizeof(*count));
                apr_hash_set(counts, comp->name, APR_HASH_KEY_STRING,
                             count);
                APR_ARRAY_PUSH(ignored, const char *) = comp->name;
            }
            (*count)++;
            continue;
        }
        if (uid == NULL || *uid == '\0') {
            /* derived from the bytes: the same input imported again finds
             * the same objects; identical copies get a counter */
            const char *base = apr_pstrcat(pool, CALCORE_IMPORT_UID_PREFIX,
                                           hex_sha1(comp->text, comp->len,
                                                    pool), NULL);
            int n = 1;

            uid = base;
            while (apr_hash_get(by_uid, uid, APR_HASH_KEY_STRING)) {
                uid = apr_psprintf(pool, "%s-%d", base, ++n);
            }
            generated = 1;
        }
        /* the hash keeps index + 1 (the array may move) */
        at = generated ? 0 : (apr_uintptr_t)apr_hash_get(by_uid, uid,
                                                         APR_HASH_KEY_STRING);
        if (at == 0) {
            g = apr_array_push(imp->groups);
            g->uid = uid;
            g->generated = generated;
            g->comps = apr_array_make(pool, 1,
                                      sizeof(const calcore_import_comp_t *));
            apr_hash_set(by_uid, uid, APR_HASH_KEY_STRING,
                         (void *)(apr_uintptr_t)imp->groups->nelts);
        }
        else {
            g = &APR_ARRAY_IDX(imp->groups, (int)(at - 1),
                               calcore_import_group_t);
        }
        APR_ARRAY_PUSH(g->comps, const calcore_import_comp_t *) = comp;
    }
    for (i = 0; i < imp->broken->nelts; i++) {
        calcore_import_broken_t *b = &APR_ARRAY_IDX(imp->broken, i,
                                                    calcore_import_broken_t);

        if (b->uid == NULL || *b->uid == '\0') {
            b->uid = apr_pstrcat(pool, CALCORE_IMPORT_UID_PREFIX,
                                 hex_sha1(b->text, b->len, pool), NULL);
            b->generated = 1;
        }
    }
    for (i = 0; i < ignored->nelts; i++) {
        const char *name = APR_ARRAY_IDX(ignored, i, const char *);

        APR_ARRAY_PUSH(imp->warnings, const char *) =
            apr_psprintf(pool, "ignored %d %s component(s): not a calendar "
                         "component", *(int *)apr_hash_get(
                             counts, name, APR_HASH_KEY_STRING), name);
    }
}

void calcore_import_read(calcore_import_t **impp, const char *text,
                         apr_size_t len, apr_pool_t *pool)
{
    calcore_import_t *imp = apr_pcalloc(pool, sizeof(*imp));

    import_split(imp, text, len, pool);
    import_group(imp, pool);
    *impp = imp;
}

/* ---- the objects' texts ----------------------------------------------- */

/* The VTIMEZONE for 'tzid': of the component's own VCALENDAR if it has
 * one, else the first in the input.  NULL when there is none (a system
 * zone name, which the validator resolves). */
static const calcore_import_comp_t *import_find_tz(
    const calcore_import_t *imp, int vcal, const char *tzid,
    apr_pool_t *pool)
{
    const calcore_import_comp_t *tz;

    tz = apr_hash_get(imp->vcal_tz, apr_psprintf(pool, "%d\n%s", vcal, tzid),
                      APR_HASH_KEY_STRING);
    return tz ? tz : apr_hash_get(imp->first_tz, tzid, APR_HASH_KEY_STRING);
}

/* A piece of an object's text. */
typedef struct import_piece_t {
    const char *text;
    apr_size_t len;
} import_piece_t;

/* Append 'len' octets to the pieces of an object's text. */
static void piece(apr_array_header_t *pieces, const char *text,
                  apr_size_t len)
{
    import_piece_t *v = apr_array_push(pieces);

    v->text = text;
    v->len = len;
}

const char *calcore_import_text(const calcore_import_t *imp,
                                const calcore_import_group_t *g,
                                const calcore_attrmap_t *map,
                                apr_size_t *len, apr_pool_t *pool)
{
    const calcore_import_comp_t *first =
        APR_ARRAY_IDX(g->comps, 0, const calcore_import_comp_t *);
    const calcore_import_vcal_t *vcal =
        &APR_ARRAY_IDX(imp->vcals, first->vcal, calcore_import_vcal_t);
    apr_array_header_t *pieces = apr_array_make(pool, 16,
                                                sizeof(import_piece_t));
    apr_hash_t *tz_done = apr_hash_make(pool);
    apr_size_t total = 0;
    char *out, *o;
    int i, j;

    piece(pieces, vcal->begin, vcal->begin_len);
    for (i = 0; i < vcal->props->nelts; i++) {
        const calcore_import_line_t *pl =
            &APR_ARRAY_IDX(vcal->props, i, calcore_import_line_t);

        if (strcmp(pl->name, "METHOD") != 0) {
            piece(pieces, pl->text, pl->len);
        }
    }
    for (i = 0; i < g->comps->nelts; i++) {
        const calcore_import_comp_t *c =
            APR_ARRAY_IDX(g->comps, i, const calcore_import_comp_t *);

        for (j = 0; c->tzrefs && j < c->tzrefs->nelts; j++) {
            const char *tzid = APR_ARRAY_IDX(c->tzrefs, j, const char *);
            const calcore_import_comp_t *tz;

            if (apr_hash_get(tz_done, tzid, APR_HASH_KEY_STRING)) {
                continue;
            }
            apr_hash_set(tz_done, tzid, APR_HASH_KEY_STRING, "");
            if ((tz = import_find_tz(imp, c->vcal, tzid, pool))) {
                piece(pieces, tz->text, tz->len);
            }
        }
    }
    for (i = 0; i < g->comps->nelts; i++) {
        const calcore_import_comp_t *c =
            APR_ARRAY_IDX(g->comps, i, const calcore_import_comp_t *);

        const char *text = c->text;
        apr_size_t n = c->len;

        if (g->generated) {
            /* our UID, right after the BEGIN line */
            apr_size_t ulen = strlen(g->uid), elen = strlen(c->eol);
            char *t;

            n = c->len + 4 + ulen + elen;
            text = t = apr_palloc(pool, n + 1);
            memcpy(t, c->text, c->begin_len);
            t += c->begin_len;
            memcpy(t, "UID:", 4);
            memcpy(t + 4, g->uid, ulen);
            memcpy(t + 4 + ulen, c->eol, elen);
            t += 4 + ulen + elen;
            memcpy(t, c->text + c->begin_len, c->len - c->begin_len);
            t[c->len - c->begin_len] = '\0';
        }
        if (map) {
            calcore_attrmap_apply(map, text, n, &text, &n, NULL, pool);
        }
        piece(pieces, text, n);
    }
    if (vcal->end) {
        piece(pieces, vcal->end, vcal->end_len);
    }
    else {
        piece(pieces, "END:VCALENDAR", 13);
        piece(pieces, first->eol, strlen(first->eol));
    }

    for (i = 0; i < pieces->nelts; i++) {
        total += APR_ARRAY_IDX(pieces, i, import_piece_t).len;
    }
    o = out = apr_palloc(pool, total + 1);
    for (i = 0; i < pieces->nelts; i++) {
        const import_piece_t *v = &APR_ARRAY_IDX(pieces, i, import_piece_t);

        memcpy(o, v->text, v->len);
        o += v->len;
    }
    *o = '\0';
    *len = total;
    return out;
}

unsigned calcore_import_line(const calcore_import_group_t *g)
{
    return APR_ARRAY_IDX(g->comps, 0, const calcore_import_comp_t *)->line;
}

const char *calcore_import_label(const calcore_import_group_t *g,
                                 apr_pool_t *pool)
{
    const calcore_import_comp_t *first =
        APR_ARRAY_IDX(g->comps, 0, const calcore_import_comp_t *);

    if (g->generated) {
        return apr_psprintf(pool, "%s without UID (line %u)", first->name,
                            first->line);
    }
    return apr_psprintf(pool, "UID %s (line %u)", g->uid, first->line);
}

/* ---- names ------------------------------------------------------------ */

const char *calcore_import_name(const char *uid, int attempt,
                                apr_pool_t *pool)
{
    apr_size_t n = strlen(uid), i, k;
    char *base = apr_palloc(pool, CALCORE_IMPORT_NAME_MAX + 2);
    int changed = n > CALCORE_IMPORT_NAME_MAX;

    for (i = 0, k = 0; i < n && k < CALCORE_IMPORT_NAME_MAX; i++) {
        char c = uid[i];

        if (apr_isalnum(c) || c == '.' || c == '_' || c == '-' || c == '@'
            || c == '+') {
            base[k++] = c;
        }
        else {
            base[k++] = '_';
            changed = 1;
        }
    }
    base[k] = '\0';
    if (base[0] == '.') {
        base[0] = '_';
        changed = 1;
    }
    return apr_pstrcat(pool, base,
                       changed ? "-" : "",
                       changed ? apr_pstrndup(pool, hex_sha1(uid, n, pool), 8)
                               : "",
                       attempt ? apr_psprintf(pool, "-%d", attempt) : "",
                       ".ics", NULL);
}

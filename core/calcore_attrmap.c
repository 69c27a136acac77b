/*
 * calcore_attrmap.c - vendor-property aliases and default values for
 * imported components (calcore_attrmap.h; the format: docs/import.md).
 *
 * Parsing turns each line into a rule; applying a map to a component
 * reads the component's own content lines (folded lines joined, nested
 * components skipped), decides which rules add a property, and writes the
 * new lines, folded, in front of the component's END line.  Everything
 * else of the component is copied byte for byte.
 */
#include <string.h>

#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "calcore_attrmap.h"

/* One VENDOR-VALUE=VALUE of an alias. */
typedef struct attrmap_pair_t {
    const char *from;           /* NULL for '*'                            */
    const char *to;
} attrmap_pair_t;

typedef struct attrmap_rule_t {
    unsigned comps;             /* calcore_comp_e bits it applies to       */
    const char *vendor;         /* alias: the vendor property (upper case);
                                   NULL for a default                      */
    const char *prop;           /* the property added (upper case)         */
    const char *value;          /* default: its value                      */
    apr_array_header_t *pairs;  /* alias: attrmap_pair_t, or NULL (copy the
                                   value)                                  */
    unsigned line;
} attrmap_rule_t;

struct calcore_attrmap_t {
    apr_array_header_t *aliases;    /* attrmap_rule_t, in file order       */
    apr_array_header_t *defaults;   /* attrmap_rule_t, in file order       */
};

/* Longest line written before folding (octets, without the line break). */
#define ATTRMAP_FOLD 75

/* ---- parsing ------------------------------------------------------------ */

/* A word of a map line. */
typedef struct attrmap_word_t {
    char *text;                 /* unquoted                                */
    int eq;                     /* offset of its first unquoted '=', or -1 */
} attrmap_word_t;

/* Split the line 'line' (NUL-terminated, no line break) into words.
 * Returns NULL (and *why) for an unterminated quote. */
static apr_array_header_t *attrmap_words(char *line, const char **why,
                                         apr_pool_t *pool)
{
    apr_array_header_t *words = apr_array_make(pool, 6,
                                               sizeof(attrmap_word_t));
    char *c = line;

    for (;;) {
        attrmap_word_t *w;
        char *o;
        int quoted = 0;

        while (*c == ' ' || *c == '\t') {
            c++;
        }
        if (*c == '\0' || *c == '#') {
            return words;
        }
        w = apr_array_push(words);
        w->text = o = c;
        w->eq = -1;
        while (*c && (quoted || (*c != ' ' && *c != '\t'))) {
            if (*c == '"') {
                quoted = !quoted;
                c++;
                continue;
            }
            if (quoted && *c == '\\' && (c[1] == '"' || c[1] == '\\')) {
                c++;
            }
            else if (!quoted && *c == '=' && w->eq < 0) {
                w->eq = (int)(o - w->text);
            }
            *o++ = *c++;
        }
        if (quoted) {
            *why = "unterminated quote";
            return NULL;
        }
        if (*c) {
            c++;
        }
        *o = '\0';
    }
}

/* A property name: letters, digits and '-' (RFC 5545 iana-token and
 * x-name), upper-cased in place. */
static int attrmap_prop_ok(char *name)
{
    char *c;

    if (*name == '\0') {
        return 0;
    }
    for (c = name; *c; c++) {
        if (!apr_isalnum(*c) && *c != '-') {
            return 0;
        }
        *c = apr_toupper(*c);
    }
    return 1;
}

/* A value: valid UTF-8, not empty, no control characters but HTAB. */
static int attrmap_value_ok(const char *v)
{
    const unsigned char *s = (const unsigned char *)v;

    if (*s == '\0') {
        return 0;
    }
    while (*s) {
        int n = 0, i;

        if (*s < 0x20 ? *s != '\t' : *s == 0x7f) {
            return 0;
        }
        if (*s < 0x80) {
            s++;
            continue;
        }
        if (*s >= 0xc2 && *s <= 0xdf) {
            n = 1;
        }
        else if (*s >= 0xe0 && *s <= 0xef) {
            n = 2;
        }
        else if (*s >= 0xf0 && *s <= 0xf4) {
            n = 3;
        }
        else {
            return 0;
        }
        for (i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80) {
                return 0;
            }
        }
        if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f)
            || (s[0] == 0xf0 && s[1] < 0x90)
            || (s[0] == 0xf4 && s[1] > 0x8f)) {
            return 0;           /* overlong, surrogate, beyond U+10FFFF */
        }
        s += n + 1;
    }
    return 1;
}

/* The component kinds a COMPONENT word names (0 when it names none). */
static unsigned attrmap_comps(const char *word)
{
    return strcmp(word, "*") == 0 ? (unsigned)CALCORE_COMP_ALL
                                  : (unsigned)calcore_comp_from_name(word);
}

/* Properties no rule may add: they would change what an object is. */
static int attrmap_prop_reserved(const char *name)
{
    return strcmp(name, "BEGIN") == 0 || strcmp(name, "END") == 0
           || strcmp(name, "UID") == 0 || strcmp(name, "RECURRENCE-ID") == 0;
}

/* Parse the words of one line into a rule of 'map'.  NULL, or why not. */
static const char *attrmap_rule(calcore_attrmap_t *map,
                                apr_array_header_t *words, unsigned line,
                                apr_pool_t *pool)
{
    attrmap_word_t *w = (attrmap_word_t *)words->elts;
    int n = words->nelts, i, at = 1;
    attrmap_rule_t rule;

    memset(&rule, 0, sizeof(rule));
    rule.line = line;
    if (strcasecmp(w[0].text, "alias") == 0) {
        rule.comps = CALCORE_COMP_ALL;
        if (n > 1 && (attrmap_comps(w[1].text)
                      || strcmp(w[1].text, "*") == 0)) {
            rule.comps = attrmap_comps(w[1].text);
            at = 2;
        }
        if (n - at < 2) {
            return "alias needs a vendor property and the property it "
                   "stands for: alias [COMPONENT] VENDOR-PROPERTY PROPERTY "
                   "[VENDOR-VALUE=VALUE ...]";
        }
        if (!attrmap_prop_ok(w[at].text)) {
            return apr_psprintf(pool, "'%s' is not a property name",
                                w[at].text);
        }
        if (!attrmap_prop_ok(w[at + 1].text)) {
            return apr_psprintf(pool, "'%s' is not a property name",
                                w[at + 1].text);
        }
        rule.vendor = w[at].text;
        rule.prop = w[at + 1].text;
        if (strcmp(rule.vendor, rule.prop) == 0) {
            return apr_psprintf(pool, "%s is an alias of itself", rule.prop);
        }
        for (i = at + 2; i < n; i++) {
            attrmap_pair_t *pair;

            if (w[i].eq <= 0 || w[i].text[w[i].eq + 1] == '\0') {
                return apr_psprintf(pool, "'%s' is no VENDOR-VALUE=VALUE "
                                    "mapping", w[i].text);
            }
            w[i].text[w[i].eq] = '\0';
            if (rule.pairs == NULL) {
                rule.pairs = apr_array_make(pool, n - i,
                                            sizeof(attrmap_pair_t));
            }
            pair = apr_array_push(rule.pairs);
            pair->from = strcmp(w[i].text, "*") == 0 ? NULL : w[i].text;
            pair->to = w[i].text + w[i].eq + 1;
            if (!attrmap_value_ok(pair->to)
                || (pair->from && !attrmap_value_ok(pair->from))) {
                return apr_psprintf(pool, "'%s=%s': not a value (UTF-8 "
                                    "text without control characters)",
                                    w[i].text, pair->to);
            }
        }
        if (attrmap_prop_reserved(rule.prop)) {
            return apr_psprintf(pool, "%s cannot be added by a map",
                                rule.prop);
        }
        APR_ARRAY_PUSH(map->aliases, attrmap_rule_t) = rule;
        return NULL;
    }
    if (strcasecmp(w[0].text, "default") == 0) {
        if (n != 4) {
            return "default needs a component, a property and a value: "
                   "default COMPONENT|* PROPERTY VALUE (quote a value with "
                   "blanks)";
        }
        if ((rule.comps = attrmap_comps(w[1].text)) == 0) {
            return apr_psprintf(pool, "unknown component %s (VEVENT, "
                                "VTODO, VJOURNAL, VFREEBUSY, VAVAILABILITY "
                                "or *)", w[1].text);
        }
        if (!attrmap_prop_ok(w[2].text)) {
            return apr_psprintf(pool, "'%s' is not a property name",
                                w[2].text);
        }
        rule.prop = w[2].text;
        if (attrmap_prop_reserved(rule.prop)) {
            return apr_psprintf(pool, "%s cannot be added by a map",
                                rule.prop);
        }
        if (!attrmap_value_ok(w[3].text)) {
            return "the value must be UTF-8 text without control characters "
                   "(and not empty)";
        }
        rule.value = w[3].text;
        for (i = 0; i < map->defaults->nelts; i++) {
            const attrmap_rule_t *d = &APR_ARRAY_IDX(map->defaults, i,
                                                     attrmap_rule_t);

            if ((d->comps & rule.comps) && strcmp(d->prop, rule.prop) == 0) {
                return apr_psprintf(pool, "a default for %s of %s was given "
                                    "on line %u already", rule.prop,
                                    w[1].text, d->line);
            }
        }
        APR_ARRAY_PUSH(map->defaults, attrmap_rule_t) = rule;
        return NULL;
    }
    return apr_psprintf(pool, "unknown keyword '%s' (alias or default)",
                        w[0].text);
}

apr_status_t calcore_attrmap_parse(calcore_attrmap_t **mapp,
                                   const char *text, apr_size_t len,
                                   const char **error, apr_pool_t *pool)
{
    calcore_attrmap_t *map = apr_pcalloc(pool, sizeof(*map));
    apr_size_t pos = 0;
    unsigned line = 0;

    *mapp = NULL;
    *error = NULL;
    map->aliases = apr_array_make(pool, 4, sizeof(attrmap_rule_t));
    map->defaults = apr_array_make(pool, 4, sizeof(attrmap_rule_t));
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        pos = 3;
    }
    while (pos < len) {
        const char *lf = memchr(text + pos, '\n', len - pos);
        apr_size_t end = lf ? (apr_size_t)(lf - text) : len, n = end - pos;
        apr_array_header_t *words;
        const char *why = NULL;
        char *l;

        line++;
        if (n > 0 && text[end - 1] == '\r') {
            n--;
        }
        l = apr_pstrmemdup(pool, text + pos, n);
        pos = lf ? end + 1 : len;
        if (strlen(l) != n) {
            why = "NUL character";
        }
        else if ((words = attrmap_words(l, &why, pool)) != NULL
                 && words->nelts > 0) {
            why = attrmap_rule(map, words, line, pool);
        }
        if (why) {
            *error = apr_psprintf(pool, "line %u: %s", line, why);
            return CALCORE_EINVALID;
        }
    }
    *mapp = map;
    return APR_SUCCESS;
}

apr_status_t calcore_attrmap_load(calcore_attrmap_t **map, const char *path,
                                  const char **error, apr_pool_t *pool)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t got;
    apr_status_t rv;
    char *buf, ebuf[256];

    *map = NULL;
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                       APR_FPROT_OS_DEFAULT, pool);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
        if (rv == APR_SUCCESS
            && (fi.size < 0
                || (apr_size_t)fi.size > CALCORE_ATTRMAP_MAX_FILE)) {
            apr_file_close(f);
            *error = apr_psprintf(pool, "%s: larger than %" APR_SIZE_T_FMT
                                  " octets", path, CALCORE_ATTRMAP_MAX_FILE);
            return APR_EINVAL;
        }
        if (rv == APR_SUCCESS) {
            buf = apr_palloc(pool, (apr_size_t)fi.size + 1);
            rv = apr_file_read_full(f, buf, (apr_size_t)fi.size, &got);
            if (APR_STATUS_IS_EOF(rv)) {
                rv = APR_SUCCESS;
            }
        }
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS) {
        *error = apr_psprintf(pool, "cannot read %s: %s", path,
                              apr_strerror(rv, ebuf, sizeof(ebuf)));
        return rv;
    }
    rv = calcore_attrmap_parse(map, buf, got, error, pool);
    if (rv != APR_SUCCESS) {
        *error = apr_psprintf(pool, "%s: %s", path, *error);
    }
    return rv;
}

int calcore_attrmap_count(const calcore_attrmap_t *map)
{
    return map ? map->aliases->nelts + map->defaults->nelts : 0;
}

/* ---- applying --------------------------------------------------------- */

/* One content line of a component, unfolded. */
typedef struct attrmap_line_t {
    apr_size_t start;           /* offset of its first octet               */
    char *name;                 /* upper-cased name                        */
    const char *value;          /* after the first unquoted ':' ("" when
                                   there is none)                          */
} attrmap_line_t;

/* Read the content line at text[*pos] (advancing *pos past it). */
static void attrmap_read_line(const char *text, apr_size_t len,
                              apr_size_t *pos, attrmap_line_t *ln,
                              apr_pool_t *pool)
{
    apr_size_t p = *pos, end;
    char *u, *o, *c;
    int quoted = 0;

    ln->start = p;
    for (;;) {
        const char *lf = memchr(text + p, '\n', len - p);

        p = lf ? (apr_size_t)(lf - text) + 1 : len;
        if (p >= len || (text[p] != ' ' && text[p] != '\t')) {
            break;
        }
    }
    end = p;
    *pos = end;
    o = u = apr_palloc(pool, end - ln->start + 1);
    for (p = ln->start; p < end; p++) {
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
    for (c = u; *c && *c != ';' && *c != ':'; c++) {
        *c = apr_toupper(*c);
    }
    ln->name = u;
    ln->value = "";
    for (; *c; c++) {
        if (*c == '"') {
            quoted = !quoted;
        }
        else if (*c == ':' && !quoted) {
            ln->value = c + 1;
            break;
        }
    }
    /* the name ends at the first ';' or ':' */
    for (c = u; *c && *c != ';' && *c != ':'; c++) {
    }
    *c = '\0';
}

/* The trimmed value of a BEGIN/END line, upper-cased. */
static const char *attrmap_token(const char *v, apr_pool_t *pool)
{
    char *t, *c;

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

/* Append "NAME:VALUE" and 'eol' to 'out', folded at ATTRMAP_FOLD octets
 * without splitting a UTF-8 sequence. */
static void attrmap_fold(apr_array_header_t *out, const char *name,
                         const char *value, const char *eol,
                         apr_pool_t *pool)
{
    const char *line = apr_pstrcat(pool, name, ":", value, NULL);
    apr_size_t n = strlen(line), at = 0, width = ATTRMAP_FOLD;

    while (at < n) {
        apr_size_t k = n - at > width ? width : n - at;

        while (k > 0 && at + k < n
               && (((const unsigned char *)line)[at + k] & 0xc0) == 0x80) {
            k--;            /* never between the octets of one character */
        }
        if (at > 0) {
            APR_ARRAY_PUSH(out, const char *) = " ";
        }
        APR_ARRAY_PUSH(out, const char *) = apr_pstrmemdup(pool, line + at,
                                                           k);
        APR_ARRAY_PUSH(out, const char *) = eol;
        at += k;
        width = ATTRMAP_FOLD - 1;
    }
}

/* What an alias adds for the vendor property's value 'v', or NULL. */
static const char *attrmap_alias_value(const attrmap_rule_t *rule,
                                       const char *v, apr_pool_t *pool)
{
    apr_size_t n;
    int i;

    while (*v == ' ' || *v == '\t') {
        v++;
    }
    n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t')) {
        n--;
    }
    if (n == 0) {
        return NULL;
    }
    if (rule->pairs == NULL) {
        return apr_pstrmemdup(pool, v, n);
    }
    for (i = 0; i < rule->pairs->nelts; i++) {
        const attrmap_pair_t *p = &APR_ARRAY_IDX(rule->pairs, i,
                                                 attrmap_pair_t);

        if (p->from == NULL
            || (strlen(p->from) == n && strncasecmp(p->from, v, n) == 0)) {
            return p->to;
        }
    }
    return NULL;
}

void calcore_attrmap_apply(const calcore_attrmap_t *map, const char *text,
                           apr_size_t len, const char **out,
                           apr_size_t *outlen, int *added, apr_pool_t *pool)
{
    apr_array_header_t *lines;
    apr_hash_t *props;
    apr_pool_t *scratch;
    apr_size_t pos = 0, end_at = 0, total;
    const char *eol = "\r\n", *name = NULL;
    unsigned kind;
    int depth = 0, found = 0, count = 0, i;
    char *buf, *o;

    *out = text;
    *outlen = len;
    if (added) {
        *added = 0;
    }
    if (calcore_attrmap_count(map) == 0) {
        return;
    }
    apr_pool_create(&scratch, pool);
    props = apr_hash_make(scratch);
    /* the component's own properties, and where its END line starts */
    while (pos < len && !found) {
        attrmap_line_t ln;

        attrmap_read_line(text, len, &pos, &ln, scratch);
        if (strcmp(ln.name, "BEGIN") == 0) {
            if (depth++ == 0) {
                name = attrmap_token(ln.value, scratch);
                eol = pos >= 2 && text[pos - 1] == '\n'
                      && text[pos - 2] == '\r' ? "\r\n" : "\n";
            }
        }
        else if (strcmp(ln.name, "END") == 0) {
            if (--depth == 0) {
                end_at = ln.start;
                found = 1;
            }
        }
        else if (depth == 1 && *ln.name
                 && !apr_hash_get(props, ln.name, APR_HASH_KEY_STRING)) {
            apr_hash_set(props, ln.name, APR_HASH_KEY_STRING, ln.value);
        }
        if (depth <= 0 && !found) {
            break;              /* not one component */
        }
    }
    kind = name ? (unsigned)calcore_comp_from_name(name) : 0;
    if (!found || kind == 0) {
        apr_pool_destroy(scratch);
        return;
    }

    lines = apr_array_make(scratch, 8, sizeof(const char *));
    for (i = 0; i < map->aliases->nelts; i++) {
        const attrmap_rule_t *rule = &APR_ARRAY_IDX(map->aliases, i,
                                                    attrmap_rule_t);
        const char *v;

        if (!(rule->comps & kind)
            || apr_hash_get(props, rule->prop, APR_HASH_KEY_STRING)
            || !(v = apr_hash_get(props, rule->vendor, APR_HASH_KEY_STRING))
            || !(v = attrmap_alias_value(rule, v, scratch))) {
            continue;
        }
        attrmap_fold(lines, rule->prop, v, eol, scratch);
        apr_hash_set(props, rule->prop, APR_HASH_KEY_STRING, v);
        count++;
    }
    for (i = 0; i < map->defaults->nelts; i++) {
        const attrmap_rule_t *rule = &APR_ARRAY_IDX(map->defaults, i,
                                                    attrmap_rule_t);

        if (!(rule->comps & kind)
            || apr_hash_get(props, rule->prop, APR_HASH_KEY_STRING)) {
            continue;
        }
        attrmap_fold(lines, rule->prop, rule->value, eol, scratch);
        apr_hash_set(props, rule->prop, APR_HASH_KEY_STRING, rule->value);
        count++;
    }
    if (count == 0) {
        apr_pool_destroy(scratch);
        return;
    }

    total = len;
    for (i = 0; i < lines->nelts; i++) {
        total += strlen(APR_ARRAY_IDX(lines, i, const char *));
    }
    o = buf = apr_palloc(pool, total + 1);
    memcpy(o, text, end_at);
    o += end_at;
    for (i = 0; i < lines->nelts; i++) {
        const char *s = APR_ARRAY_IDX(lines, i, const char *);
        apr_size_t k = strlen(s);

        memcpy(o, s, k);
        o += k;
    }
    memcpy(o, text + end_at, len - end_at);
    o += len - end_at;
    *o = '\0';
    apr_pool_destroy(scratch);
    *out = buf;
    *outlen = total;
    if (added) {
        *added = count;
    }
}

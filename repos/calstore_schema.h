/*
 * calstore_schema.h - on-disk layout of the calstore databases (private to
 * repos/).
 *
 * Every integer on disk is big-endian, so that keys sort numerically under
 * Berkeley DB's default (memcmp) B-tree comparison.  The layouts are
 * described byte by byte in docs/storage-format.md; a change to anything
 * here that an older build could misread must bump CALSTORE_FORMAT_VERSION
 * (whole store) or CALSTORE_NODE_REC_VERSION (node records).
 *
 * Databases (one file each, all B-trees in one transactional environment):
 *
 *   meta.db    "format"                    -> be32 format version
 *              "next_id"                   -> DB_SEQUENCE record (node ids)
 *   nodes.db   be64(parent id) + name      -> node record (below)
 *              the root: be64(0) + ""
 *   byid.db    be64(id)                    -> be64(parent id) + name
 *   bodies.db  be64(id)                    -> raw body bytes (resources only)
 *   props.db   be64(id) + ns + '\0' + name -> opaque value bytes
 *
 * Calendar collections (format 2):
 *
 *   calobj.db  be64(object id)             -> calendar object record (below)
 *   uid.db     be64(calendar id) + uid     -> member name
 *   tr.db      be64(calendar id) + class + ord64(start) + be64(object id)
 *                                          -> be64(end) + comp byte
 *              (class CALSTORE_RUN_CLASS, format 8: a run of spans of one
 *              object -> be64(end) + comp byte + be32 start offset and
 *              be32 duration of each span)
 *   tredge.db  be64(calendar id) + 'G' + comp byte + class + ord64(start)
 *                + be64(obj)               -> be64(end) + comp byte
 *              be64(calendar id) + 'H' + ord64(win_until) + ord64(last)
 *                + be64(obj)               -> comp byte + be64(last)
 *              be64(calendar id) + 'L' + ord64(win_from) + ord64(first)
 *                + be64(obj)               -> comp byte + be64(first)
 *
 * The change log of every collection (format 3, RFC 6578 sync):
 *
 *   changes.db be64(collection id) + be64(seq) -> change record (below)
 *   chindex.db be64(collection id) + name      -> be64(seq): the member's
 *                                                 one entry in changes.db
 *              be64(collection id)             -> be64(watermark): the
 *                                                 oldest valid sync token
 *                                                 (only once pruned)
 *
 * ord64(t) = be64(t XOR 2^63): signed times that sort under memcmp.
 */
#ifndef CALSTORE_SCHEMA_H
#define CALSTORE_SCHEMA_H

#include <string.h>

#include <apr.h>
#include <apr_time.h>

/* Version of the store as a whole, kept in meta.db under "format".  A store
 * of format CALSTORE_FORMAT_UPGRADE_V5, _V6 or _V7 is upgraded in place when
 * it is opened (one transaction); any other value is refused with
 * CALSTORE_EFORMAT. */
#define CALSTORE_FORMAT_VERSION    8

/* The older formats upgraded in place.  Format 7: no runs in tr.db (its
 * entries stay valid: records without CALSTORE_CALOBJ_RUNS are indexed one
 * entry per span; the upgrade only writes the format, so that an older
 * build refuses a store that may hold runs).  Format 6: the 'L' / 'H' keys
 * of tredge.db lack the set's reach (CALSTORE_EDGE_KEY_V6 bytes).  Format
 * 5: that, and its 'G' keys lack the component byte (CALSTORE_LONG_KEY_V5
 * bytes). */
#define CALSTORE_FORMAT_UPGRADE_V5 5
#define CALSTORE_FORMAT_UPGRADE_V6 6
#define CALSTORE_FORMAT_UPGRADE_V7 7

/* First byte of every node record. */
#define CALSTORE_NODE_REC_VERSION  2

/* Database file names inside the store directory. */
#define CALSTORE_DB_META    "meta.db"
#define CALSTORE_DB_NODES   "nodes.db"
#define CALSTORE_DB_BYID    "byid.db"
#define CALSTORE_DB_BODIES  "bodies.db"
#define CALSTORE_DB_PROPS   "props.db"
#define CALSTORE_DB_CALOBJ  "calobj.db"
#define CALSTORE_DB_UID     "uid.db"
#define CALSTORE_DB_TR      "tr.db"
#define CALSTORE_DB_TREDGE  "tredge.db"
#define CALSTORE_DB_CHANGES "changes.db"
#define CALSTORE_DB_CHINDEX "chindex.db"

/* Keys inside meta.db (stored without the terminating NUL). */
#define CALSTORE_META_FORMAT   "format"
#define CALSTORE_META_NEXT_ID  "next_id"

/* First id handed out by the sequence; 1 is the root, 0 means "none". */
#define CALSTORE_FIRST_ID      2
/* Ids each process reserves from the sequence at a time. */
#define CALSTORE_ID_CACHE      64

/* Page size of bodies.db and calobj.db (calendar objects and their index
 * records of a few KB stay on leaf pages). */
#define CALSTORE_BODIES_PAGESIZE  16384

/* Longest path segment (bytes) and stored content type (bytes). */
#define CALSTORE_NAME_MAX      255
#define CALSTORE_CTYPE_MAX     1024

/* ---- big-endian helpers ------------------------------------------------ */

static APR_INLINE void calstore_put_be16(unsigned char *p, apr_uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static APR_INLINE void calstore_put_be32(unsigned char *p, apr_uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static APR_INLINE void calstore_put_be64(unsigned char *p, apr_uint64_t v)
{
    calstore_put_be32(p, (apr_uint32_t)(v >> 32));
    calstore_put_be32(p + 4, (apr_uint32_t)v);
}

static APR_INLINE apr_uint16_t calstore_get_be16(const unsigned char *p)
{
    return (apr_uint16_t)(((apr_uint16_t)p[0] << 8) | p[1]);
}

static APR_INLINE apr_uint32_t calstore_get_be32(const unsigned char *p)
{
    return ((apr_uint32_t)p[0] << 24) | ((apr_uint32_t)p[1] << 16)
           | ((apr_uint32_t)p[2] << 8) | (apr_uint32_t)p[3];
}

static APR_INLINE apr_uint64_t calstore_get_be64(const unsigned char *p)
{
    return ((apr_uint64_t)calstore_get_be32(p) << 32)
           | calstore_get_be32(p + 4);
}

/* ---- node record (value in nodes.db) ------------------------------------

   offset size  field
        0    1  record version (CALSTORE_NODE_REC_VERSION)
        1    1  kind (1 resource, 2 collection)
        2    2  n = length of the content type (0 = none)
        4    4  flags: a collection's CALSTORE_COLL_CALENDAR plus the
                caller's CALSTORE_COLL_CALLER_MASK bits, a calendar object
                resource's component kind (CALSTORE_RES_COMP_MASK); 0 for
                other resources
        8    8  id
       16    8  created  (apr_time_t, microseconds since the epoch, two's
                          complement)
       24    8  modified (idem)
       32    8  revision
       40    8  body length (0 for collections)
       48    8  maxdur: for a calendar collection, the longest instance
                (seconds, end - start) ever put into its tr.db entries; it
                only grows.  0 for every other node.
       56    n  content type bytes, no terminating NUL
*/
#define CALSTORE_NODE_REC_FIXED  56
#define CALSTORE_NODE_REC_MAX    (CALSTORE_NODE_REC_FIXED + CALSTORE_CTYPE_MAX)

typedef struct calstore_rec_t {
    apr_uint64_t id;
    int kind;
    apr_uint32_t flags;
    apr_time_t created;
    apr_time_t modified;
    apr_uint64_t revision;
    apr_uint64_t length;
    apr_uint64_t maxdur;        /* calendar collections, else 0             */
    const char *ctype;          /* not NUL-terminated; NULL if ctype_len 0 */
    apr_size_t ctype_len;
} calstore_rec_t;

/* Bytes needed to encode 'rec'. */
static APR_INLINE apr_size_t calstore_rec_size(const calstore_rec_t *rec)
{
    return CALSTORE_NODE_REC_FIXED + rec->ctype_len;
}

/* Encode 'rec' into 'buf' (calstore_rec_size() bytes).  The caller has
 * checked ctype_len <= CALSTORE_CTYPE_MAX. */
static APR_INLINE void calstore_rec_encode(const calstore_rec_t *rec,
                                           unsigned char *buf)
{
    buf[0] = CALSTORE_NODE_REC_VERSION;
    buf[1] = (unsigned char)rec->kind;
    calstore_put_be16(buf + 2, (apr_uint16_t)rec->ctype_len);
    calstore_put_be32(buf + 4, rec->flags);
    calstore_put_be64(buf + 8, rec->id);
    calstore_put_be64(buf + 16, (apr_uint64_t)rec->created);
    calstore_put_be64(buf + 24, (apr_uint64_t)rec->modified);
    calstore_put_be64(buf + 32, rec->revision);
    calstore_put_be64(buf + 40, rec->length);
    calstore_put_be64(buf + 48, rec->maxdur);
    if (rec->ctype_len) {
        memcpy(buf + CALSTORE_NODE_REC_FIXED, rec->ctype, rec->ctype_len);
    }
}

/* Decode 'len' bytes at 'buf' into 'rec' (rec->ctype points into 'buf').
 * Returns 0, or -1 if the record is malformed or of an unknown version. */
static APR_INLINE int calstore_rec_decode(const void *data, apr_size_t len,
                                          calstore_rec_t *rec)
{
    const unsigned char *buf = data;

    if (len < CALSTORE_NODE_REC_FIXED
        || buf[0] != CALSTORE_NODE_REC_VERSION
        || (buf[1] != 1 && buf[1] != 2)) {
        return -1;
    }
    rec->kind = buf[1];
    rec->ctype_len = calstore_get_be16(buf + 2);
    if (len != CALSTORE_NODE_REC_FIXED + rec->ctype_len) {
        return -1;
    }
    rec->flags = calstore_get_be32(buf + 4);
    rec->id = calstore_get_be64(buf + 8);
    rec->created = (apr_time_t)calstore_get_be64(buf + 16);
    rec->modified = (apr_time_t)calstore_get_be64(buf + 24);
    rec->revision = calstore_get_be64(buf + 32);
    rec->length = calstore_get_be64(buf + 40);
    rec->maxdur = calstore_get_be64(buf + 48);
    rec->ctype = rec->ctype_len ? (const char *)buf + CALSTORE_NODE_REC_FIXED
                                : NULL;
    return 0;
}

/* ---- calendar indexes --------------------------------------------------- */

/* Times (UTC seconds) in keys: the two's complement value with its sign bit
 * flipped, big-endian, so that negative times sort before positive ones. */
static APR_INLINE void calstore_put_ord64(unsigned char *p, apr_int64_t t)
{
    calstore_put_be64(p, (apr_uint64_t)t ^ APR_UINT64_C(0x8000000000000000));
}

static APR_INLINE apr_int64_t calstore_get_ord64(const unsigned char *p)
{
    return (apr_int64_t)(calstore_get_be64(p)
                         ^ APR_UINT64_C(0x8000000000000000));
}

/* Every instance time and window edge must lie in [-LIMIT, LIMIT], so that
 * differences never overflow (CALCORE_TIME_MIN/MAX are about +-2^38). */
#define CALSTORE_TIME_LIMIT    ((apr_int64_t)1 << 62)

/* Longest UID accepted (bytes). */
#define CALSTORE_UID_MAX       4096

/* Instances longer than this (end - start, seconds) are not in tr.db and do
 * not raise maxdur: they go to tredge.db kind 'G', bucketed by component
 * kind and class (a query for one kind reads no other kind's entries). */
#define CALSTORE_LONG_INSTANCE ((apr_int64_t)7 * 86400)

/* tredge.db kinds (the byte after the calendar id). */
#define CALSTORE_EDGE_LONG     'G'   /* a long instance                     */
#define CALSTORE_EDGE_AFTER    'H'   /* unlisted instances at/after the
                                        window's end                       */
#define CALSTORE_EDGE_BEFORE   'L'   /* unlisted instances ending at/before
                                        the window's start                 */

/* Key sizes. */
#define CALSTORE_TR_KEY        25    /* coll, class, ord64 start, obj       */
#define CALSTORE_EDGE_KEY      33    /* coll, kind, ord64 boundary, ord64
                                        reach (first / last), obj          */
#define CALSTORE_EDGE_KEY_V6   25    /* formats 5 and 6: coll, kind, ord64
                                        boundary, obj (no reach)           */
#define CALSTORE_LONG_KEY      27    /* coll, 'G', comp, class, ord64 start,
                                        obj                                */
#define CALSTORE_LONG_KEY_V5   26    /* format 5: coll, 'G', class, ord64
                                        start, obj (no comp byte)          */
#define CALSTORE_SPAN_VAL      9     /* tr and 'G': be64 end, comp byte     */
#define CALSTORE_EDGE_VAL      9     /* 'L'/'H': comp byte, be64 first/last  */

/* The key of an 'L' ('H') edge of object 'obj' in calendar 'coll' (kind
 * CALSTORE_EDGE_BEFORE or _AFTER): the window boundary (win_from /
 * win_until), then the set's reach (first / last, as in the value), then
 * the object: within one boundary the edges sort by how far their set
 * reaches, so a query reads of each boundary only the edges that reach its
 * range, plus one (docs/storage-format.md, "Queries").  Every writer,
 * remover, checker and the upgrade build the key here.  CALSTORE_EDGE_KEY
 * bytes at 'k'. */
static APR_INLINE void calstore_edge_key(unsigned char *k, apr_uint64_t coll,
                                         int kind, apr_int64_t boundary,
                                         apr_int64_t reach, apr_uint64_t obj)
{
    calstore_put_be64(k, coll);
    k[8] = (unsigned char)kind;
    calstore_put_ord64(k + 9, boundary);
    calstore_put_ord64(k + 17, reach);
    calstore_put_be64(k + 25, obj);
}

/* Class of a long instance of 'dur' seconds (dur > CALSTORE_LONG_INSTANCE):
 * the smallest k >= 0 with dur <= CALSTORE_LONG_INSTANCE << (k + 1). */
static APR_INLINE int calstore_long_class(apr_uint64_t dur)
{
    apr_uint64_t bound = (apr_uint64_t)CALSTORE_LONG_INSTANCE * 2;
    int k = 0;

    while (dur > bound) {
        k++;
        bound <<= 1;
    }
    return k;
}

/* Short instances (at most CALSTORE_LONG_INSTANCE) are kept in tr.db in
 * CALSTORE_SHORT_CLASSES duration classes, so that a query reads back from
 * its start only as far as the longest instance of each class can reach:
 * an hour of one-hour meetings, not a week of them because some event of
 * the calendar lasts a week. */
#define CALSTORE_SHORT_CLASSES 4

/* Runs (format 8).  The short spans of an object (a recurring one has
 * many) are grouped, in start order, into runs: a run takes a span and the
 * following short spans of the object while the run's extent (its latest
 * end minus its first start) stays within CALSTORE_RUN_MAX and it holds at
 * most CALSTORE_RUN_SPANS spans.  A run of one span is an ordinary entry of
 * its duration class; a run of two or more is ONE tr.db entry of class
 * CALSTORE_RUN_CLASS keyed by its first start, whose value lists every
 * span (be64 end of the run + comp byte, then per span be32 of its start
 * minus the run's first start + be32 of its duration: both fit, a run is
 * at most CALSTORE_RUN_MAX long and a short span at most
 * CALSTORE_LONG_INSTANCE).  A weekly rule then writes one entry per 8
 * weeks instead of one per week, and a query reads back CALSTORE_RUN_MAX
 * in that class.  Only records with CALSTORE_CALOBJ_RUNS are indexed so;
 * older records keep one entry per span until they are rewritten. */
#define CALSTORE_RUN_CLASS     CALSTORE_SHORT_CLASSES
#define CALSTORE_TR_CLASSES    (CALSTORE_SHORT_CLASSES + 1)
#define CALSTORE_RUN_MAX       ((apr_uint64_t)56 * 86400)
#define CALSTORE_RUN_SPANS     16
#define CALSTORE_RUN_SPAN      8     /* be32 start offset, be32 duration    */
#define CALSTORE_RUN_VAL_MAX   (CALSTORE_SPAN_VAL \
                                + CALSTORE_RUN_SPAN * CALSTORE_RUN_SPANS)

/* Whether 'size' is the size of a run's value (2 to CALSTORE_RUN_SPANS
 * spans). */
static APR_INLINE int calstore_run_val_ok(apr_size_t size)
{
    return size >= CALSTORE_SPAN_VAL + 2 * CALSTORE_RUN_SPAN
           && size <= CALSTORE_RUN_VAL_MAX
           && (size - CALSTORE_SPAN_VAL) % CALSTORE_RUN_SPAN == 0;
}

/* Longest instance of short class k: 1 h, 4 h, 1 day, 7 days. */
static APR_INLINE apr_uint64_t calstore_short_class_max(int k)
{
    static const apr_uint64_t max[CALSTORE_SHORT_CLASSES] = {
        3600, 4 * 3600, 86400, (apr_uint64_t)CALSTORE_LONG_INSTANCE
    };

    return max[k < 0 ? 0 : k >= CALSTORE_SHORT_CLASSES
                           ? CALSTORE_SHORT_CLASSES - 1 : k];
}

/* How far back from a query's start the entries of tr.db class k can
 * begin and still reach it: the class maximum, or CALSTORE_RUN_MAX for
 * the runs. */
static APR_INLINE apr_uint64_t calstore_tr_class_reach(int k)
{
    return k == CALSTORE_RUN_CLASS ? CALSTORE_RUN_MAX
                                   : calstore_short_class_max(k);
}

/* The short class of an instance of 'dur' seconds (dur <=
 * CALSTORE_LONG_INSTANCE): the smallest k with dur <= its maximum. */
static APR_INLINE int calstore_short_class(apr_uint64_t dur)
{
    int k = 0;

    while (k < CALSTORE_SHORT_CLASSES - 1 && dur > calstore_short_class_max(k)) {
        k++;
    }
    return k;
}

/* Longest instance a class may hold: CALSTORE_LONG_INSTANCE << (k + 1). */
static APR_INLINE apr_uint64_t calstore_long_class_max(int k)
{
    return (apr_uint64_t)CALSTORE_LONG_INSTANCE << (k + 1);
}

/* ---- calendar object record (value in calobj.db) ------------------------

   offset size  field
        0    1  record version (CALSTORE_CALOBJ_REC_VERSION)
        1    1  flags: 0x01 before (unlisted instances end at or before
                win_from), 0x02 after (unlisted instances start at or after
                win_until), 0x04 exact (every span is a VEVENT instance
                with its own times: CALSTORE_SPAN_EXACT on its entries),
                0x08 runs (its short spans are indexed as runs, format 8;
                without it one tr entry per span)
        2    2  reserved, 0
        4    4  comp (calcore_comp_e of the object)
        8    8  win_from  (UTC seconds, two's complement)
       16    8  win_until (idem)
       24    4  u = UID length
       28    4  b = record (opaque blob) length
       32    4  n = number of spans
       36    8  first: start of the earliest instance of the whole set
                (two's complement; CALCORE_TIME_MIN when unknown)
       44    8  last: end of the latest instance (CALCORE_TIME_MAX when
                unbounded or unknown)
       52    u  UID bytes, no NUL
     52+u    b  the record given at PUT time (opaque)
   52+u+b  16n  n spans, by strictly increasing start: be64 start, be64 end
                (two's complement); several instances with one start are
                merged into one span with the latest end
*/
#define CALSTORE_CALOBJ_REC_VERSION  2
#define CALSTORE_CALOBJ_FIXED        52
#define CALSTORE_CALOBJ_BEFORE       0x01
#define CALSTORE_CALOBJ_AFTER        0x02
#define CALSTORE_CALOBJ_EXACT        0x04
#define CALSTORE_CALOBJ_RUNS         0x08

/* In the component byte of a tr / 'G' entry's value (never in a key): the
 * span is exactly one VEVENT instance [start, end] of an object without
 * floating times, so its RFC 4791 9.9 test is start < qe && end > qs
 * (end > start) or qs <= start < qe (end == start): the entry alone
 * proves that the object overlaps a range.  The other bits are the kind. */
#define CALSTORE_SPAN_EXACT          0x80
#define CALSTORE_SPAN_KIND           0x7f

/* ---- change log (format 3) ---------------------------------------------

   changes.db key (16 bytes): be64(collection id) + be64(seq), where seq is
   the collection's revision right after the change: every logged change
   bumps the revision by one, so seqs are distinct and, within a collection,
   ordered like the commits.  Value (change record):

   offset size  field
        0    1  op: 'A' (0x41) member added or changed, 'R' (0x52) removed
        1    8  logged at (apr_time_t, microseconds since the epoch, two's
                complement)
        9    n  member name (1..255 bytes, no NUL)

   chindex.db: be64(collection id) + name -> be64(seq) of that name's only
   entry in changes.db (compaction: an older entry is deleted when the name
   changes again); be64(collection id) alone (8 bytes; names are never
   empty) -> be64(watermark), written by pruning: sync tokens below it are
   refused, and every 'R' entry of the collection has a seq above it.
*/
#define CALSTORE_CHANGE_KEY      16
#define CALSTORE_CHANGE_FIXED    9
#define CALSTORE_CHANGE_ADD      'A'
#define CALSTORE_CHANGE_REMOVE   'R'

#endif /* CALSTORE_SCHEMA_H */

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
 */
#ifndef CALSTORE_SCHEMA_H
#define CALSTORE_SCHEMA_H

#include <string.h>

#include <apr.h>
#include <apr_time.h>

/* Version of the store as a whole, kept in meta.db under "format".  A store
 * with any other value is refused with CALSTORE_EFORMAT. */
#define CALSTORE_FORMAT_VERSION    1

/* First byte of every node record. */
#define CALSTORE_NODE_REC_VERSION  1

/* Database file names inside the store directory. */
#define CALSTORE_DB_META    "meta.db"
#define CALSTORE_DB_NODES   "nodes.db"
#define CALSTORE_DB_BYID    "byid.db"
#define CALSTORE_DB_BODIES  "bodies.db"
#define CALSTORE_DB_PROPS   "props.db"

/* Keys inside meta.db (stored without the terminating NUL). */
#define CALSTORE_META_FORMAT   "format"
#define CALSTORE_META_NEXT_ID  "next_id"

/* First id handed out by the sequence; 1 is the root, 0 means "none". */
#define CALSTORE_FIRST_ID      2
/* Ids each process reserves from the sequence at a time. */
#define CALSTORE_ID_CACHE      64

/* Page size of bodies.db (calendar objects of a few KB stay on leaf pages). */
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
        4    4  flags (reserved, 0)
        8    8  id
       16    8  created  (apr_time_t, microseconds since the epoch, two's
                          complement)
       24    8  modified (idem)
       32    8  revision
       40    8  body length (0 for collections)
       48    n  content type bytes, no terminating NUL
*/
#define CALSTORE_NODE_REC_FIXED  48
#define CALSTORE_NODE_REC_MAX    (CALSTORE_NODE_REC_FIXED + CALSTORE_CTYPE_MAX)

typedef struct calstore_rec_t {
    apr_uint64_t id;
    int kind;
    apr_uint32_t flags;
    apr_time_t created;
    apr_time_t modified;
    apr_uint64_t revision;
    apr_uint64_t length;
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
    rec->ctype = rec->ctype_len ? (const char *)buf + CALSTORE_NODE_REC_FIXED
                                : NULL;
    return 0;
}

#endif /* CALSTORE_SCHEMA_H */

/*
 * core_put_bench.c - the CPU cost of storing one calendar object in core/:
 * exactly what a PUT runs there, without httpd and the store.
 *
 * For every object: calcore_object_parse() with the default limits
 * (calstore_limits_default(), as caldav_server_limits() gives them without
 * configuration), then calcore_index_build() with the options
 * calstore_calinfo_build() uses (non-recurring: from CALCORE_TIME_MIN until
 * CALCORE_TIME_MAX; recurring: the defaults), then
 * calcore_index_serialize().  One pool, cleared before every object.
 *
 *   build/bench/core_put_bench [-p passes] [-n now] [-q] [dir]
 *
 * dir defaults to /tmp/bench-cache/v2-seed42-1000 (bench/gen.py: every
 * obj-*.ics in it is read once, before the clock starts).  -p: passes
 * (default 5; the best one is reported).  -n: a fixed "now" (seconds since
 * the epoch) for the limits and the index window, so that the digest of all
 * records can be compared across builds (default: the real clock, as a PUT
 * has it).  Output: objects/s of the best pass, the split between parse
 * and index+serialise, and an FNV-1a digest of every record in order.
 *
 * Not a test: `make core-bench` builds and runs it, `make test` never does.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "calcore.h"
#include "calstore.h"

typedef struct {
    const char *name;
    char *data;
    apr_size_t len;
} input_t;

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const input_t *)a)->name, ((const input_t *)b)->name);
}

static int load(const char *dir, input_t **out, int *n, apr_pool_t *pool)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int cap = 1024, k = 0;
    input_t *in = malloc(sizeof(*in) * cap);

    if (!d || !in) {
        fprintf(stderr, "core_put_bench: cannot read %s\n", dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        apr_size_t nl = strlen(e->d_name);
        const char *path;
        FILE *f;
        long sz;

        if (nl < 8 || strncmp(e->d_name, "obj-", 4) != 0
            || strcmp(e->d_name + nl - 4, ".ics") != 0) {
            continue;
        }
        if (k == cap) {
            cap *= 2;
            in = realloc(in, sizeof(*in) * cap);
        }
        path = apr_pstrcat(pool, dir, "/", e->d_name, NULL);
        if (!(f = fopen(path, "rb")) || fseek(f, 0, SEEK_END)
            || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
            fprintf(stderr, "core_put_bench: cannot read %s\n", path);
            return -1;
        }
        in[k].name = apr_pstrdup(pool, e->d_name);
        in[k].data = apr_palloc(pool, (apr_size_t)sz + 1);
        in[k].len = fread(in[k].data, 1, (size_t)sz, f);
        in[k].data[in[k].len] = '\0';
        fclose(f);
        k++;
    }
    closedir(d);
    qsort(in, k, sizeof(*in), cmp_name);
    *out = in;
    *n = k;
    return k ? 0 : -1;
}

static apr_uint64_t fnv(apr_uint64_t h, const unsigned char *p, apr_size_t n)
{
    while (n--) {
        h ^= *p++;
        h *= APR_UINT64_C(1099511628211);
    }
    return h;
}

int main(int argc, char **argv)
{
    const char *dir = "/tmp/bench-cache/v2-seed42-1000";
    int passes = 5, quiet = 0, n, i, pass, rejected = 0, recurring = 0;
    calcore_time_t now = 0;
    apr_pool_t *top, *p;
    input_t *in;
    calcore_limits_t limits;
    double best = 0, best_parse = 0, best_index = 0;
    apr_uint64_t digest = 0;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
            passes = atoi(argv[++i]);
        }
        else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            now = (calcore_time_t)strtoll(argv[++i], NULL, 10);
        }
        else if (strcmp(argv[i], "-q") == 0) {
            quiet = 1;
        }
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: %s [-p passes] [-n now] [-q] [dir]\n",
                    argv[0]);
            return 2;
        }
        else {
            dir = argv[i];
        }
    }
    if (passes < 1) {
        passes = 1;
    }
    apr_initialize();
    apr_pool_create(&top, NULL);
    if (calcore_init(top) != APR_SUCCESS) {
        fprintf(stderr, "core_put_bench: calcore_init failed\n");
        return 1;
    }
    if (load(dir, &in, &n, top)) {
        fprintf(stderr, "core_put_bench: no obj-*.ics in %s (bench/gen.py "
                "makes them)\n", dir);
        return 1;
    }
    calstore_limits_default(&limits);
    limits.components = CALCORE_COMP_DEFAULT;
    limits.now = now;
    apr_pool_create(&p, top);

    for (pass = 0; pass < passes; pass++) {
        apr_time_t t_parse = 0, t_index = 0, t0, t1, t2, start;
        apr_uint64_t h = APR_UINT64_C(14695981039346656037);
        double secs;

        rejected = recurring = 0;
        start = apr_time_now();
        for (i = 0; i < n; i++) {
            calcore_object_t *obj;
            calcore_precond_e pc;
            const char *reason;
            calcore_index_opts_t iopts;
            calcore_index_t *idx;
            unsigned char *rec;
            apr_size_t rec_len;

            apr_pool_clear(p);
            t0 = apr_time_now();
            if (calcore_object_parse(&obj, &pc, &reason, in[i].data,
                                     in[i].len, &limits, p)
                != APR_SUCCESS) {
                if (pass == 0 && !quiet) {
                    fprintf(stderr, "%s: rejected (%s)\n", in[i].name,
                            reason ? reason : "?");
                }
                rejected++;
                h = fnv(h, (const unsigned char *)"-", 1);
                continue;
            }
            t1 = apr_time_now();
            /* calstore_calinfo_build()'s options */
            memset(&iopts, 0, sizeof(iopts));
            iopts.floating = limits.floating;
            iopts.now = now;
            if (!calcore_object_is_recurring(obj)) {
                iopts.from = CALCORE_TIME_MIN;
                iopts.until = CALCORE_TIME_MAX;
            }
            else {
                recurring++;
            }
            calcore_index_build(&idx, obj, &iopts, p);
            calcore_index_serialize(idx, &rec, &rec_len, p);
            t2 = apr_time_now();
            h = fnv(h, rec, rec_len);
            t_parse += t1 - t0;
            t_index += t2 - t1;
        }
        secs = (double)(apr_time_now() - start) / APR_USEC_PER_SEC;
        if (!quiet) {
            printf("pass %d: %.0f objects/s (parse %.1f us, index+serialise "
                   "%.1f us per object)\n", pass + 1, n / secs,
                   (double)t_parse / n, (double)t_index / n);
        }
        if (n / secs > best) {
            best = n / secs;
            best_parse = (double)t_parse / n;
            best_index = (double)t_index / n;
        }
        if (pass && now && h != digest) {   /* the real clock moves */
            fprintf(stderr, "core_put_bench: records differ between "
                    "passes\n");
            return 1;
        }
        digest = h;
    }
    printf("%d objects (%d recurring, %d rejected) from %s\n", n, recurring,
           rejected, dir);
    printf("best of %d: %.0f objects/s (parse %.1f us, index+serialise "
           "%.1f us per object)\n", passes, best, best_parse, best_index);
    printf("records digest %016" APR_UINT64_T_HEX_FMT "%s\n", digest,
           now ? "" : " (real clock: use -n to compare builds)");
    apr_pool_destroy(top);
    apr_terminate();
    return 0;
}

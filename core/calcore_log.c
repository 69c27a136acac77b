/*
 * calcore_log.c - log indirection for the httpd-free layers.
 */
#include <stdarg.h>
#include <stdio.h>

#include <apr_strings.h>

#include "calcore_log.h"

static calcore_log_cb *log_cb;
static void *log_baton;
static calcore_log_level_e log_max = CALCORE_LOG_WARN;

void calcore_log_set(calcore_log_cb *cb, void *baton, calcore_log_level_e max)
{
    log_cb = cb;
    log_baton = baton;
    log_max = cb ? max : CALCORE_LOG_WARN;
}

int calcore_log_is_level(calcore_log_level_e level)
{
    return level <= log_max;
}

void calcore_log(calcore_log_level_e level, apr_status_t rv,
                 const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (level > log_max) {
        return;
    }
    va_start(ap, fmt);
    apr_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    if (log_cb) {
        log_cb(log_baton, level, rv, msg);
    }
    else if (rv != APR_SUCCESS) {
        char buf[256];
        fprintf(stderr, "mod_caldav: %s (%s)\n", msg,
                apr_strerror(rv, buf, sizeof(buf)));
    }
    else {
        fprintf(stderr, "mod_caldav: %s\n", msg);
    }
}

/*
 * calcore_log.h - log indirection for the httpd-free layers.
 *
 * core/ and repos/ never call ap_log_*: they report through one process-wide
 * callback.  The httpd adapter installs a callback that forwards to
 * ap_log_error(); caldavctl installs one that prints to stderr; the unit tests
 * install one that records messages.  Until a callback is installed messages
 * at CALCORE_LOG_WARN and more severe go to stderr.
 */
#ifndef CALCORE_LOG_H
#define CALCORE_LOG_H

#include <apr_errno.h>
#include <apr_pools.h>

typedef enum {
    CALCORE_LOG_ERR = 3,
    CALCORE_LOG_WARN = 4,
    CALCORE_LOG_NOTICE = 5,
    CALCORE_LOG_INFO = 6,
    CALCORE_LOG_DEBUG = 7
} calcore_log_level_e;

/* The callback receives an already formatted message.  'rv' is the status
 * the message is about (APR_SUCCESS when none).  It may be called from any
 * thread, concurrently. */
typedef void calcore_log_cb(void *baton, calcore_log_level_e level,
                            apr_status_t rv, const char *msg);

/* Install the process-wide callback and the most verbose level passed to it.
 * Call once, before any thread that logs exists (it is not synchronised).
 * A NULL cb restores the stderr default. */
void calcore_log_set(calcore_log_cb *cb, void *baton, calcore_log_level_e max);

/* Is 'level' passed to the callback?  Cheap; lets callers skip formatting. */
int calcore_log_is_level(calcore_log_level_e level);

/* Format and emit one message.  Formatting uses a bounded stack buffer
 * (long messages are truncated), so it cannot fail and needs no pool. */
void calcore_log(calcore_log_level_e level, apr_status_t rv,
                 const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* CALCORE_LOG_H */

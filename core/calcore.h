/*
 * calcore.h - the httpd-free iCalendar core of mod_caldav (umbrella header).
 *
 * core/ depends on APR and libical 3.0.x only.  libical is used as a parser
 * and as a recurrence-rule iterator; validation (RFC 4791 preconditions),
 * TZID resolution, recurrence expansion and the index record are ours.  The
 * client's bytes are never re-serialised: calendar object resources are
 * stored and served verbatim.
 *
 * Threads: after calcore_init() every function may be called from any
 * thread, as long as each libical tree (and each calcore_object_t) is used
 * by one thread at a time.
 */
#ifndef CALCORE_H
#define CALCORE_H

#include <apr_pools.h>

#include "calcore_types.h"
#include "calcore_log.h"
#include "calcore_tz.h"
#include "calcore_object.h"
#include "calcore_expand.h"
#include "calcore_index.h"
#include "calcore_filter.h"
#include "calcore_caldata.h"
#include "calcore_freebusy.h"
#include "calcore_feed.h"
#include "calcore_jcal.h"

/* Once-per-process initialisation.  Call it single-threaded, before any
 * thread that uses calcore exists (httpd: post_config in the parent, so
 * the children inherit the result; again in child_init is a no-op):
 *
 *   - icalerror_set_errors_are_fatal(0) (libical must never abort()),
 *   - unknown parameters kept (ICAL_ASSUME_IANA_TOKEN),
 *   - every zone of zone.tab and every alias file of the system zoneinfo
 *     loaded, and the read-only name -> zone map of calcore_tz.h built.
 *
 * Idempotent: later calls return the first call's result.  'pconf' is only
 * used for temporary allocations; the map lives in a pool of its own until
 * apr_terminate() (it must survive httpd clearing pconf on restart).  No
 * libical global setter is called by calcore afterwards, and nobody else
 * may call one.  Takes ~0.1-0.6 s and ~30 MB of heap (shared copy-on-write
 * by forked children).  Returns APR_SUCCESS or CALCORE_ENOZONES (no system
 * zoneinfo; logged). */
apr_status_t calcore_init(apr_pool_t *pconf);

#endif /* CALCORE_H */

#!/usr/bin/python3
"""gen.py - deterministic calendar data for the benchmark (stdlib only).

    gen.py --out DIR --count N [--seed 42]

Writes DIR/obj-NNNNNN.ics for i in [0, N) plus DIR/MANIFEST (one line per
object: name, component, recurring flag, size) and DIR/DONE.  Object i is
produced by its own random.Random(f"{seed}:{i}"), so the same seed and count
always give the same bytes.  An existing complete DIR (DONE present with the
same parameters) is reused.

The mix (see bench/README.md): ~10% VTODO, ~15% recurring VEVENTs (weekly,
daily, monthly; COUNT, UNTIL or unbounded; some with EXDATE, some with an
overridden instance), time zones (TZID with its VTIMEZONE, TZID of the
system database without VTIMEZONE, a Windows zone name, UTC, floating,
all-day), ORGANIZER/ATTENDEEs on ~30%, VALARMs on ~40%, TRANSP/STATUS
variety, ~2 KB per object on average.  REF is fixed (2026-06-01T00:00:00Z,
a Monday) so every run queries the same data.

Density is the same at every size: dates (DTSTART of events, of to-dos and
the day their DUE counts from) are spread uniformly over REF +- span_days(N)
whole days, span_days(N) = 5*365 * N / 100000 (floor, at least
MIN_SPAN_DAYS): 100k -> +- 1825 days (5 years, the v1 data set exactly),
10k -> +- 182 days, 1k -> +- 18 days.  A calendar grows by covering a longer
period, not by getting denser, so a one-week query holds about as many
one-off events at every size (recurring rules keep their own lengths, so
those started long before the week still reach into it at the larger sizes).
Because the span depends on N, a smaller set is NOT a prefix of a larger one:
each size is generated into its own directory (FORMAT_VERSION "v2").

generate_filler() writes the objects that make a small set (1k) into a large
calendar (100k) whose week REF .. REF + 7 days holds exactly the small set's
instances: the same mix and density, but dated outside REF +- FILL_CLEAR
days, and bounded where they recur before REF (FILL_VERSION "f1").  The
benchmark uses them to measure what the size of a calendar alone costs a
query.
"""

import argparse
import datetime as dt
import os
import random
import sys

REF = dt.datetime(2026, 6, 1, 0, 0, 0)          # UTC, a Monday
SPAN_DAYS_100K = 5 * 365                         # +- 5 years around REF at 100k objects
MIN_SPAN_DAYS = 3                                # floor for tiny calendars
FORMAT_VERSION = "v2"                            # v1: +- 5 years at every size
FILL_VERSION = "f1"                              # generate_filler's objects
FILL_CLEAR = 19                                  # filler days avoid REF +- this many days
FILL_END_DAYS = 7                                # filler series before REF end by then


def span_days(count):
    """Half-width in whole days of the date range of a calendar of `count`
    objects: proportional to the count (constant density), 1825 at 100k."""
    return max(MIN_SPAN_DAYS, SPAN_DAYS_100K * count // 100000)

VTIMEZONES = {
    "Europe/Berlin": [
        "BEGIN:VTIMEZONE", "TZID:Europe/Berlin",
        "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST",
        "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT",
        "BEGIN:STANDARD", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET",
        "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD",
        "END:VTIMEZONE"],
    "America/New_York": [
        "BEGIN:VTIMEZONE", "TZID:America/New_York",
        "BEGIN:DAYLIGHT", "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400", "TZNAME:EDT",
        "DTSTART:20070311T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU", "END:DAYLIGHT",
        "BEGIN:STANDARD", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500", "TZNAME:EST",
        "DTSTART:20071104T020000", "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU", "END:STANDARD",
        "END:VTIMEZONE"],
    "Asia/Kolkata": [
        "BEGIN:VTIMEZONE", "TZID:Asia/Kolkata",
        "BEGIN:STANDARD", "TZOFFSETFROM:+0530", "TZOFFSETTO:+0530", "TZNAME:IST",
        "DTSTART:19700101T000000", "END:STANDARD",
        "END:VTIMEZONE"],
    "Australia/Sydney": [
        "BEGIN:VTIMEZONE", "TZID:Australia/Sydney",
        "BEGIN:STANDARD", "TZOFFSETFROM:+1100", "TZOFFSETTO:+1000", "TZNAME:AEST",
        "DTSTART:20080406T030000", "RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU", "END:STANDARD",
        "BEGIN:DAYLIGHT", "TZOFFSETFROM:+1000", "TZOFFSETTO:+1100", "TZNAME:AEDT",
        "DTSTART:20081005T020000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=1SU", "END:DAYLIGHT",
        "END:VTIMEZONE"],
}
SYSTEM_TZIDS = ["Europe/Paris", "America/Los_Angeles", "Asia/Tokyo", "Europe/London",
                "America/Chicago", "Europe/Zurich"]
WINDOWS_TZIDS = ["W. Europe Standard Time", "Pacific Standard Time"]

WORDS = ("agenda budget review sprint planning roadmap customer call sync quarterly "
         "design workshop retro standup interview lunch dentist gym flight hotel train "
         "release deploy incident postmortem offsite training onboarding demo board "
         "meeting report draft follow-up migration database calendar server index "
         "query latency throughput storage backup audit security compliance vendor "
         "contract invoice payroll hiring strategy marketing launch campaign webinar "
         "conference keynote panel breakout session coffee dinner birthday holiday").split()
NONASCII = ["Café", "Müller", "Zürich", "São Paulo", "Kraków", "Åre", "naïve", "Ørsted"]
NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
         "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent",
         "victor", "walter", "yolanda"]


def fold(line):
    """Fold a content line at 75 octets (RFC 5545 3.1), never inside a UTF-8 char."""
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return [line]
    out, start, limit = [], 0, 75
    while start < len(raw):
        end = min(start + limit, len(raw))
        while end < len(raw) and (raw[end] & 0xC0) == 0x80:
            end -= 1
        chunk = raw[start:end].decode("utf-8")
        out.append(chunk if not out else " " + chunk)
        start, limit = end, 74
    return out


def esc(text):
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def sentence(rng, n):
    w = [rng.choice(WORDS) for _ in range(n)]
    if rng.random() < 0.1:
        w[rng.randrange(n)] = rng.choice(NONASCII)
    return " ".join(w).capitalize()


def fmt_utc(t):
    return t.strftime("%Y%m%dT%H%M%SZ")


def fmt_local(t):
    return t.strftime("%Y%m%dT%H%M%S")


def fmt_date(t):
    return t.strftime("%Y%m%d")


class Obj:
    def __init__(self, i, seed, span, fill=False):
        self.i = i
        self.span = span                             # dates in REF +- span days
        self.fill = fill                             # a filler object (FILL_VERSION)
        self.rng = random.Random(("%s:fill:%d" if fill else "%s:%d") % (seed, i))
        self.uid = ("bench-fill-%06d-%08x@example.org" if fill else
                    "bench-%06d-%08x@example.org") % (i, self.rng.getrandbits(32))
        self.lines = []
        self.tz_needed = set()
        self.comp = "VEVENT"
        self.recurring = False

    def day(self, rng):
        """The day (offset from REF) an object's dates count from.  A filler
        object's day lies outside REF - FILL_CLEAR .. REF + FILL_CLEAR - 1."""
        if not self.fill:
            return rng.randrange(-self.span, self.span)
        side = self.span - FILL_CLEAR
        k = rng.randrange(2 * side)
        return -self.span + k if k < side else FILL_CLEAR + (k - side)


def dtprop(name, t, mode, tzid):
    """A DTSTART/DTEND/... line for datetime t (local wall time for tz modes)."""
    if mode == "utc":
        return "%s:%s" % (name, fmt_utc(t))
    if mode == "date":
        return "%s;VALUE=DATE:%s" % (name, fmt_date(t))
    if mode == "floating":
        return "%s:%s" % (name, fmt_local(t))
    return "%s;TZID=%s:%s" % (name, tzid, fmt_local(t))


def pick_tz(rng):
    """(mode, tzid, include VTIMEZONE?)"""
    r = rng.random()
    if r < 0.45:
        return "tz", rng.choice(sorted(VTIMEZONES)), True
    if r < 0.60:
        return "tz", rng.choice(SYSTEM_TZIDS), False
    if r < 0.62:
        return "tz", rng.choice(WINDOWS_TZIDS), False
    if r < 0.87:
        return "utc", None, False
    if r < 0.92:
        return "floating", None, False
    return "date", None, False


def common_props(o, rng, stamp):
    L = o.lines
    L.append("DTSTAMP:" + fmt_utc(stamp))
    L.append("CREATED:" + fmt_utc(stamp - dt.timedelta(days=rng.randrange(0, 30))))
    L.append("LAST-MODIFIED:" + fmt_utc(stamp))
    L.append("SEQUENCE:%d" % rng.choice([0, 0, 0, 1, 2]))
    L.append("SUMMARY:" + esc(sentence(rng, rng.randint(2, 6))))
    if rng.random() < 0.5:
        L.append("LOCATION:" + esc("Room %d, %s" % (rng.randrange(1, 500),
                                                  rng.choice(WORDS).capitalize())))
    # DESCRIPTION sized so that objects average ~2 KB (long tail up to ~6 KB)
    n = int(rng.expovariate(1 / 130.0)) + 10
    paras = []
    while n > 0:
        k = min(n, rng.randint(8, 20))
        paras.append(sentence(rng, k) + ".")
        n -= k
    L.append("DESCRIPTION:" + esc("\n".join(paras)))
    if rng.random() < 0.4:
        L.append("CATEGORIES:" + ",".join(sorted({rng.choice(WORDS).upper()
                                                  for _ in range(rng.randint(1, 3))})))
    L.append("CLASS:" + rng.choice(["PUBLIC"] * 8 + ["PRIVATE", "CONFIDENTIAL"]))
    if rng.random() < 0.05:
        L.append("X-BENCH-NOTE;X-PARAM=keep:%s" % esc(sentence(rng, 4)))


def attendees(o, rng):
    if rng.random() >= 0.30:
        return
    org = rng.choice(NAMES)
    o.lines.append("ORGANIZER;CN=%s:mailto:%s@example.org" % (org.capitalize(), org))
    for name in rng.sample(NAMES, rng.randint(1, 8)):
        o.lines.append("ATTENDEE;CN=%s;ROLE=%s;PARTSTAT=%s;RSVP=TRUE:mailto:%s@example.org" % (
            name.capitalize(), rng.choice(["REQ-PARTICIPANT", "REQ-PARTICIPANT", "OPT-PARTICIPANT"]),
            rng.choice(["ACCEPTED", "ACCEPTED", "NEEDS-ACTION", "TENTATIVE", "DECLINED"]), name))


def alarm(o, rng):
    if rng.random() >= 0.40:
        return
    o.lines += ["BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Reminder",
                "TRIGGER:-PT%dM" % rng.choice([5, 10, 15, 30, 60]), "END:VALARM"]
    if rng.random() < 0.2:
        o.lines += ["BEGIN:VALARM", "ACTION:AUDIO", "TRIGGER;VALUE=DURATION:-P1D",
                    "END:VALARM"]


def add_months(t, k):
    m = t.month - 1 + k
    return t.replace(year=t.year + m // 12, month=m % 12 + 1)


def make_event(o, rng, recurring):
    mode, tzid, with_vtz = pick_tz(rng)
    if recurring and mode in ("floating",):
        mode, tzid, with_vtz = "tz", "Europe/Berlin", True
    if with_vtz:
        o.tz_needed.add(tzid)
    day = REF + dt.timedelta(days=o.day(rng))
    if mode == "date":
        start = day.replace(hour=0, minute=0)
        end = start + dt.timedelta(days=rng.choice([1, 1, 1, 2, 3]))
    else:
        start = day.replace(hour=rng.randint(7, 19), minute=rng.choice([0, 15, 30, 45]))
        end = start + dt.timedelta(minutes=rng.choice([15, 30, 30, 60, 60, 60, 90, 120, 240]))
    if recurring:
        dur = end - start if mode != "date" else dt.timedelta(days=1)
        start = start.replace(day=min(start.day, 28))
        end = start + dur
    stamp = REF - dt.timedelta(days=rng.randrange(0, 400), seconds=rng.randrange(86400))
    L = o.lines
    L.append("BEGIN:VEVENT")
    L.append("UID:" + o.uid)
    L.append(dtprop("DTSTART", start, mode, tzid))
    if rng.random() < 0.8:
        L.append(dtprop("DTEND", end, mode, tzid))
    else:
        d = end - start
        L.append("DURATION:" + ("P%dD" % d.days if mode == "date" else "PT%dM" % (d.seconds // 60)))
    inst = None
    if recurring:
        freq = rng.choices(["WEEKLY", "DAILY", "MONTHLY"], [0.6, 0.2, 0.2])[0]
        step = {"WEEKLY": lambda t, k: t + dt.timedelta(weeks=k),
                "DAILY": lambda t, k: t + dt.timedelta(days=k),
                "MONTHLY": add_months}[freq]
        interval = rng.choice([1, 1, 1, 2]) if freq != "DAILY" else 1
        rule = "FREQ=%s" % freq + (";INTERVAL=%d" % interval if interval > 1 else "")
        term = rng.random()
        if freq == "DAILY" and term < 0.9:          # endless daily rules are rare
            term = 0.0 if rng.random() < 0.5 else 0.5
        # A filler series that starts before REF ends before the query week:
        # bounded, with its last instance (moved by an override at most a
        # day, lasting at most a day) FILL_END_DAYS before REF.
        bound = REF - dt.timedelta(days=FILL_END_DAYS) if o.fill and start < REF else None
        if bound is not None and term >= 0.8:
            term = 0.6

        def fit(n):
            while bound is not None and n > 1 and \
                    step(start, (n - 1) * interval) + dur + dt.timedelta(days=2) >= bound:
                n -= 1
            return n
        if term < 0.4:
            count = fit({"WEEKLY": rng.randint(4, 60), "DAILY": rng.randint(3, 30),
                         "MONTHLY": rng.randint(3, 36)}[freq])
            rule += ";COUNT=%d" % count
            n_inst = count
        elif term < 0.8:
            n_inst = fit({"WEEKLY": rng.randint(4, 100), "DAILY": rng.randint(3, 60),
                          "MONTHLY": rng.randint(3, 48)}[freq])
            last = step(start, (n_inst - 1) * interval)
            if mode == "date":
                rule += ";UNTIL=" + fmt_date(last)
            else:
                # UNTIL in UTC; local + 14 h is after the last instance in any of our zones
                rule += ";UNTIL=" + fmt_utc(last + dt.timedelta(hours=14))
        else:
            n_inst = 50                              # unbounded
        L.append("RRULE:" + rule)
        o.recurring = True
        k_ex = rng.randrange(1, n_inst) if n_inst > 2 and rng.random() < 0.25 else None
        if k_ex:
            L.append(dtprop("EXDATE", step(start, k_ex * interval), mode, tzid))
        if n_inst > 3 and rng.random() < 0.15:
            k = rng.randrange(1, n_inst)
            if k != k_ex:
                inst = step(start, k * interval)
    if rng.random() < 0.10:
        L.append("TRANSP:TRANSPARENT")
    elif mode == "date" and rng.random() < 0.5:
        L.append("TRANSP:TRANSPARENT")
    st = rng.random()
    if st < 0.10:
        L.append("STATUS:TENTATIVE")
    elif st < 0.13:
        L.append("STATUS:CANCELLED")
    elif st < 0.6:
        L.append("STATUS:CONFIRMED")
    common_props(o, rng, stamp)
    attendees(o, rng)
    alarm(o, rng)
    L.append("END:VEVENT")
    if inst is not None:                             # an overridden instance
        shift = dt.timedelta(hours=rng.choice([-2, -1, 1, 2, 24])) if mode != "date" \
            else dt.timedelta(days=1)
        L.append("BEGIN:VEVENT")
        L.append("UID:" + o.uid)
        L.append(dtprop("RECURRENCE-ID", inst, mode, tzid))
        L.append(dtprop("DTSTART", inst + shift, mode, tzid))
        L.append(dtprop("DTEND", inst + shift + (end - start), mode, tzid))
        L.append("DTSTAMP:" + fmt_utc(stamp))
        L.append("SEQUENCE:1")
        L.append("SUMMARY:" + esc(sentence(rng, 3) + " (moved)"))
        L.append("END:VEVENT")


def make_todo(o, rng):
    o.comp = "VTODO"
    mode, tzid, with_vtz = pick_tz(rng)
    if mode == "floating":
        mode = "utc"
    if with_vtz:
        o.tz_needed.add(tzid)
    day = REF + dt.timedelta(days=o.day(rng))
    start = day.replace(hour=9) if mode != "date" else day
    due = start + dt.timedelta(days=rng.randint(1, 30))
    stamp = REF - dt.timedelta(days=rng.randrange(0, 400))
    L = o.lines
    L.append("BEGIN:VTODO")
    L.append("UID:" + o.uid)
    r = rng.random()
    if r < 0.5:
        L.append(dtprop("DTSTART", start, mode, tzid))
        L.append(dtprop("DUE", due, mode, tzid))
    elif r < 0.8:
        L.append(dtprop("DUE", due, mode, tzid))
    elif r < 0.9:
        L.append(dtprop("DTSTART", start, mode, tzid))
        L.append("DURATION:P%dD" % rng.randint(1, 10))
    # else: no dates at all
    if rng.random() < 0.3:
        L.append("STATUS:COMPLETED")
        L.append("COMPLETED:" + fmt_utc(due))
        L.append("PERCENT-COMPLETE:100")
    else:
        L.append("STATUS:" + rng.choice(["NEEDS-ACTION", "IN-PROCESS"]))
    L.append("PRIORITY:%d" % rng.randint(0, 9))
    common_props(o, rng, stamp)
    alarm(o, rng)
    L.append("END:VTODO")


def make_object(i, seed, count, fill=False):
    """Object i of a calendar of `count` objects (the count sets the date span);
    with fill, filler object i (see generate_filler)."""
    o = Obj(i, seed, span_days(count), fill)
    rng = o.rng
    r = rng.random()
    if r < 0.10:
        make_todo(o, rng)
    else:
        make_event(o, rng, recurring=r < 0.25)      # 15% of all objects recur
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//mod_caldav bench//gen.py//EN",
            "CALSCALE:GREGORIAN"]
    for tzid in sorted(o.tz_needed):
        head += VTIMEZONES[tzid]
    out = []
    for line in head + o.lines + ["END:VCALENDAR"]:
        out += fold(line)
    return o, ("\r\n".join(out) + "\r\n").encode("utf-8")


def write_set(out, tag, count, make, prefix, quiet=False):
    """Writes DIR/<prefix>-NNNNNN.ics for i in [0, count), body make(i) ->
    (Obj, bytes), plus MANIFEST and DONE (holding 'tag'), unless DIR is
    already complete with the same tag.  Returns whether it wrote."""
    done = os.path.join(out, "DONE")
    if os.path.exists(done) and open(done).read().strip() == tag:
        return False
    os.makedirs(out, exist_ok=True)
    manifest = []
    for i in range(count):
        o, body = make(i)
        name = "%s-%06d.ics" % (prefix, i)
        with open(os.path.join(out, name), "wb") as f:
            f.write(body)
        manifest.append("%s %s %d %d %s\n" % (name, o.comp, int(o.recurring), len(body), o.uid))
        if not quiet and i and i % 10000 == 0:
            sys.stderr.write("  gen: %d/%d\n" % (i, count))
    with open(os.path.join(out, "MANIFEST"), "w") as f:
        f.writelines(manifest)
    with open(done, "w") as f:
        f.write(tag + "\n")
    return True


def generate(out, count, seed, quiet=False):
    tag = "%s seed=%s count=%d span=%d" % (FORMAT_VERSION, seed, count, span_days(count))
    return write_set(out, tag, count, lambda i: make_object(i, seed, count), "obj", quiet)


def generate_filler(out, base, total, seed, quiet=False):
    """Writes DIR/fill-NNNNNN.ics: the total - base objects that turn the
    calendar of `base` objects (generate(base)) into one of `total` objects
    whose week REF .. REF + 7 days holds exactly the same instances.  Same
    mix and density as generate(total); their days avoid REF +- FILL_CLEAR,
    and those before REF that recur end FILL_END_DAYS before it, so none of
    them reaches the week (a VEVENT query there matches only the base set's
    objects; undated to-dos match any range, but not a VEVENT filter)."""
    count = total - base
    if span_days(base) > FILL_CLEAR:
        raise ValueError("base set of %d spans more than REF +- %d days" % (base, FILL_CLEAR))
    tag = "%s %s seed=%s count=%d span=%d clear=%d end=%d" % (
        FORMAT_VERSION, FILL_VERSION, seed, count, span_days(total), FILL_CLEAR, FILL_END_DAYS)
    return write_set(out, tag, count, lambda i: make_object(i, seed, total, fill=True), "fill",
                     quiet)


def read_manifest(out):
    rows = []
    with open(os.path.join(out, "MANIFEST")) as f:
        for line in f:
            name, comp, rec, size, uid = line.split()
            rows.append((name, comp, rec == "1", int(size), uid))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seed", default="42")
    a = ap.parse_args()
    generate(a.out, a.count, a.seed)
    rows = read_manifest(a.out)
    n = len(rows)
    print("%d objects, dates REF +- %d days, %.0f bytes average, %.1f%% VTODO, %.1f%% recurring" % (
        n, span_days(n), sum(r[3] for r in rows) / n, 100.0 * sum(r[1] == "VTODO" for r in rows) / n,
        100.0 * sum(r[2] for r in rows) / n))


if __name__ == "__main__":
    main()

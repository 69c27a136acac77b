#!/usr/bin/python3
"""check_fill.py - check, without mod_caldav, that no filler event reaches the
query week (bench/README.md, "Fillers").

    check_fill.py DIR        (e.g. /tmp/bench-cache/v2-seed42-fill-1000-100000)

Expands every filler VEVENT's rule with python-dateutil (Debian package
python3-dateutil) on its wall-clock times and checks: an event that starts
before REF has its last instance, overrides included, at least 3 days
before REF (the longest filler event lasts 3 days, a zone moves it by at
most 14 hours); one that starts on or after REF starts after the week.
Prints the latest end-of-series before REF and the earliest start after
it; exits 1 if any event fails.
"""

import datetime as dt
import os
import re
import sys

from dateutil.rrule import rrulestr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

WEEK_END = gen.REF + dt.timedelta(days=7)


def main():
    d = sys.argv[1]
    bad = events = 0
    latest_past = earliest_future = None
    for name in sorted(os.listdir(d)):
        if not name.endswith(".ics"):
            continue
        text = open(os.path.join(d, name), encoding="utf-8").read().replace("\r\n ", "")
        if "BEGIN:VEVENT" not in text:
            continue
        events += 1
        body = text[text.index("BEGIN:VEVENT"):]
        starts = [dt.datetime.strptime(m.group(2) + (m.group(4) or "000000"), "%Y%m%d%H%M%S")
                  for m in re.finditer(r"\n(DTSTART|RECURRENCE-ID)[^:\n]*:(\d{8})(T(\d{6}))?", body)]
        first, last = starts[0], max(starts)
        rule = re.search(r"\nRRULE:(\S+)", body)
        if rule:
            r = re.sub(r"UNTIL=(\d{8})(T\d{6})?Z?",
                       lambda m: "UNTIL=" + m.group(1) + (m.group(2) or "T235959"), rule.group(1))
            if "COUNT=" not in r and "UNTIL=" not in r:
                last = dt.datetime.max                      # unbounded
            else:
                last = max(last, list(rrulestr(r, dtstart=first))[-1])
        if first < gen.REF:
            if last == dt.datetime.max or last + dt.timedelta(days=3) >= gen.REF:
                bad += 1
                print("reaches the week: %s (last instance %s)" % (name, last))
            else:
                latest_past = max(latest_past or last, last)
        else:
            if first < WEEK_END + dt.timedelta(days=1):
                bad += 1
                print("starts in the week: %s (%s)" % (name, first))
            earliest_future = min(earliest_future or first, first)
    print("%d events; latest last instance before REF %s; earliest start after REF %s; %d bad"
          % (events, latest_past, earliest_future, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

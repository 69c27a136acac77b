#!/bin/sh
# bench/run.sh - run the mod_caldav benchmark; options: bench/run.sh --help
exec /usr/bin/python3 "$(dirname "$0")/run.py" "$@"

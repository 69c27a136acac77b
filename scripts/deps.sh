#!/bin/sh
# Install the Debian packages mod_caldav needs to build, run and test.
# As root: installs what is missing with apt-get (non-interactive).
# Otherwise: prints the exact apt-get line and fails.
set -e
PKGS="apache2 apache2-dev libapr1-dev libaprutil1-dev libical-dev libdb-dev db5.3-util
      pkg-config gcc make python3 python3-pytest python3-requests python3-caldav
      litmus cadaver vdirsyncer curl"
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "mod_caldav needs these Debian packages:$missing" >&2
    echo "run:  sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
apt-get install -y -qq --no-install-recommends $missing </dev/null >/dev/null

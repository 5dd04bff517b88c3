#!/usr/bin/env bash
# Before `make test`: the BGP tests need gobgpd and BIRD 2. Install them through apt when they
# are missing and we are root; otherwise say so once (those tests then skip with the reason,
# except in CI, where a skip fails).
set -euo pipefail
if command -v gobgpd >/dev/null && command -v bird >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "make test: installing gobgpd and bird2 (apt-get) for the BGP tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gobgpd bird2
else
  echo "make test: gobgpd/bird2 missing and not root: the BGP tests will skip" \
    "(install with: apt-get install gobgpd bird2)"
fi

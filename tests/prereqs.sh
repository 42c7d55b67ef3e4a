#!/usr/bin/env bash
# Debian packages the tests use: Chromium (browser tests, driven by Playwright with executable_path)
# and Info-ZIP's unzip (a second reader of our zips). Installed with apt-get when missing and we are
# root (as in CI); otherwise say how, and the tests that need them say so when they skip.
set -u
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "tests/prereqs.sh: installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || echo "tests/prereqs.sh: apt-get could not install ${missing[*]}; the tests that need them will fail or skip" >&2
else
  echo "tests/prereqs.sh: missing ${missing[*]}; install with: sudo apt-get install ${missing[*]}" >&2
fi
exit 0

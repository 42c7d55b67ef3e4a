#!/bin/sh
# The browser tests drive Debian's Chromium (never a browser downloaded by Playwright).
# `make test` calls this: install the package when it is missing and we may (root + apt-get); otherwise say how.
[ -x "${NXHUB_CHROMIUM:-/usr/bin/chromium}" ] && exit 0
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests (apt-get install chromium)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
    || echo "Could not install chromium: the browser tests will be skipped."
else
  echo "Chromium not found: the browser tests will be skipped (install it with: sudo apt-get install chromium)."
fi
exit 0

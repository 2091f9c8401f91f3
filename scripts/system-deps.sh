#!/usr/bin/env bash
# The system packages the tests need: redis-server and redis-cli (REDIS_SERVER / REDIS_CLI when
# set), Chromium (CHROMIUM, default /usr/bin/chromium) and openssl. Run by .ci/run and by
# `npm test` (its pretest step). When one is missing: as root with apt-get, installs it; otherwise
# prints the one command that does, and fails before any test starts.
# Only bash builtins until apt-get, so it also runs with a PATH that holds nothing.
set -euo pipefail

missing() {
  local need=()
  command -v "${REDIS_SERVER:-redis-server}" >/dev/null 2>&1 || need+=(redis-server)
  command -v "${REDIS_CLI:-redis-cli}" >/dev/null 2>&1 || need+=(redis-tools)
  [ -f "${CHROMIUM:-/usr/bin/chromium}" ] && [ -x "${CHROMIUM:-/usr/bin/chromium}" ] || need+=(chromium)
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  echo "${need[*]}"
}

need=$(missing)
[ -z "$need" ] && exit 0

if [ "$EUID" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing $need"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  apt-get install -y -qq $need >/dev/null
  need=$(missing)
  [ -z "$need" ] && exit 0
  echo "system-deps: still missing after apt-get install: $need" \
    "(REDIS_SERVER, REDIS_CLI and CHROMIUM, when set, must name the installed binaries)" >&2
  exit 1
fi

{
  echo "system-deps: the tests need $need (Debian package names), which this machine lacks."
  if command -v apt-get >/dev/null 2>&1; then
    echo "Install them, then run the tests again:"
    echo "  sudo apt-get update && sudo apt-get install -y $need"
  else
    echo "Install them with your package manager, or point REDIS_SERVER, REDIS_CLI and CHROMIUM at them."
  fi
} >&2
exit 1

#!/usr/bin/env bash
# Installs everything PerfLoad needs to build, run and test: Debian packages
# (apt) and npm packages (root test deps, the dashboard, the test MongoDB).
# Idempotent and fast when everything is present: apt runs only when a
# package is missing, npm only when a lock file is newer than its node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential pkg-config clang libclang-rt-14-dev
  libwebsockets-dev libwebsockets-evlib-ev libev-dev libmicrohttpd-dev libhiredis-dev libcjson-dev
  libmongoc-dev libbson-dev libfuse3-dev fuse3 zlib1g-dev
  redis-server libcmocka-dev
  nodejs npm chromium docker-compose procps iproute2 curl
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  # node may come from outside Debian (a newer nodejs): accept any working node/npm.
  if [ "$p" = nodejs ] && command -v node >/dev/null; then continue; fi
  if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: apt packages missing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci only when the lock file changed since the last install.
npm_ci() {
  local dir=$1
  [ -f "$dir/package-lock.json" ] || return 0
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "install-deps: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_ci .
npm_ci www
[ -x scripts/install-mongo-test-server.sh ] && scripts/install-mongo-test-server.sh
exit 0

#!/usr/bin/env bash
# Installs the test MongoDB used by the integration tests and `make run`:
# CongoDB, the pure-JS wire-compatible server inside @push.rocks/smartmongo.
# That package's own dependency tree does not resolve, so we install the
# exact runtime deps it needs (tests/mongo-server/package.json + lock) and
# then drop the package itself in with `npm pack` (no dependency resolution).
# Idempotent: does nothing when both steps are already done.
# Never for production: it keeps everything in memory and ignores TTL.
set -euo pipefail
cd "$(dirname "$0")/../tests/mongo-server"

SMARTMONGO=@push.rocks/smartmongo@2.2.0
DEST=node_modules/@push.rocks/smartmongo

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install-mongo-test-server: npm ci in tests/mongo-server"
  npm ci --no-audit --no-fund --loglevel=error
fi

if ! grep -q '"version": "2.2.0"' "$DEST/package.json" 2>/dev/null; then
  echo "install-mongo-test-server: adding $SMARTMONGO"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$SMARTMONGO" >/dev/null)
  rm -rf "$DEST"
  mkdir -p "$DEST"
  tar -xzf "$tmp"/push.rocks-smartmongo-2.2.0.tgz -C "$DEST" --strip-components=1
fi

#!/bin/bash
# perfload-healthcheck [PORT] -- exit 0 when the appliance's /healthz answers
# 200 on 127.0.0.1:PORT (default $PERFLOAD_HTTP_PORT, else 8001), 1 otherwise.
# Plain bash (/dev/tcp) so the runtime image needs no curl.
set -u
port=${1:-${PERFLOAD_HTTP_PORT:-8001}}
host=127.0.0.1

if ! exec 3<>"/dev/tcp/$host/$port"; then
    echo "healthcheck: cannot connect to $host:$port" >&2
    exit 1
fi
printf 'GET /healthz HTTP/1.0\r\nHost: %s:%s\r\nConnection: close\r\n\r\n' "$host" "$port" >&3
status=""
IFS= read -r -t 4 status <&3
exec 3<&-
case "$status" in
    "HTTP/1."?" 200"*) exit 0 ;;
esac
echo "healthcheck: /healthz answered '${status%$'\r'}'" >&2
exit 1

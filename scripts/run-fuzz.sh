#!/usr/bin/env bash
# run-fuzz.sh SECONDS TARGET... — runs each libFuzzer target for SECONDS with
# its committed seed corpus (tests/fuzz/corpus/<name>/) copied to a scratch
# dir, so runs never dirty the tree. Fails on the first crash.
set -eu
secs=$1; shift
root=$(cd "$(dirname "$0")/.." && pwd)
fail=0; pass=0
for t in "$@"; do
  name=$(basename "$t")
  work=$(mktemp -d)
  [ -d "$root/tests/fuzz/corpus/$name" ] && cp -r "$root/tests/fuzz/corpus/$name/." "$work/"
  if "$t" -max_total_time="$secs" -max_len=65536 -print_final_stats=1 "$work" >"$work.log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work.log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz $name: ${secs}s, $runs inputs, no crash"; pass=$((pass+1))
  else
    echo "fuzz $name: FAILED"; tail -40 "$work.log"; fail=$((fail+1))
  fi
  rm -rf "$work" "$work.log"
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]

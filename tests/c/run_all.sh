#!/usr/bin/env bash
# Runs each C test binary given as an argument from the repository root; sums their check counts.
set -u
passed=0; failed=0; broken=0
for t in "$@"; do
    out=$("$t" 2>&1); rc=$?
    printf '%s\n' "$out" | grep -v '^ok  ' || true
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    if [ -z "$line" ]; then
        echo "!! $t exited $rc without a summary"; broken=$((broken + 1)); continue
    fi
    passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
    failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
    [ $rc -eq 0 ] || [ "$(echo "$line" | cut -d' ' -f3)" != 0 ] || { echo "!! $t exited $rc"; broken=$((broken + 1)); }
done
echo "C tests: $passed passed, $failed failed"
[ $failed -eq 0 ] && [ $broken -eq 0 ]

#!/usr/bin/env bash
# The .so exports exactly the vt_* functions declared in the public headers, and needs no Swift
# runtime library at run time.   usage: check_exports.sh LIB HEADER...
set -euo pipefail
lib=$1; shift
declared=$(cat "$@" | grep -oE '\bvt_[a-z0-9_]+\(' | tr -d '(' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort -u)
if [ "$declared" != "$exported" ]; then
    echo "exported symbols differ from the header's functions:"
    diff <(echo "$declared") <(echo "$exported") | sed 's/^</  only declared:/; s/^>/  only exported:/' | grep only
    exit 1
fi
others=$(nm -D --defined-only "$lib" | awk '$2 != "T" && $2 != "A" && $3 !~ /^(_end|_edata|__bss_start)$/' || true)
if [ -n "$others" ]; then echo "unexpected exported data symbols:"; echo "$others"; exit 1; fi
if ldd "$lib" | grep -qi swift; then echo "the library needs Swift runtime libraries:"; ldd "$lib"; exit 1; fi
echo "symbols: $(echo "$exported" | wc -l) vt_* functions exported, exactly the header's; no Swift runtime needed"

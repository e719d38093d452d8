#!/usr/bin/env bash
# abi/check.sh -- the ABI check of make test-abi (see abi/gen_probe.py for why the ABI is read from the
# headers through a probe built with -g, not from the stripped Swift library).
#
#   abi/check.sh baseline OUT_DIR          write OUT_DIR/libvoicetelemetry.abi and plugin.abi from abi/1.0/
#   abi/check.sh check WORK_DIR LIB        the headers in include/ against abi/*.abi; LIB must export every
#                                          function of the baseline
#   abi/check.sh selftest WORK_DIR         edits of the 1.0 headers that must fail (a removed function, a
#                                          changed parameter type, a field inserted in the middle, a changed
#                                          enumerator, a plugin-table field inserted in the middle) and must
#                                          pass (a new function, a field appended to a struct_size struct, a
#                                          new enum, a field appended to the plugin table)
#
# abidiff runs with --no-added-syms (new functions are allowed: without it any addition sets exit bit 4)
# and, when needed, abi/appended.suppr plus abi/struct_prefix.py (a struct_size struct grown at its end
# is allowed). Any other report fails: exit bit 4 (an ABI change: a changed parameter, return, field,
# enumerator) or 8 (incompatible: a removed function).
set -u
CC=${CC:-cc}
here=$(cd "$(dirname "$0")" && pwd)

probe() { # mode header-dir out-prefix
    local h=voicetelemetry.h
    [ "$1" = plugin ] && h=voicetelemetry_plugin.h
    python3 "$here/gen_probe.py" "$1" "$2/$h" > "$3.c" || return 1
    $CC -std=c99 -Wall -Wextra -Werror -Wno-unused-parameter -g -O0 -fPIC -shared -fno-eliminate-unused-debug-types -I"$2" -o "$3.so" "$3.c" || return 1
    abidw --no-corpus-path --no-comp-dir-path --no-show-locs --drop-undefined-syms --out-file "$3.abi" "$3.so"
}

# judge BASE.abi NEW.abi: 0 when NEW keeps BASE's ABI. abidiff alone first; when only the appended-field
# suppression makes it pass, struct_prefix.py checks that those structs really only grew at their end
# (a libabigail type suppression would also hide a retyped or reordered field). The report is in NEW.diff.
judge() {
    abidiff --no-added-syms "$1" "$2" > "$2.diff" 2>&1
    local rc=$?
    [ $rc -eq 0 ] && return 0
    abidiff --no-added-syms --suppressions "$here/appended.suppr" "$1" "$2" > "$2.diff" 2>&1
    rc=$?
    [ $rc -ne 0 ] && return $rc
    local rx
    rx=$(sed -n 's/^ *name_regexp *= *//p' "$here/appended.suppr")
    python3 "$here/struct_prefix.py" "$1" "$2" "$rx" >> "$2.diff" 2>&1 || return 4
    return 0
}

diff_abi() { # base.abi new.abi: judge, showing the report when it fails
    judge "$1" "$2"
    local rc=$?
    if [ $rc -ne 0 ]; then sed 's/^/    /' "$2.diff" | head -n 40; fi
    return $rc
}

case "${1:-}" in
baseline)
    out=$2; mkdir -p "$out"
    probe lib "$here/1.0" "$out/lib" && probe plugin "$here/1.0" "$out/plugin" || exit 1
    cp "$out/lib.abi" "$out/libvoicetelemetry.abi"
    ;;
check)
    work=$2 lib=$3; mkdir -p "$work"
    fail=0
    probe lib include "$work/lib" && probe plugin include "$work/plugin" || exit 1
    if diff_abi "$here/libvoicetelemetry.abi" "$work/lib.abi"; then
        echo "abi: include/voicetelemetry.h keeps the 1.0 ABI ($(grep -o '[0-9]* Added (\([0-9]*\) filtered' "$work/lib.abi.diff" | grep -o '([0-9]*' | tr -d '(' || echo 0) functions added)"
    else echo "abi: include/voicetelemetry.h breaks the 1.0 ABI (above)"; fail=1; fi
    if diff_abi "$here/plugin.abi" "$work/plugin.abi"; then echo "abi: include/voicetelemetry_plugin.h keeps the plugin ABI 1.0"
    else echo "abi: include/voicetelemetry_plugin.h breaks the plugin ABI 1.0 (above)"; fail=1; fi
    # the library itself exports every 1.0 function (its DWARF-less symbol table is all abidw would see)
    missing=$(comm -23 <(grep -o "elf-symbol name='vt_[a-z_]*'" "$here/libvoicetelemetry.abi" | cut -d"'" -f2 | grep -v '^vt_abi_probe' | sort -u) \
                       <(nm -D --defined-only "$lib" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort -u))
    if [ -n "$missing" ]; then echo "abi: $lib does not export: $missing"; fail=1
    else echo "abi: $lib exports every 1.0 function"; fi
    exit $fail
    ;;
selftest)
    work=$2; rm -rf "$work"; mkdir -p "$work"
    fail=0
    # name | header | expected (fail/pass) | sed expression (or an appended line after 'APPEND:')
    while IFS='|' read -r name file expect edit; do
        d="$work/$name"; mkdir -p "$d"
        cp "$here/1.0/voicetelemetry.h" "$here/1.0/voicetelemetry_plugin.h" "$d/"
        case "$edit" in
            APPEND:*) sed -i "s|^#endif /\* VOICETELEMETRY_H \*/\$|${edit#APPEND:}\n\n#ifdef __cplusplus\n}\n#endif\n&|" "$d/$file" ;;
            *) sed -i -e "$edit" "$d/$file" ;;
        esac
        if cmp -s "$d/$file" "$here/1.0/$file"; then echo "abi selftest: $name: the edit changed nothing"; fail=1; continue; fi
        mode=lib base="$here/libvoicetelemetry.abi"
        [ "$file" = voicetelemetry_plugin.h ] && mode=plugin base="$here/plugin.abi"
        if ! probe "$mode" "$d" "$d/probe" > "$d/build.log" 2>&1; then
            echo "abi selftest: $name: the probe did not build"; cat "$d/build.log"; fail=1; continue
        fi
        judge "$base" "$d/probe.abi"
        rc=$?
        got=pass; [ $rc -ne 0 ] && got=fail
        printf 'abi selftest: %-28s exit %2d -> %s (expected %s)\n' "$name" $rc $got "$expect"
        [ "$got" = "$expect" ] || { fail=1; sed 's/^/    /' "$d/probe.abi.diff"; }
    done <<'CASES'
remove-function|voicetelemetry.h|fail|/^vt_status vt_end_session(vt_session s);$/d
change-param-type|voicetelemetry.h|fail|s/^vt_status vt_record_audio_out(vt_session s, size_t bytes, uint64_t t_ns);$/vt_status vt_record_audio_out(vt_session s, uint32_t bytes, uint64_t t_ns);/
change-return-type|voicetelemetry.h|fail|s/^uint32_t vt_version_number(void);$/uint64_t vt_version_number(void);/
insert-field-middle|voicetelemetry.h|fail|s/^    int64_t total;$/    int64_t total;\n    int64_t inserted;/
change-field-type|voicetelemetry.h|fail|s/^    uint64_t value;    \/\* VT_EV_AUDIO_OUT/    uint32_t value;    \/* VT_EV_AUDIO_OUT/
reorder-fields|voicetelemetry.h|fail|/^    const char \*session_id;   \/\*/{h;d};/^    const vt_label \*labels;/{G}
renumber-enumerator|voicetelemetry.h|fail|s/VT_E_LIMIT = -4,/VT_E_LIMIT = -40,/
append-field-no-size|voicetelemetry.h|fail|s/^    const char \*value; \/\* NULL or "" means.*$/&\n    int appended;/
add-function|voicetelemetry.h|pass|APPEND:vt_status vt_new_function(vt_session s, const char *name);
append-field|voicetelemetry.h|pass|s/^                                 at most VT_MAX_TURN_HISTORY. Since 1.0 \*\/$/&\n    const char *appended_field;/
append-field-into-padding|voicetelemetry.h|fail|s/^                                 at most VT_MAX_TURN_HISTORY. Since 1.0 \*\/$/&\n    uint32_t appended_field;/
add-enum-and-enumerator|voicetelemetry.h|pass|s/^    VT_EV_TURN_COMPLETE = 8$/    VT_EV_TURN_COMPLETE = 8,\n    VT_EV_NEW_KIND = 9/
plugin-insert-field|voicetelemetry_plugin.h|fail|s/^    uint32_t reserved;$/    uint32_t reserved;\n    void *inserted;/
plugin-remove-field|voicetelemetry_plugin.h|fail|/^    void (\*count_drop)/d
plugin-append-field|voicetelemetry_plugin.h|pass|s/^    void (\*shutdown)(void \*state, uint64_t deadline_ns);$/&\n    int32_t (*appended)(void *state);/
CASES
    [ $fail -eq 0 ] && echo "abi selftest: every edit judged as expected"
    exit $fail
    ;;
*) echo "usage: $0 baseline OUT | check WORK LIB | selftest WORK" >&2; exit 2 ;;
esac

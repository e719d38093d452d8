#!/usr/bin/env bash
# Part 70: frames per second through a Pipecat pipeline of no-op processors without and with
# voicetelemetry's VoiceTelemetryObserver (and with an observer that does nothing: Pipecat's own cost
# of one more observer), runs alternated in one process, best of each; plus the observer handler's own CPU
# cost per frame. Target: <= 5 % fewer frames/s. VT_BENCH_PIPECAT_FRAMES / _REPS set the sizes.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import pipecat' 2>/dev/null; then
    echo "(skipped: pip install './examples-python[pipecat]' for this part)"
    exit 0
fi
VOICETELEMETRY_LIB="$PWD/build/lib/libvoicetelemetry.so" \
    "$PYTHON" -W ignore bench/integrations/pipecat_fps.py "$@" 2>/dev/null |
    awk '/^without/ {printf "%-28s %10s\n%-28s %10s\n%-28s %10s\n%-28s %10s\n%-28s %10s\n",
                       "frames/s (CPU), no observer", $2, "  + an empty observer", $4,
                       "  + VoiceTelemetryObserver", $6, "overhead vs none", $8, "overhead vs empty", $10}
         /^handler/ {print "observer handler: " $2 " us/frame (" $5 " of a frame'"'"'s CPU time)"}'

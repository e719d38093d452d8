#!/usr/bin/env bash
# Every event type the library emits (Sources/VoiceTelemetry/Events/EventTypes.swift) has its section
# in docs/event-schema.md, and the document has no section for a type the library does not emit.
set -euo pipefail
cd "$(dirname "$0")/../.."
emitted=$(grep -oE 'StaticString = "[a-z._]+"' Sources/VoiceTelemetry/Events/EventTypes.swift | cut -d'"' -f2 | sort)
documented=$(grep -oE '^## `[a-z._]+`(, `[a-z._]+`)*' docs/event-schema.md | grep -oE '`[a-z._]+`' | tr -d '`' | sort)
if [ "$emitted" != "$documented" ]; then
    echo "docs/event-schema.md and EventTypes.swift differ:"
    diff <(echo "$emitted") <(echo "$documented") | sed 's/^</  not documented:/; s/^>/  documented, not emitted:/' | grep -E 'not'
    exit 1
fi
echo "event schema: all $(echo "$emitted" | wc -l) event types the library emits are documented"

package voicetelemetry

// Header sections "Version" and "Clock".

/*
#include "vtgo.h"
*/
import "C"

// CompiledVersionNumber is VT_VERSION_NUMBER of the header this package was compiled against
// (major*1000000 + minor*1000 + patch).
const CompiledVersionNumber = uint32(C.VT_VERSION_NUMBER)

// Limits of voicetelemetry.h.
const (
	MaxSessions        = int(C.VT_MAX_SESSIONS)
	MaxLabels          = int(C.VT_MAX_LABELS)
	MaxSessionIDBytes  = int(C.VT_MAX_SESSION_ID_BYTES)
	MaxLabelValueBytes = int(C.VT_MAX_LABEL_VALUE_BYTES)
	MaxMetadataBytes   = int(C.VT_MAX_METADATA_BYTES) // longest WithMetadata, compact JSON. Since 1.1
	MaxNameBytes       = int(C.VT_MAX_NAME_BYTES)
	MaxSeriesPerFamily = int(C.VT_MAX_SERIES_PER_FAMILY)
	MaxFamilies        = int(C.VT_MAX_FAMILIES)
	MaxBuckets         = int(C.VT_MAX_BUCKETS)
)

// Version is the loaded library's version as text, e.g. "1.0.0" (vt_version_string).
func Version() string { return C.GoString(C.vt_version_string()) }

// VersionNumber is the loaded library's version as major*1000000 + minor*1000 + patch.
func VersionNumber() uint32 { return uint32(C.vt_version_number()) }

// CheckVersion returns an error when the loaded library cannot serve this package: a different
// major version, or an older minor/patch than the header it was compiled against.
func CheckVersion() error {
	loaded := VersionNumber()
	if loaded/1000000 != CompiledVersionNumber/1000000 || loaded < CompiledVersionNumber {
		return invalidf("loaded libvoicetelemetry %s (%d) cannot serve a binding compiled against %d",
			Version(), loaded, CompiledVersionNumber)
	}
	return nil
}

// NowNs reads CLOCK_MONOTONIC in nanoseconds: the clock that a timestamp of 0 stands for on a
// session with ClockMonotonic (the default); a ClockMedia session's "now" is its own clock.
func NowNs() uint64 { return uint64(C.vt_now_ns()) }

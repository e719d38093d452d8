//go:build voicetelemetry_pkgconfig

package voicetelemetry

// With -tags voicetelemetry_pkgconfig the header and library come from pkg-config
// (make install PREFIX=... installs voicetelemetry.pc; set PKG_CONFIG_PATH to its directory).
// pkg-config gives no rpath: install into a directory the loader searches, or add
// CGO_LDFLAGS="-Wl,-rpath,$(pkg-config --variable=libdir voicetelemetry)".

/*
#cgo CFLAGS: -I${SRCDIR}
#cgo pkg-config: voicetelemetry
*/
import "C"

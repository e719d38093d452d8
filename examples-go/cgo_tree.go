//go:build !voicetelemetry_pkgconfig

package voicetelemetry

// Default: build against the repository's build tree (make lib), with an rpath to it, so that
// `go test` works in a checkout without installing anything. To use an installed copy instead,
// build with -tags voicetelemetry_pkgconfig (see cgo_pkgconfig.go) or put the installed paths
// first with CGO_CFLAGS/CGO_LDFLAGS (README.md, "Using an installed library").

/*
#cgo CFLAGS: -I${SRCDIR} -I${SRCDIR}/../include
#cgo LDFLAGS: -L${SRCDIR}/../build/lib -lvoicetelemetry -Wl,-rpath,${SRCDIR}/../build/lib
*/
import "C"

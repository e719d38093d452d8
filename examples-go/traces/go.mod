// The trace-store reader is a module of its own: it needs github.com/mattn/go-sqlite3 (cgo, the
// system libsqlite3), and the core binding one directory up stays standard-library only.
// `make test-trace-store` builds it in GOPATH mode against Debian's golang-github-mattn-go-sqlite3-dev;
// with a module proxy, `go test` here works as usual.
module github.com/voicetelemetry/voicetelemetry-go/traces

go 1.19

require github.com/mattn/go-sqlite3 v1.14.16

package voicetelemetry

import (
	"os"
	"strings"
	"testing"
)

// codeLines are the non-blank lines of a piece of Go code, without their indentation.
func codeLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// between returns the text of s after the first `from` and before the next `to` after it.
func between(t *testing.T, s, from, to, where string) string {
	t.Helper()
	i := strings.Index(s, from)
	if i < 0 {
		t.Fatalf("%s: no %q", where, from)
	}
	s = s[i+len(from):]
	j := strings.Index(s, to)
	if j < 0 {
		t.Fatalf("%s: no %q after %q", where, to, from)
	}
	return s[:j]
}

// The README's quick start is the body of Example (which go test runs and checks the output of).
func TestReadmeQuickStartIsTheExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	mustOK(t, "read README.md", err)
	example, err := os.ReadFile("example_test.go")
	mustOK(t, "read example_test.go", err)

	quick := between(t, string(readme), "## Quick start", "\n## ", "README.md")
	program := between(t, quick, "```go\n", "\n```", "README.md quick start")
	mainBody := between(t, program, "func main() {\n", "\n}", "README.md quick start")
	exampleBody := between(t, string(example), "func Example() {\n", "// Output:", "example_test.go")

	got, want := codeLines(mainBody), codeLines(exampleBody)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("README quick start and Example differ:\nREADME:\n%s\n\nExample:\n%s",
			strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	output := codeLines(between(t, string(example), "// Output:\n", "\n}", "example_test.go"))
	for _, l := range output {
		if !strings.Contains(quick, strings.TrimSpace(strings.TrimPrefix(l, "//"))) {
			t.Errorf("README quick start lacks the output line %q", l)
		}
	}
	// The program must compile as shown: its imports are those of example_test.go.
	for _, imp := range []string{`"errors"`, `"fmt"`, `"log"`, `"net/http"`, `vt "github.com/voicetelemetry/voicetelemetry-go"`} {
		if !strings.Contains(program, imp) {
			t.Errorf("README quick start lacks the import %s", imp)
		}
	}
}

// The README's turn, plugin and trace programs are the bodies of Example_turns, Example_plugins and
// Example_traces, with their output and imports.
func TestReadmeTurnAndPluginExamples(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	mustOK(t, "read README.md", err)
	example, err := os.ReadFile("example_turns_test.go")
	mustOK(t, "read example_turns_test.go", err)
	for _, c := range []struct{ section, example string }{
		{"### Turns", "Example_turns"},
		{"### Events and sink plugins", "Example_plugins"},
		{"### Steps, messages, rewards and the session's clock", "Example_traces"},
	} {
		sec := between(t, string(readme), c.section, "\n### ", "README.md")
		program := between(t, sec, "```go\n", "\n```", "README.md "+c.section)
		mainBody := between(t, program, "func main() {\n", "\n}", "README.md "+c.section)
		fn := between(t, string(example), "func "+c.example+"() {\n", "\n}\n", "example_turns_test.go")
		exampleBody := between(t, fn+"\n}", "", "// Output:", c.example)
		if got, want := codeLines(mainBody), codeLines(exampleBody); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("README %s and %s differ:\nREADME:\n%s\n\nExample:\n%s", c.section, c.example,
				strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, l := range codeLines(between(t, fn+"\n}", "// Output:\n", "\n}", c.example)) {
			if !strings.Contains(sec, strings.TrimSpace(strings.TrimPrefix(l, "//"))) {
				t.Errorf("README %s lacks the output line %q", c.section, l)
			}
		}
		// The program compiles as shown: every package it uses is imported.
		for _, pkg := range []string{"json.", "fmt.", "log.", "os.", "filepath.", "strings.", "time."} {
			if strings.Contains(mainBody, pkg) {
				if !strings.Contains(program, `/`+strings.TrimSuffix(pkg, ".")+`"`) &&
					!strings.Contains(program, `"`+strings.TrimSuffix(pkg, ".")+`"`) {
					t.Errorf("README %s uses %s without importing it", c.section, pkg)
				}
			}
		}
	}
}

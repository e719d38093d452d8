package voicetelemetry

// The binding against include/voicetelemetry.h, the source of every constant: each enum value and
// limit of the header is bound by exactly one Go constant, written as C.VT_<name> (a number typed
// in by hand would go stale), and each name the binding spells itself (Stage.String, Mark.String,
// TurnQuality.Names, ...) is the header's member name in lower case. A header value the binding
// does not bind, or binds twice, fails here. (Python's counterpart: examples-python/tests/test_raw.py.)

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const headerPath = "../include/voicetelemetry.h"

// headerEnums: each enum block of the header, by enum name, its members in order.
type headerMember struct {
	name  string
	value int64
}

var (
	enumBlock  = regexp.MustCompile(`(?ms)^enum (vt_[a-z_]+) \{(.*?)^\};`)
	enumMember = regexp.MustCompile(`(?m)^\s+(VT_[A-Z0-9_]+) = (-?\d+)`)
	intMacro   = regexp.MustCompile(`(?m)^#define (VT_[A-Z0-9_]+) (\d+|\(1u << \d+\)|\(.*\))$`)
)

func readHeader(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(headerPath)
	mustOK(t, "read the header", err)
	return string(data)
}

func headerEnums(t *testing.T, header string) map[string][]headerMember {
	t.Helper()
	enums := map[string][]headerMember{}
	for _, b := range enumBlock.FindAllStringSubmatch(header, -1) {
		for _, m := range enumMember.FindAllStringSubmatch(b[2], -1) {
			v, err := strconv.ParseInt(m[2], 10, 64)
			mustOK(t, m[1], err)
			enums[b[1]] = append(enums[b[1]], headerMember{m[1], v})
		}
	}
	return enums
}

// goBinding: a Go constant of the package (not of a test) and the header name it is bound to.
type goBinding struct {
	goName, goType, cName string
	pos                   string
}

// goConstants parses the package's sources: every constant whose value names C.VT_<x>, with its
// type; a constant of a binding type that names no C.VT_<x> gets an empty cName.
func goConstants(t *testing.T, bindingTypes map[string]bool) []goBinding {
	t.Helper()
	fset := token.NewFileSet()
	files, err := parserDir(fset)
	mustOK(t, "parse the package", err)
	var out []goBinding
	for _, f := range files {
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				out = append(out, specBindings(fset, spec.(*ast.ValueSpec), bindingTypes)...)
			}
		}
	}
	return out
}

func parserDir(fset *token.FileSet) ([]*ast.File, error) {
	names, err := os.ReadDir(".")
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	for _, e := range names {
		n := e.Name()
		if !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, 0)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

func specBindings(fset *token.FileSet, spec *ast.ValueSpec, bindingTypes map[string]bool) []goBinding {
	typ := ""
	if id, ok := spec.Type.(*ast.Ident); ok {
		typ = id.Name
	}
	var out []goBinding
	for i, name := range spec.Names {
		if i >= len(spec.Values) {
			break
		}
		b := goBinding{goName: name.Name, goType: typ, cName: headerName(spec.Values[i]),
			pos: fset.Position(name.Pos()).String()}
		if b.cName != "" || bindingTypes[typ] {
			out = append(out, b)
		}
	}
	return out
}

// headerName is x for `C.VT_x` or a conversion of it (`int(C.VT_x)`), "" for anything else.
func headerName(e ast.Expr) string {
	if call, ok := e.(*ast.CallExpr); ok && len(call.Args) == 1 {
		if _, conv := call.Fun.(*ast.Ident); conv {
			e = call.Args[0]
		}
	}
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "C" || !strings.HasPrefix(sel.Sel.Name, "VT_") {
		return ""
	}
	return sel.Sel.Name
}

// Each enum of the header: the Go type of its constants ("" when the binding uses it inside its
// calls only) and the name the binding spells for a value (nil when the names come from the library).
var headerEnumsInGo = map[string]struct {
	goType string
	name   func(v uint32) string
}{
	"vt_status_code":       {"Status", nil}, // Status.String is vt_status_str's text
	"vt_clock":             {"Clock", nil},
	"vt_text_policy":       {"TextPolicy", nil},
	"vt_event_kind":        {"EventKind", nil},
	"vt_metric_kind":       {"", nil}, // Counter, Gauge and Histogram pass it to vt_metric_get
	"vt_exposition_format": {"ExpositionFormat", nil},
	"vt_turn_stage":        {"Stage", func(v uint32) string { return Stage(v).String() }},
	"vt_turn_mark":         {"Mark", func(v uint32) string { return Mark(v).String() }},
	"vt_turn_value_key":    {"TurnValueKey", func(v uint32) string { return TurnValueKey(v).String() }},
	"vt_turn_text_kind":    {"TextKind", func(v uint32) string { return TextKind(v).String() }},
	"vt_fallback_kind":     {"FallbackKind", func(v uint32) string { return FallbackKind(v).String() }},
	"vt_tool_kind":         {"ToolKind", func(v uint32) string { return ToolKind(v).String() }},
	"vt_turn_quality":      {"TurnQuality", func(v uint32) string { return TurnQuality(v).String() }},
}

// Macros of the header the Go API does not bind as constants, and why.
var headerMacrosNotInGo = map[string]string{
	"VT_VERSION_MAJOR":          "CompiledVersionNumber binds VT_VERSION_NUMBER",
	"VT_VERSION_MINOR":          "CompiledVersionNumber binds VT_VERSION_NUMBER",
	"VT_VERSION_PATCH":          "CompiledVersionNumber binds VT_VERSION_NUMBER",
	"VT_DEFAULT_MAX_TEXT_CHARS": "WithMaxTextChars(0) asks for the library's default",
	"VT_DEFAULT_TURN_HISTORY":   "WithTurnHistory(0) asks for the library's default",
	"VT_MAX_TURN_HISTORY":       "WithTurnHistory above it gets the library's ErrInvalidArgument",
}

func bindingTypes() map[string]bool {
	types := map[string]bool{}
	for _, e := range headerEnumsInGo {
		if e.goType != "" {
			types[e.goType] = true
		}
	}
	return types
}

// commonPrefix is the members' shared prefix up to an underscore ("VT_STAGE_" of VT_STAGE_*).
func commonPrefix(members []headerMember) string {
	p := members[0].name
	for _, m := range members[1:] {
		for !strings.HasPrefix(m.name, p) {
			p = p[:len(p)-1]
		}
	}
	return p[:strings.LastIndex(p, "_")+1]
}

var lowerName = regexp.MustCompile(`^[a-z][a-z_]*$`)

func TestHeaderEnumsBoundInGo(t *testing.T) {
	enums := headerEnums(t, readHeader(t))
	if len(enums["vt_turn_stage"]) < 13 || len(enums["vt_status_code"]) < 10 {
		t.Fatalf("the header's enums were not parsed: %v", enums)
	}
	bound := map[string][]goBinding{}
	for _, b := range goConstants(t, bindingTypes()) {
		if b.cName == "" {
			t.Errorf("%s (%s %s) is not written as C.VT_<name>", b.pos, b.goName, b.goType)
			continue
		}
		bound[b.cName] = append(bound[b.cName], b)
	}
	for enum, members := range enums {
		inGo, ok := headerEnumsInGo[enum]
		if !ok {
			t.Errorf("enum %s of the header: not in headerEnumsInGo (bind it, or say why not)", enum)
			continue
		}
		checkEnumBound(t, enum, members, inGo.goType, bound)
		if inGo.name != nil {
			checkEnumNames(t, enum, members, inGo.name)
		}
	}
	for enum := range headerEnumsInGo {
		if _, ok := enums[enum]; !ok {
			t.Errorf("headerEnumsInGo names %s, which the header does not declare", enum)
		}
	}
}

func checkEnumBound(t *testing.T, enum string, members []headerMember, goType string, bound map[string][]goBinding) {
	t.Helper()
	for _, m := range members {
		got := bound[m.name]
		switch {
		case goType == "" && len(got) != 0:
			t.Errorf("%s: %s is bound (%s) but headerEnumsInGo says the binding has no type for it", enum, m.name, got[0].goName)
		case goType != "" && len(got) != 1:
			t.Errorf("%s: %s is bound by %d Go constants %v, want one of type %s", enum, m.name, len(got), got, goType)
		case goType != "" && got[0].goType != goType:
			t.Errorf("%s: %s is bound by %s of type %q, want %s", enum, m.name, got[0].goName, got[0].goType, goType)
		}
	}
}

// Each member's Go name is its header name without the enum's prefix, in lower case; a value the
// header does not declare gets no such name.
func checkEnumNames(t *testing.T, enum string, members []headerMember, name func(uint32) string) {
	t.Helper()
	prefix := commonPrefix(members)
	largest := uint32(0)
	for _, m := range members {
		want := strings.ToLower(strings.TrimPrefix(m.name, prefix))
		if got := name(uint32(m.value)); got != want {
			t.Errorf("%s: the Go name of %s (%d) is %q, want %q", enum, m.name, m.value, got, want)
		}
		if uint32(m.value) > largest {
			largest = uint32(m.value)
		}
	}
	beyond := largest + 1
	if enum == "vt_turn_quality" { // bit flags: the next bit
		beyond = largest << 1
	}
	if got := name(beyond); lowerName.MatchString(got) {
		t.Errorf("%s: %d is not in the header but the Go binding names it %q", enum, beyond, got)
	}
}

func TestHeaderLimitsBoundInGo(t *testing.T) {
	header := readHeader(t)
	bound := map[string][]string{}
	for _, b := range goConstants(t, bindingTypes()) {
		bound[b.cName] = append(bound[b.cName], b.goName)
	}
	macros := intMacro.FindAllStringSubmatch(header, -1)
	if len(macros) < 25 {
		t.Fatalf("the header's macros were not parsed: %d", len(macros))
	}
	seen := map[string]bool{}
	for _, m := range macros {
		name := m[1]
		seen[name] = true
		why, skipped := headerMacrosNotInGo[name]
		switch {
		case skipped && len(bound[name]) != 0:
			t.Errorf("%s is bound (%v) but listed as not in the Go API (%s)", name, bound[name], why)
		case !skipped && len(bound[name]) != 1:
			t.Errorf("%s (%s in the header) is bound by %v, want one Go constant", name, m[2], bound[name])
		}
	}
	var stale []string
	for name := range headerMacrosNotInGo {
		if !seen[name] {
			stale = append(stale, name)
		}
	}
	sort.Strings(stale)
	if len(stale) != 0 {
		t.Errorf("headerMacrosNotInGo lists macros the header does not define: %v", stale)
	}
}

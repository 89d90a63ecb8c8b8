package apispec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Option adjusts one assertion: a known, explained difference from the specification.
type Option struct {
	apply func(*settings)
}

type settings struct {
	opt      Options
	statuses map[int]bool
	misuse   []string
}

// AllowMissing lets the required property field (as the failure message names it, e.g.
// "Smartlock.Config.latitude") be absent. reason says why Portier cannot fill it.
func AllowMissing(field, reason string) Option {
	return Option{func(s *settings) {
		if strings.TrimSpace(reason) == "" {
			s.misuse = append(s.misuse, fmt.Sprintf("AllowMissing(%q) needs a reason", field))
		}
		s.opt.AllowMissing[field] = true
	}}
}

// AllowValue lets field's value lie outside the specification's enum, minimum, maximum or
// format (the type is still checked), where the specification is wrong: reason says how.
func AllowValue(field, reason string) Option {
	return Option{func(s *settings) {
		if strings.TrimSpace(reason) == "" {
			s.misuse = append(s.misuse, fmt.Sprintf("AllowValue(%q) needs a reason", field))
		}
		s.opt.AllowValue[field] = true
	}}
}

// AllowStatus accepts a status code the operation does not document. reason says why
// Portier answers it (e.g. the real API does, or the specification forgot it).
func AllowStatus(code int, reason string) Option {
	return Option{func(s *settings) {
		if strings.TrimSpace(reason) == "" {
			s.misuse = append(s.misuse, fmt.Sprintf("AllowStatus(%d) needs a reason", code))
		}
		s.statuses[code] = true
	}}
}

// PartialUpdate skips the required checks of a request body, for updates that change only the
// fields sent (as the Nuki Web API does for its POST updates).
func PartialUpdate() Option {
	return Option{func(s *settings) { s.opt.Partial = true }}
}

func collect(t testing.TB, dir Direction, opts []Option) (*settings, bool) {
	t.Helper()
	s := &settings{opt: Options{Direction: dir, AllowMissing: map[string]bool{}, AllowValue: map[string]bool{}}, statuses: map[int]bool{}}
	for _, o := range opts {
		o.apply(s)
	}
	for _, m := range s.misuse {
		t.Errorf("apispec: %s", m)
	}
	return s, len(s.misuse) == 0
}

func spec(t testing.TB) *Spec {
	t.Helper()
	s, err := Load()
	if err != nil {
		t.Fatalf("apispec: %v", err)
	}
	return s
}

// AssertStatus checks that the operation method path (a template as the specification
// writes it, "/smartlock/{smartlockId}") documents status, or that AllowStatus allows it.
func AssertStatus(t testing.TB, method, path string, status int, opts ...Option) bool {
	t.Helper()
	set, ok := collect(t, DirResponse, opts)
	op, err := spec(t).Operation(method, path)
	if err != nil {
		t.Errorf("%v", err)
		return false
	}
	return statusOK(t, op, method, path, status, set) && ok
}

func statusOK(t testing.TB, op *Operation, method, path string, status int, set *settings) bool {
	t.Helper()
	if _, documented := op.Documented(status); documented || set.statuses[status] {
		return true
	}
	t.Errorf("%s %s answered %d, which the specification does not document (it lists %s); if Portier is right, allow it with apispec.AllowStatus(%d, \"why\")",
		strings.ToUpper(method), templatePath(path), status, strings.Join(op.Codes(), ", "), status)
	return false
}

// AssertResponse checks a response of the operation method path: its status must be
// documented (or allowed), and its body must match the schema the specification declares for
// that status. A documented 2xx response without schema (204) must have an empty body.
func AssertResponse[B ~string | ~[]byte](t testing.TB, method, path string, status int, body B, opts ...Option) bool {
	t.Helper()
	set, ok := collect(t, DirResponse, opts)
	op, err := spec(t).Operation(method, path)
	if err != nil {
		t.Errorf("%v", err)
		return false
	}
	if !statusOK(t, op, method, path, status, set) {
		return false
	}
	r, documented := op.Documented(status)
	what := fmt.Sprintf("%s %s → %d", strings.ToUpper(method), templatePath(path), status)
	switch {
	case documented && r.Schema != nil:
		return check(t, what, r.Schema, []byte(body), set) && ok
	case documented && status >= 200 && status < 300 && strings.TrimSpace(string(body)) != "":
		t.Errorf("%s: the specification declares no body, got %s", what, excerpt([]byte(body)))
		return false
	}
	return ok
}

// AssertRequest checks body against the schema of the body parameter of the operation method
// path, e.g. AssertRequest(t, "POST", "/smartlock/{smartlockId}/config", body, PartialUpdate()).
// Unlike a response, a request may carry null (Nuki clears a field with an explicit null).
func AssertRequest[B ~string | ~[]byte](t testing.TB, method, path string, body B, opts ...Option) bool {
	t.Helper()
	set, ok := collect(t, DirRequest, opts)
	op, err := spec(t).Operation(method, path)
	if err != nil {
		t.Errorf("%v", err)
		return false
	}
	schema := op.BodySchema()
	if schema == nil {
		t.Errorf("%s %s takes no body in the specification", strings.ToUpper(method), templatePath(path))
		return false
	}
	return check(t, fmt.Sprintf("request body of %s %s", strings.ToUpper(method), templatePath(path)), schema, []byte(body), set) && ok
}

// AssertDefinition checks a response body against a definition: "Smartlock" or
// "#/definitions/Smartlock"; a leading "[]" means an array of it ("[]Smartlock").
func AssertDefinition[B ~string | ~[]byte](t testing.TB, ref string, body B, opts ...Option) bool {
	t.Helper()
	set, ok := collect(t, DirResponse, opts)
	name, array := strings.CutPrefix(ref, "[]")
	if _, err := spec(t).Definition(name); err != nil {
		t.Errorf("%v", err)
		return false
	}
	schema := &Schema{Ref: "#/definitions/" + strings.TrimPrefix(name, "#/definitions/")}
	if array {
		schema = &Schema{Type: "array", Items: schema}
	}
	return check(t, ref, schema, []byte(body), set) && ok
}

func check(t testing.TB, what string, schema *Schema, body []byte, set *settings) bool {
	t.Helper()
	problems := spec(t).Validate(schema, body, set.opt)
	if len(problems) == 0 {
		return true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s does not match the specification:\n", what)
	var missing []string
	for _, p := range problems {
		fmt.Fprintf(&b, "  %s\n", p)
		if p.Kind == Missing && !slices.Contains(missing, p.Field) {
			missing = append(missing, p.Field)
		}
	}
	if len(missing) > 0 {
		b.WriteString("If Portier cannot know a missing field, allow it with a reason:\n")
		for _, f := range missing {
			fmt.Fprintf(&b, "  apispec.AllowMissing(%s, \"why\"),\n", strconv.Quote(f))
		}
	}
	fmt.Fprintf(&b, "body: %s", excerpt(body))
	t.Error(b.String())
	return false
}

func excerpt(b []byte) string {
	const max = 2000
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

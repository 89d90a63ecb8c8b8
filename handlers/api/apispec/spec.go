// Package apispec checks JSON bodies of the API against the official Nuki Web API
// specification (Swagger 2.0, v4.4.1), embedded from the copy next to this file. It is a test
// helper: only _test.go files import it, so the specification never reaches the binary.
//
// The validator covers the subset of JSON Schema that Swagger 2.0 uses in that document: $ref
// to #/definitions, type, format (int32, date-time, byte), properties, additionalProperties,
// required, items, uniqueItems, enum, minimum and maximum. Unlike Swagger's default, a key an
// object does not declare is an error, so a misspelt field name fails the test.
package apispec

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed nuki-web-api-swagger-4.4.1.json
var specJSON []byte

// Schema is a Swagger 2.0 schema object (the parts the specification uses).
type Schema struct {
	Ref                  string             `json:"$ref"`
	Type                 string             `json:"type"`
	Format               string             `json:"format"`
	Properties           map[string]*Schema `json:"properties"`
	AdditionalProperties *Additional        `json:"additionalProperties"`
	Required             []string           `json:"required"`
	Items                *Schema            `json:"items"`
	UniqueItems          bool               `json:"uniqueItems"`
	Enum                 []json.RawMessage  `json:"enum"`
	Minimum              *float64           `json:"minimum"`
	Maximum              *float64           `json:"maximum"`
	ReadOnly             bool               `json:"readOnly"`
}

// Additional is additionalProperties: a boolean or a schema for the undeclared keys.
type Additional struct {
	Allowed bool
	Schema  *Schema
}

// UnmarshalJSON reads either form.
func (a *Additional) UnmarshalJSON(b []byte) error {
	switch string(bytes.TrimSpace(b)) {
	case "true":
		a.Allowed = true
		return nil
	case "false":
		return nil
	}
	a.Allowed, a.Schema = true, &Schema{}
	return json.Unmarshal(b, a.Schema)
}

// Parameter is an operation parameter; a body parameter has a schema.
type Parameter struct {
	In       string  `json:"in"`
	Name     string  `json:"name"`
	Required bool    `json:"required"`
	Type     string  `json:"type"`
	Schema   *Schema `json:"schema"`
}

// Response is one documented response of an operation; Schema is nil for a response without
// body (204) and for the error responses, which the specification leaves undescribed.
type Response struct {
	Description string  `json:"description"`
	Schema      *Schema `json:"schema"`
}

// Operation is one method of a path.
type Operation struct {
	OperationID string              `json:"operationId"`
	Parameters  []Parameter         `json:"parameters"`
	Responses   map[string]Response `json:"responses"`
}

// Spec is the loaded specification.
type Spec struct {
	Paths       map[string]map[string]*Operation
	Definitions map[string]*Schema
}

var (
	loadOnce sync.Once
	loaded   *Spec
	loadErr  error
)

// Load returns the embedded specification, parsed once.
func Load() (*Spec, error) {
	loadOnce.Do(func() { loaded, loadErr = Parse(specJSON) })
	return loaded, loadErr
}

// Parse reads a Swagger 2.0 document.
func Parse(doc []byte) (*Spec, error) {
	var raw struct {
		Swagger     string                                `json:"swagger"`
		Paths       map[string]map[string]json.RawMessage `json:"paths"`
		Definitions map[string]*Schema                    `json:"definitions"`
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		return nil, fmt.Errorf("apispec: %w", err)
	}
	if raw.Swagger != "2.0" {
		return nil, fmt.Errorf("apispec: swagger %q, want 2.0", raw.Swagger)
	}
	s := &Spec{Paths: map[string]map[string]*Operation{}, Definitions: raw.Definitions}
	for path, item := range raw.Paths {
		ops := map[string]*Operation{}
		for method, body := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch":
				op := &Operation{}
				if err := json.Unmarshal(body, op); err != nil {
					return nil, fmt.Errorf("apispec: %s %s: %w", method, path, err)
				}
				ops[strings.ToUpper(method)] = op
			}
		}
		s.Paths[path] = ops
	}
	return s, nil
}

// Operation finds method and path. path is a template as the specification writes it
// ("/smartlock/{smartlockId}"); Echo's form ("/smartlock/:smartlockId") is accepted too.
func (s *Spec) Operation(method, path string) (*Operation, error) {
	path = templatePath(path)
	ops, ok := s.Paths[path]
	if !ok {
		return nil, fmt.Errorf("apispec: the specification has no path %s", path)
	}
	op, ok := ops[strings.ToUpper(method)]
	if !ok {
		return nil, fmt.Errorf("apispec: the specification has no %s %s", strings.ToUpper(method), path)
	}
	return op, nil
}

// templatePath writes Echo's ":name" segments as "{name}".
func templatePath(p string) string {
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		if strings.HasPrefix(seg, ":") {
			segs[i] = "{" + seg[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

// Documented reports whether the operation lists status among its responses, and that
// response.
func (op *Operation) Documented(status int) (Response, bool) {
	r, ok := op.Responses[strconv.Itoa(status)]
	if !ok {
		r, ok = op.Responses["default"]
	}
	return r, ok
}

// Codes lists the documented status codes in order.
func (op *Operation) Codes() []string {
	var out []string
	for c := range op.Responses {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// BodySchema is the schema of the operation's body parameter, or nil when it takes none.
func (op *Operation) BodySchema() *Schema {
	for _, p := range op.Parameters {
		if p.In == "body" {
			return p.Schema
		}
	}
	return nil
}

// Definition finds a schema by reference: "#/definitions/Smartlock" or just "Smartlock".
func (s *Spec) Definition(ref string) (*Schema, error) {
	name := strings.TrimPrefix(ref, "#/definitions/")
	d, ok := s.Definitions[name]
	if !ok {
		return nil, fmt.Errorf("apispec: the specification has no definition %q", name)
	}
	return d, nil
}

// Direction says whether a body is a request or a response: a request may carry null (Nuki
// clears a field with an explicit null), a response never does (Portier leaves absent values
// out).
type Direction int

// Directions.
const (
	DirResponse Direction = iota
	DirRequest
)

// Kind is the kind of a problem.
type Kind string

// Problem kinds.
const (
	Missing Kind = "missing required" // a required property is absent
	Unknown Kind = "unknown key"      // a key the schema does not declare
	Type    Kind = "wrong type"
	Null    Kind = "null"
	Enum    Kind = "not in enum"
	Range   Kind = "out of range"
	Format  Kind = "wrong format"
	Invalid Kind = "invalid" // not JSON, or a broken reference in the specification
)

// Problem is one way a body differs from its schema.
type Problem struct {
	Kind Kind
	// At is where in the body, as a JavaScript-like path: $[2].state.mode.
	At string
	// Field names the property by the definition that declares it, independent of where it
	// occurs: "Smartlock.State.mode". Allowances match on it.
	Field string
	Msg   string
}

func (p Problem) String() string {
	if p.Field != "" {
		return fmt.Sprintf("%s: %s (%s): %s", p.At, p.Kind, p.Field, p.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", p.At, p.Kind, p.Msg)
}

// Options change what Validate reports.
type Options struct {
	Direction Direction
	// Partial skips required checks, for updates that change only the fields sent.
	Partial bool
	// AllowMissing lists Fields ("Smartlock.Config.latitude") that may be absent though the
	// specification requires them.
	AllowMissing map[string]bool
	// AllowValue lists Fields whose value need not satisfy enum, minimum, maximum or format
	// (where the specification's bounds are wrong); the type is still checked.
	AllowValue map[string]bool
}

// Validate checks the JSON document body against schema and returns every problem found, in
// document order.
func (s *Spec) Validate(schema *Schema, body []byte, opt Options) []Problem {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []Problem{{Kind: Invalid, At: "$", Msg: "not JSON: " + err.Error()}}
	}
	if dec.More() {
		return []Problem{{Kind: Invalid, At: "$", Msg: "more than one JSON value"}}
	}
	vd := &validator{spec: s, opt: opt}
	vd.value(v, schema, "$", "")
	return vd.problems
}

type validator struct {
	spec     *Spec
	opt      Options
	problems []Problem
}

func (vd *validator) add(kind Kind, at, field, format string, args ...any) {
	vd.problems = append(vd.problems, Problem{Kind: kind, At: at, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// value checks v against schema s at body path at; field is the definition-qualified name.
func (vd *validator) value(v any, s *Schema, at, field string) {
	for depth := 0; s != nil && s.Ref != ""; depth++ {
		name, ok := strings.CutPrefix(s.Ref, "#/definitions/")
		d := vd.spec.Definitions[name]
		if !ok || d == nil || depth > 32 {
			vd.add(Invalid, at, field, "the specification's reference %q does not resolve", s.Ref)
			return
		}
		s, field = d, name
	}
	if s == nil {
		return
	}
	if v == nil {
		if vd.opt.Direction == DirResponse {
			vd.add(Null, at, field, "null in a response; leave an absent value out instead")
		}
		return
	}
	typ := s.Type
	if typ == "" && s.Properties != nil {
		typ = "object"
	}
	switch typ {
	case "object":
		vd.object(v, s, at, field)
		return
	case "array":
		vd.array(v, s, at, field)
		return
	case "integer", "int":
		n, ok := v.(json.Number)
		if !ok {
			vd.add(Type, at, field, "want integer, got %s", jsonType(v))
			return
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			vd.add(Type, at, field, "want integer, got %s", n)
			return
		}
		if s.Format == "int32" && (i < math.MinInt32 || i > math.MaxInt32) && !vd.opt.AllowValue[field] {
			vd.add(Range, at, field, "%d does not fit int32", i)
		}
	case "number":
		if _, ok := v.(json.Number); !ok {
			vd.add(Type, at, field, "want number, got %s", jsonType(v))
			return
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			vd.add(Type, at, field, "want string, got %s", jsonType(v))
			return
		}
		if !vd.opt.AllowValue[field] {
			vd.format(str, s.Format, at, field)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			vd.add(Type, at, field, "want boolean, got %s", jsonType(v))
			return
		}
	case "":
		// No type: anything goes.
	default:
		vd.add(Invalid, at, field, "the specification's type %q is not one this validator knows", s.Type)
		return
	}
	if vd.opt.AllowValue[field] {
		return
	}
	if len(s.Enum) > 0 && !inEnum(v, s.Enum) {
		var vals []string
		for _, e := range s.Enum {
			vals = append(vals, string(e))
		}
		vd.add(Enum, at, field, "%s is not one of %s", show(v), strings.Join(vals, ", "))
	}
	if n, ok := v.(json.Number); ok {
		f, _ := n.Float64()
		if s.Minimum != nil && f < *s.Minimum {
			vd.add(Range, at, field, "%s is below the minimum %v", n, *s.Minimum)
		}
		if s.Maximum != nil && f > *s.Maximum {
			vd.add(Range, at, field, "%s is above the maximum %v", n, *s.Maximum)
		}
	}
}

func (vd *validator) object(v any, s *Schema, at, field string) {
	m, ok := v.(map[string]any)
	if !ok {
		vd.add(Type, at, field, "want object, got %s", jsonType(v))
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		childAt, childField := at+"."+k, join(field, k)
		if p, ok := s.Properties[k]; ok {
			vd.value(m[k], p, childAt, childField)
			continue
		}
		switch {
		case s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil:
			vd.value(m[k], s.AdditionalProperties.Schema, childAt, join(field, "*"))
		case s.AdditionalProperties != nil && s.AdditionalProperties.Allowed:
		case s.Properties == nil && s.AdditionalProperties == nil:
			// A bare {"type":"object"} is free-form in the specification.
		default:
			vd.add(Unknown, childAt, childField, "%q is not a property of %s", k, nameOr(field, "this object"))
		}
	}
	if vd.opt.Partial {
		return
	}
	for _, r := range s.Required {
		if _, ok := m[r]; !ok && !vd.opt.AllowMissing[join(field, r)] {
			vd.add(Missing, at+"."+r, join(field, r), "required by the specification")
		}
	}
}

func (vd *validator) array(v any, s *Schema, at, field string) {
	a, ok := v.([]any)
	if !ok {
		vd.add(Type, at, field, "want array, got %s", jsonType(v))
		return
	}
	seen := map[string]int{}
	for i, item := range a {
		itemAt := fmt.Sprintf("%s[%d]", at, i)
		vd.value(item, s.Items, itemAt, join(field, "[]"))
		if s.UniqueItems {
			b, _ := json.Marshal(item)
			if j, dup := seen[string(b)]; dup {
				vd.add(Invalid, itemAt, field, "the same as item %d, but the items must be unique", j)
			}
			seen[string(b)] = i
		}
	}
}

func (vd *validator) format(str, format, at, field string) {
	switch format {
	case "date-time":
		if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
			vd.add(Format, at, field, "%q is not an RFC 3339 date-time", str)
		}
	case "byte":
		if _, err := base64.StdEncoding.DecodeString(str); err != nil {
			vd.add(Format, at, field, "%q is not base64", str)
		}
	}
}

func join(field, name string) string {
	if field == "" {
		return name
	}
	if name == "[]" {
		return field + "[]"
	}
	return field + "." + name
}

func nameOr(field, alt string) string {
	if field == "" {
		return alt
	}
	return field
}

func inEnum(v any, enum []json.RawMessage) bool {
	for _, raw := range enum {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var e any
		if dec.Decode(&e) != nil {
			continue
		}
		if en, ok := e.(json.Number); ok {
			if vn, ok := v.(json.Number); ok {
				a, _ := en.Float64()
				b, _ := vn.Float64()
				if a == b {
					return true
				}
			}
			continue
		}
		switch e.(type) {
		case string, bool:
			if e == v {
				return true
			}
		}
	}
	return false
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case json.Number:
		return "number " + string(v)
	case string:
		return "string " + strconv.Quote(v)
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

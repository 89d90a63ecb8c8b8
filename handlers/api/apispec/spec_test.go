package apispec_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"portier/handlers/api/apispec"
)

// recorder is a testing.TB that records failures instead of failing the test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Error(args ...any)         { r.errs = append(r.errs, fmt.Sprint(args...)) }
func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }
func (r *recorder) Fatalf(f string, a ...any) { r.errs = append(r.errs, "FATAL "+fmt.Sprintf(f, a...)) }
func (r *recorder) failed() string            { return strings.Join(r.errs, "\n") }

const goodSmartlock = `{"smartlockId":17929391234,"accountId":7,"type":4,"authId":1,"name":"Front door","favorite":false,
	"state":{"mode":2,"state":1,"trigger":0,"lastAction":2,"batteryCritical":false,"batteryCharge":84,"doorState":2,"ringToOpenTimer":0,"nightMode":false},
	"config":{"name":"Front door","latitude":47.07,"longitude":15,"singleLock":false,"timezoneId":37,"timezoneOffset":60,"advertisingMode":0},
	"firmwareVersion":199175,"serverState":0,"adminPinState":0,"creationDate":"2025-01-16T12:20:23.541Z","updateDate":"2025-01-16T12:20:23.541Z",
	"opener":false,"box":false,"smartDoor":false,"keyturner":true}`

func load(t *testing.T) *apispec.Spec {
	s, err := apispec.Load()
	require.NoError(t, err)
	return s
}

func validate(t *testing.T, ref, body string, opt apispec.Options) []apispec.Problem {
	t.Helper()
	s := load(t)
	_, err := s.Definition(ref)
	require.NoError(t, err)
	return s.Validate(&apispec.Schema{Ref: "#/definitions/" + ref}, []byte(body), opt)
}

// with replaces one "key":value pair of goodSmartlock (value up to the next comma or brace).
func with(old, repl string) string {
	if !strings.Contains(goodSmartlock, old) {
		panic("no " + old)
	}
	return strings.Replace(goodSmartlock, old, repl, 1)
}

// withState replaces the whole state object of goodSmartlock.
func withState(state string) string {
	start := strings.Index(goodSmartlock, `"state":{`) + len(`"state":`)
	end := start + strings.Index(goodSmartlock[start:], "}") + 1
	return goodSmartlock[:start] + state + goodSmartlock[end:]
}

func TestValidDocumentPasses(t *testing.T) {
	t.Parallel()
	assert.Empty(t, validate(t, "Smartlock", goodSmartlock, apispec.Options{}))
	assert.Empty(t, validate(t, "Smartlock", goodSmartlock, apispec.Options{Direction: apispec.DirRequest}))
}

func TestWrongDocumentsFail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		kind       apispec.Kind
		at, field  string
	}{
		{"string for integer", with(`"type":4`, `"type":"4"`), apispec.Type, "$.type", "Smartlock.type"},
		{"fraction for integer", with(`"type":4`, `"type":4.5`), apispec.Type, "$.type", "Smartlock.type"},
		{"number for string", with(`"name":"Front door"`, `"name":5`), apispec.Type, "$.name", "Smartlock.name"},
		{"string for boolean", with(`"favorite":false`, `"favorite":"false"`), apispec.Type, "$.favorite", "Smartlock.favorite"},
		{"array for object", withState("[]"), apispec.Type, "$.state", "Smartlock.State"},
		{"string for number", with(`"latitude":47.07`, `"latitude":"47.07"`), apispec.Type, "$.config.latitude", "Smartlock.Config.latitude"},
		{"unknown key (typo)", with(`"smartDoor":false`, `"smartdoor":false`), apispec.Unknown, "$.smartdoor", "Smartlock.smartdoor"},
		{"unknown nested key", with(`"nightMode":false`, `"nightMode":false,"night":true`), apispec.Unknown, "$.state.night", "Smartlock.State.night"},
		{"missing required", with(`"favorite":false,`, ``), apispec.Missing, "$.favorite", "Smartlock.favorite"},
		{"missing nested required", with(`"nightMode":false`, `"operationId":"x"`), apispec.Missing, "$.state.nightMode", "Smartlock.State.nightMode"},
		{"above maximum", with(`"serverState":0`, `"serverState":5`), apispec.Range, "$.serverState", "Smartlock.serverState"},
		{"below minimum", with(`"batteryCharge":84`, `"batteryCharge":-1`), apispec.Range, "$.state.batteryCharge", "Smartlock.State.batteryCharge"},
		{"beyond int32", with(`"accountId":7`, `"accountId":4294967296`), apispec.Range, "$.accountId", "Smartlock.accountId"},
		{"not a date-time", with(`"creationDate":"2025-01-16T12:20:23.541Z"`, `"creationDate":"16.01.2025"`), apispec.Format, "$.creationDate", "Smartlock.creationDate"},
		{"null in a response", with(`"firmwareVersion":199175`, `"firmwareVersion":null`), apispec.Null, "$.firmwareVersion", "Smartlock.firmwareVersion"},
		{"not JSON", `{"smartlockId":`, apispec.Invalid, "$", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := validate(t, "Smartlock", tc.body, apispec.Options{})
			require.Len(t, ps, 1, "%v", ps)
			assert.Equal(t, tc.kind, ps[0].Kind, ps[0].String())
			assert.Equal(t, tc.at, ps[0].At)
			assert.Equal(t, tc.field, ps[0].Field)
		})
	}
}

func TestEnumAndArrays(t *testing.T) {
	t.Parallel()
	ps := validate(t, "MyAccount", `{"accountId":1,"type":0,"email":"a@example.com","name":"A","creationDate":"2025-01-16T12:20:23.541Z","updateDate":"2025-01-16T12:20:23.541Z","shsSubscriptionType":"GOLD"}`, apispec.Options{})
	require.Len(t, ps, 1)
	assert.Equal(t, apispec.Enum, ps[0].Kind)
	assert.Equal(t, "MyAccount.shsSubscriptionType", ps[0].Field)
	assert.Contains(t, ps[0].Msg, `"BUSINESS"`)

	// Integer enums compare by value.
	partial := apispec.Options{Partial: true}
	ps = validate(t, "Smartlock.AdvancedConfig", `{"totalDegrees":900,"batteryType":0,"lngTimeout":20}`, partial)
	assert.Empty(t, ps)
	ps = validate(t, "Smartlock.AdvancedConfig", `{"totalDegrees":900,"batteryType":0,"lngTimeout":25}`, partial)
	require.Len(t, ps, 1)
	assert.Equal(t, apispec.Enum, ps[0].Kind)

	// Items are checked, each at its index, by the definition they refer to.
	s := load(t)
	list := &apispec.Schema{Type: "array", Items: &apispec.Schema{Ref: "#/definitions/Smartlock"}}
	ps = s.Validate(list, []byte("["+goodSmartlock+","+with(`"authId":1,`, ``)+"]"), apispec.Options{})
	require.Len(t, ps, 1)
	assert.Equal(t, "$[1].authId", ps[0].At)
	assert.Equal(t, "Smartlock.authId", ps[0].Field)
	ps = s.Validate(list, []byte(goodSmartlock), apispec.Options{})
	require.Len(t, ps, 1)
	assert.Equal(t, apispec.Type, ps[0].Kind)
}

func TestOptions(t *testing.T) {
	t.Parallel()
	noFavorite := with(`"favorite":false,`, ``)
	assert.Empty(t, validate(t, "Smartlock", noFavorite, apispec.Options{AllowMissing: map[string]bool{"Smartlock.favorite": true}}))
	assert.Empty(t, validate(t, "Smartlock", noFavorite, apispec.Options{Partial: true}))
	assert.Len(t, validate(t, "Smartlock", noFavorite, apispec.Options{AllowMissing: map[string]bool{"Smartlock.State.favorite": true}}), 1)

	// AllowValue lifts the bounds, not the type.
	allow := apispec.Options{AllowValue: map[string]bool{"Smartlock.State.trigger": true}}
	assert.Len(t, validate(t, "Smartlock", with(`"trigger":0`, `"trigger":7`), apispec.Options{}), 1)
	assert.Empty(t, validate(t, "Smartlock", with(`"trigger":0`, `"trigger":7`), allow))
	assert.Len(t, validate(t, "Smartlock", with(`"trigger":0`, `"trigger":"7"`), allow), 1)

	// A request may clear a field with null.
	assert.Empty(t, validate(t, "Smartlock", with(`"firmwareVersion":199175`, `"firmwareVersion":null`), apispec.Options{Direction: apispec.DirRequest}))
}

func TestAssertResponse(t *testing.T) {
	t.Parallel()
	r := &recorder{TB: t}
	assert.True(t, apispec.AssertResponse(r, "GET", "/smartlock", 200, "["+goodSmartlock+"]"), r.failed())
	assert.True(t, apispec.AssertResponse(r, "GET", "/smartlock/:smartlockId", 200, []byte(goodSmartlock)), "Echo's path form works")
	assert.True(t, apispec.AssertResponse(r, "POST", "/smartlock/{smartlockId}/action", 204, ""))
	assert.True(t, apispec.AssertResponse(r, "GET", "/smartlock/{smartlockId}", 404, `{"detailMessage":"Smartlock not found"}`), "error bodies are not described")
	require.Empty(t, r.errs)

	for _, tc := range []struct {
		name   string
		call   func(testing.TB) bool
		expect string
	}{
		{"wrong shape", func(t testing.TB) bool {
			return apispec.AssertResponse(t, "GET", "/smartlock", 200, "["+with(`"authId":1,`, ``)+"]")
		}, `apispec.AllowMissing("Smartlock.authId", "why")`},
		{"not an array", func(t testing.TB) bool { return apispec.AssertResponse(t, "GET", "/smartlock", 200, goodSmartlock) }, "want array"},
		{"undocumented status", func(t testing.TB) bool {
			return apispec.AssertResponse(t, "POST", "/smartlock/{smartlockId}/action", 404, "")
		}, "does not document (it lists 204, 400, 401, 402)"},
		{"body on a 204", func(t testing.TB) bool {
			return apispec.AssertResponse(t, "POST", "/smartlock/{smartlockId}/sync", 204, "{}")
		}, "declares no body"},
		{"unknown path", func(t testing.TB) bool { return apispec.AssertStatus(t, "GET", "/smartlocks", 200) }, "no path /smartlocks"},
		{"unknown method", func(t testing.TB) bool { return apispec.AssertStatus(t, "PATCH", "/smartlock", 200) }, "no PATCH /smartlock"},
		{"allowance without reason", func(t testing.TB) bool {
			return apispec.AssertResponse(t, "GET", "/smartlock", 200, "[]", apispec.AllowMissing("Smartlock.authId", " "))
		}, "needs a reason"},
		{"unknown definition", func(t testing.TB) bool { return apispec.AssertDefinition(t, "Smartlocks", "{}") }, "no definition"},
		{"request with a typo", func(t testing.TB) bool {
			return apispec.AssertRequest(t, "POST", "/smartlock/{smartlockId}/action", `{"acton":1}`)
		}, `"acton" is not a property of SmartlockAction`},
		{"request out of range", func(t testing.TB) bool {
			return apispec.AssertRequest(t, "POST", "/smartlock/{smartlockId}/action", `{"action":9}`)
		}, "above the maximum 7"},
		{"request to an operation without body", func(t testing.TB) bool {
			return apispec.AssertRequest(t, "POST", "/smartlock/{smartlockId}/sync", `{}`)
		}, "takes no body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			assert.False(t, tc.call(r))
			assert.Contains(t, r.failed(), tc.expect)
		})
	}

	r = &recorder{TB: t}
	assert.True(t, apispec.AssertResponse(r, "POST", "/smartlock/{smartlockId}/action", 404, "", apispec.AllowStatus(404, "the real API answers it")))
	assert.True(t, apispec.AssertDefinition(r, "[]#/definitions/Smartlock", "["+goodSmartlock+"]"))
	assert.True(t, apispec.AssertRequest(r, "POST", "/smartlock/{smartlockId}/config", `{"name":"Front door"}`, apispec.PartialUpdate()))
	assert.True(t, apispec.AssertRequest(r, "POST", "/smartlock/{smartlockId}", `{"name":"Front door","favorite":true}`))
	assert.Empty(t, r.errs)
}

// Every reference in the embedded specification resolves and every type is one the validator
// knows, so a failure always means the body, never the copy of the specification.
func TestSpecificationIsComplete(t *testing.T) {
	t.Parallel()
	s := load(t)
	assert.Len(t, s.Paths, 67)
	ops := 0
	var walk func(where string, sc *apispec.Schema)
	walk = func(where string, sc *apispec.Schema) {
		if sc == nil {
			return
		}
		if sc.Ref != "" {
			_, err := s.Definition(sc.Ref)
			assert.NoError(t, err, where)
			assert.True(t, strings.HasPrefix(sc.Ref, "#/definitions/"), where)
		}
		switch sc.Type {
		case "", "object", "array", "integer", "number", "string", "boolean":
		default:
			t.Errorf("%s: type %q", where, sc.Type)
		}
		for k, p := range sc.Properties {
			walk(where+"."+k, p)
		}
		walk(where+"[]", sc.Items)
		if sc.AdditionalProperties != nil {
			walk(where+".*", sc.AdditionalProperties.Schema)
		}
	}
	for name, d := range s.Definitions {
		walk(name, d)
	}
	for path, m := range s.Paths {
		for method, op := range m {
			ops++
			walk(method+" "+path+" body", op.BodySchema())
			for code, r := range op.Responses {
				walk(method+" "+path+" "+code, r.Schema)
			}
		}
	}
	assert.Equal(t, 104, ops)
}

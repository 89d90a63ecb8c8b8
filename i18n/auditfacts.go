package i18n

import (
	"fmt"
	"math"
	"strings"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"

	"portier/models"
)

// AuditFacts renders the facts of an audit row (as stored: decoded from JSON) in the locale's
// language and time zone, and reports whether the catalogue had every message it needed. The
// audit trail page renders them for its reader, and the store renders them in English for the
// row's detail when it writes them: one rendering for both.
func (l *Locale) AuditFacts(f models.AuditFacts) (string, bool) {
	if f.Key == "" {
		return "", false
	}
	args := Args{}
	ok := true
	for name, v := range f.Args {
		s, found := l.auditFact(v)
		args[name] = s
		ok = ok && found
	}
	cfg := &goi18n.LocalizeConfig{MessageID: f.Key, TemplateData: map[string]any(args)}
	if n, isNumber := f.Args["Count"].(float64); isNumber {
		count := int(n)
		cfg.PluralCount = count
		args["Count"] = count
	}
	s, found := l.localizeFound(cfg)
	return s, ok && found
}

// auditFact renders one argument of audit facts (see models.AuditFacts).
func (l *Locale) auditFact(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return fmt.Sprintf("%d", int64(v)), true
		}
		return fmt.Sprint(v), true
	case bool:
		return fmt.Sprint(v), true
	case []any:
		parts := make([]string, 0, len(v))
		sep, ok := ", ", true
		for _, x := range v {
			s, found := l.auditFact(x)
			parts = append(parts, s)
			ok = ok && found
			if phrase, isPhrase := x.(map[string]any); isPhrase && phrase["args"] != nil {
				sep = "; " // clauses may hold commas of their own
			}
		}
		return strings.Join(parts, sep), ok
	case map[string]any:
		if at, isTime := v["time"].(string); isTime {
			t, err := time.Parse(time.RFC3339, at)
			if err != nil {
				return at, false
			}
			return l.DateTime(t), true
		}
		key, _ := v["key"].(string)
		args, _ := v["args"].(map[string]any)
		return l.AuditFacts(models.AuditFacts{Key: key, Args: args})
	}
	return fmt.Sprint(v), false
}

// Package i18n is Portier's one message catalogue (go-i18n with TOML files: English and German
// for every page and email, six more languages for invitation emails only) and the locale of a
// request: the language and time zone that every page and email follows.
package i18n

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // time zones work on machines without /usr/share/zoneinfo

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.toml
var localeFiles embed.FS

//go:embed zones.txt
var zonesFile string

// Zones lists the IANA time zones a login can choose, UTC first.
var Zones = sync.OnceValue(func() []string {
	var zones []string
	for _, line := range strings.Split(zonesFile, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			zones = append(zones, line)
		}
	}
	return zones
})

// Language is a UI language Portier offers.
type Language struct {
	Code string // BCP 47, as stored on the login
	Name string // in the language itself
}

// Languages lists the offered UI languages; English is the default and the fallback.
var Languages = []Language{{Code: "en", Name: "English"}, {Code: "de", Name: "Deutsch"}}

// Default is the language of a request that names none we offer.
const Default = "en"

// Supported reports whether code is one of Languages.
func Supported(code string) bool {
	for _, l := range Languages {
		if l.Code == code {
			return true
		}
	}
	return false
}

// EmailLanguages lists the languages an invitation email can be written in (PRODUCT.md U4): the
// UI languages, and six whose catalogues hold only what an invitation email says. Their other
// messages fall back to English, and the UI is not offered in them (Supported, Match, New).
var EmailLanguages = []Language{
	{Code: "en", Name: "English"}, {Code: "de", Name: "Deutsch"}, {Code: "es", Name: "Español"},
	{Code: "fr", Name: "Français"}, {Code: "it", Name: "Italiano"}, {Code: "nl", Name: "Nederlands"},
	{Code: "cs", Name: "Čeština"}, {Code: "sk", Name: "Slovenčina"},
}

// EmailSupported reports whether code is one of EmailLanguages.
func EmailSupported(code string) bool {
	for _, l := range EmailLanguages {
		if l.Code == code {
			return true
		}
	}
	return false
}

// numericDates are the date layouts of the email-only languages. Their catalogues have no month
// names or date formats, and falling back to English would put "Mar" into a Czech sentence, so
// their dates are written as numbers the way each language writes them.
var numericDates = map[string]struct{ date, dateTime string }{
	"es": {"02/01/2006", "02/01/2006 15:04"},
	"fr": {"02/01/2006", "02/01/2006 15:04"},
	"it": {"02/01/2006", "02/01/2006 15:04"},
	"nl": {"02-01-2006", "02-01-2006 15:04"},
	"cs": {"2. 1. 2006", "2. 1. 2006 15:04"},
	"sk": {"2. 1. 2006", "2. 1. 2006 15:04"},
}

// The catalogue is embedded data, parsed once on first use.
var catalogue = sync.OnceValues(func() (*goi18n.Bundle, error) {
	b := goi18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	loaded := map[string]bool{}
	for _, l := range append(append([]Language{}, Languages...), EmailLanguages...) {
		if loaded[l.Code] {
			continue
		}
		loaded[l.Code] = true
		name := "locales/" + l.Code + ".toml"
		buf, err := localeFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		if _, err := b.ParseMessageFileBytes(buf, name); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return b, nil
})

// Load parses the catalogue; main calls it at start so a broken catalogue stops the binary
// instead of a page.
func Load() error {
	_, err := catalogue()
	return err
}

// Locale is the language and time zone a page or an email is written for.
type Locale struct {
	Lang string
	Zone *time.Location
	loc  *goi18n.Localizer
	// texts are the messages without arguments looked up so far (id → text): a page asks for
	// the same labels again and again, and the catalogue never changes.
	texts *sync.Map
}

// New returns the locale of a page (or an email to a login) for a UI language code and an IANA
// time zone name; unknown values fall back to English and UTC.
func New(lang, zone string) *Locale {
	if !Supported(lang) {
		lang = Default
	}
	return newLocale(lang, zone)
}

// NewEmail returns the locale of an invitation email: like New, but it accepts every one of
// EmailLanguages.
func NewEmail(lang, zone string) *Locale {
	if !EmailSupported(lang) {
		lang = Default
	}
	return newLocale(lang, zone)
}

func newLocale(lang, zone string) *Locale {
	key := lang + "\x00" + zone
	if l, ok := locales.Load(key); ok {
		return l.(*Locale)
	}
	tz, err := time.LoadLocation(zone)
	if err != nil || zone == "" {
		tz = time.UTC
	}
	b, err := catalogue()
	if err != nil {
		panic(err) // Load at start has already reported this; the embedded files are broken
	}
	l := &Locale{Lang: lang, Zone: tz, loc: goi18n.NewLocalizer(b, lang, Default), texts: new(sync.Map)}
	if localeCount.Load() < maxLocales {
		if _, loaded := locales.LoadOrStore(key, l); !loaded {
			localeCount.Add(1)
		}
	}
	return l
}

// locales are the locales made so far, by language and zone name: every request makes one or
// two (the browser's, the login's), and a new one parses the language tags and loads the zone
// (from the zoneinfo files). A Locale is never changed once made, so one can serve every
// request. The languages are few and the zones a login can choose are listed (Zones); the
// count only guards against names that are neither.
var (
	locales     sync.Map // string → *Locale
	localeCount atomic.Int64
)

const maxLocales = 4096

// matcher picks among the offered languages (safe for concurrent use).
var matcher = sync.OnceValue(func() language.Matcher {
	offered := make([]language.Tag, len(Languages))
	for i, l := range Languages {
		offered[i] = language.Make(l.Code)
	}
	return language.NewMatcher(offered)
})

// Match picks the offered language for an Accept-Language header.
func Match(acceptLanguage string) string {
	if strings.TrimSpace(acceptLanguage) == "" {
		return Default
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Default
	}
	_, idx, conf := matcher().Match(tags...)
	if conf == language.No {
		return Default
	}
	return Languages[idx].Code
}

// Args are the values a message refers to as {{.Name}}.
type Args map[string]any

// T returns the message id in this locale. A missing message shows its id, which a test
// (catalogue_test.go) prevents from ever reaching a person.
func (l *Locale) T(id string, args ...Args) string {
	if id == "" {
		return "" // an unset message (no error on a field, say) stays empty
	}
	if len(args) > 0 {
		return l.localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: map[string]any(args[0])})
	}
	if l.texts == nil { // a copy of a Locale made otherwise (a test)
		return l.localize(&goi18n.LocalizeConfig{MessageID: id})
	}
	if s, ok := l.texts.Load(id); ok {
		return s.(string)
	}
	s, found := l.localizeFound(&goi18n.LocalizeConfig{MessageID: id})
	if found { // only the catalogue's ids: the cache cannot grow past it
		l.texts.Store(id, s)
	}
	return s
}

// localize renders a message, or returns its id when the catalogue cannot. A message that an
// email-only catalogue lacks comes from English: go-i18n falls back to it but still reports the
// message as not found in the requested language, which is no failure for those languages. The
// UI languages keep showing the id, so that a gap in de.toml stays loud in tests.
func (l *Locale) localize(cfg *goi18n.LocalizeConfig) string {
	s, _ := l.localizeFound(cfg)
	return s
}

// localizeFound is localize, and whether the message was found.
func (l *Locale) localizeFound(cfg *goi18n.LocalizeConfig) (string, bool) {
	s, tag, err := l.loc.LocalizeWithTag(cfg)
	var notFound *goi18n.MessageNotFoundErr
	if err != nil && !(!Supported(l.Lang) && errors.As(err, &notFound) && tag == language.English) {
		return cfg.MessageID, false
	}
	return s, true
}

// Has reports whether id is a message of the catalogue (tests use it to find raw ids on pages).
func Has(id string) bool {
	b, err := catalogue()
	if err != nil {
		return false
	}
	_, err = goi18n.NewLocalizer(b, Default).Localize(&goi18n.LocalizeConfig{MessageID: id})
	var notFound *goi18n.MessageNotFoundErr
	return !errors.As(err, &notFound)
}

// N returns the plural form of message id for count; {{.Count}} is set.
func (l *Locale) N(id string, count int, args ...Args) string {
	data := map[string]any{"Count": count}
	if len(args) > 0 {
		for k, v := range args[0] {
			data[k] = v
		}
	}
	return l.localize(&goi18n.LocalizeConfig{MessageID: id, PluralCount: count, TemplateData: data})
}

// Date formats a day, e.g. "2 March 2026", "2. März 2026" or "2. 3. 2026", in the locale's time
// zone.
func (l *Locale) Date(t time.Time) string {
	t = t.In(l.Zone)
	if f, ok := numericDates[l.Lang]; ok {
		return t.Format(f.date)
	}
	return l.T("format.date", Args{"Day": t.Day(), "Month": l.T(fmt.Sprintf("month.long.%d", t.Month())), "Year": t.Year()})
}

// DateTime formats a moment, e.g. "2 Mar 2026, 09:00", "02.03.2026, 09:00" or "02/03/2026 09:00".
func (l *Locale) DateTime(t time.Time) string {
	t = t.In(l.Zone)
	if f, ok := numericDates[l.Lang]; ok {
		return t.Format(f.dateTime)
	}
	return l.T("format.datetime", Args{
		"Day": t.Day(), "Day2": fmt.Sprintf("%02d", t.Day()), "Month": l.T(fmt.Sprintf("month.short.%d", t.Month())),
		"Month2": fmt.Sprintf("%02d", int(t.Month())), "Year": t.Year(), "Time": t.Format("15:04"),
	})
}

// ZoneName is the name of the locale's time zone as shown next to times, e.g. "UTC" or
// "Europe/Berlin".
func (l *Locale) ZoneName() string { return l.Zone.String() }

type ctxKey struct{}

// WithLocale returns ctx carrying l.
func WithLocale(ctx context.Context, l *Locale) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From returns the locale in ctx, or English and UTC.
func From(ctx context.Context) *Locale {
	if l, ok := ctx.Value(ctxKey{}).(*Locale); ok {
		return l
	}
	return New(Default, "UTC")
}

// T translates id in the locale of ctx: the form templ views use.
func T(ctx context.Context, id string, args ...Args) string { return From(ctx).T(id, args...) }

// N is the plural form of T.
func N(ctx context.Context, id string, count int, args ...Args) string {
	return From(ctx).N(id, count, args...)
}

// IsZone reports whether name is one of Zones.
func IsZone(name string) bool {
	for _, z := range Zones() {
		if z == name {
			return true
		}
	}
	return false
}

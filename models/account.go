package models

import (
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// AccountKind is what an account (tenant) manages: a web account or a Nuki Box account.
type AccountKind string

const (
	AccountWeb AccountKind = "web"
	AccountBox AccountKind = "box"
)

// ParseAccountKind accepts "web" or "box".
func ParseAccountKind(s string) (AccountKind, bool) {
	switch AccountKind(strings.ToLower(strings.TrimSpace(s))) {
	case AccountWeb:
		return AccountWeb, true
	case AccountBox:
		return AccountBox, true
	}
	return "", false
}

// LabelKey is the message key of the kind as a person reads it.
func (k AccountKind) LabelKey() string {
	if k == AccountBox {
		return "kind.box"
	}
	return "kind.web"
}

// APIType is the Nuki Web API account type: 0 user, 1 company, 2 caretaker.
// A box account manages buildings for others, which Nuki calls a caretaker.
func (k AccountKind) APIType() int {
	if k == AccountBox {
		return 2
	}
	return 0
}

// Account is a tenant: everything it owns is isolated from every other account.
type Account struct {
	ID        int64
	Kind      AccountKind
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Login is a person who signs in to an account: its main login or a sub-account.
type Login struct {
	ID          int64
	AccountID   int64
	Email       string
	Name        string
	IsMain      bool
	Rights      Rights
	Language    string
	TimeZone    string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	LastLoginAt *time.Time
	// TwoFactorSince is when TOTP two-factor authentication was turned on (nil: off).
	TwoFactorSince *time.Time
	// DevicesView ("tiles" or "list") and DevicesSort ("name" or "added") are how the login
	// last looked at the devices page.
	DevicesView string
	DevicesSort string
	// AccountUserID is set on a web-key holder: a person who accepted an invitation (PRODUCT.md
	// U6). Such a login operates that person's permitted devices on /key and nothing else.
	AccountUserID *int64
	// Staff is set on a staff member of a partner company: AccountUserID is the company, whose
	// permissions the login operates and whose name the activity log shows.
	Staff bool
	// Limited is set on a sub-account that sees only DeviceIDs (PRODUCT.md R2); otherwise it
	// sees every device of the account, also the ones added later.
	Limited   bool
	DeviceIDs []int64
	// CreatedBy is the login that made this sub-account (nil: a main login, or its creator
	// was deleted).
	CreatedBy *int64
}

// WebKey reports whether the login is a web-key holder rather than an admin login.
func (l Login) WebKey() bool { return l.AccountUserID != nil }

// TwoFactor reports whether signing in needs a TOTP or recovery code after the password.
func (l Login) TwoFactor() bool { return l.TwoFactorSince != nil }

// EffectiveRights are what the login may do: the main login may do everything.
func (l Login) EffectiveRights() Rights {
	if l.WebKey() {
		return 0
	}
	if l.IsMain {
		return RightsAll
	}
	return l.Rights
}

// SeesAllDevices reports whether the login sees every device of its account.
func (l Login) SeesAllDevices() bool { return l.IsMain || !l.Limited }

// SeesDevice reports whether the login may see device id at all (its state, log, users'
// permissions on it). What it may do with it is a matter of its rights.
func (l Login) SeesDevice(id int64) bool {
	return l.SeesAllDevices() || slices.Contains(l.DeviceIDs, id)
}

// DeviceRestriction is the device-id restriction of store queries for what the login may see
// (LogFilter.DeviceIDs and the like): nil when it sees every device, else the devices it is
// limited to (empty, never nil, when that is none).
func (l Login) DeviceRestriction() []int64 {
	if l.SeesAllDevices() {
		return nil
	}
	return append([]int64{}, l.DeviceIDs...)
}

// VisibleDevices keeps, in order, the devices of ds the login sees.
func (l Login) VisibleDevices(ds []Device) []Device {
	if l.SeesAllDevices() {
		return ds
	}
	out := make([]Device, 0, len(ds))
	for _, d := range ds {
		if l.SeesDevice(d.ID) {
			out = append(out, d)
		}
	}
	return out
}

// Grant is what a login holds and can hand on to a sub-account it makes or edits.
func (l Login) Grant() Grant {
	g := Grant{Rights: l.EffectiveRights()}
	if !l.SeesAllDevices() {
		g.Limited, g.DeviceIDs = true, slices.Clone(l.DeviceIDs)
	}
	return g
}

// NewAccount is the input of the setup page, the sign-up page and `portier accounts create`.
type NewAccount struct {
	Kind        AccountKind
	AccountName string
	Name        string
	Email       string
	Password    string
	Language    string // of the main login; "" is English
}

// Normalize trims the text fields and lower-cases the email.
func (n *NewAccount) Normalize() {
	n.AccountName = strings.TrimSpace(n.AccountName)
	n.Name = strings.TrimSpace(n.Name)
	n.Email = NormalizeEmail(n.Email)
	if n.AccountName == "" {
		n.AccountName = n.Name
	}
}

// Validate checks every field and returns ValidationErrors keyed by field.
func (n NewAccount) Validate() error {
	errs := ValidationErrors{}
	if n.Kind != AccountWeb && n.Kind != AccountBox {
		errs.Add("kind", "invalid.kind")
	}
	if msg := ValidateName(n.AccountName); msg != "" {
		errs.Add("account_name", msg)
	}
	if msg := ValidateName(n.Name); msg != "" {
		errs.Add("name", msg)
	}
	if msg := ValidateEmail(n.Email); msg != "" {
		errs.Add("email", msg)
	}
	if msg := ValidatePassword(n.Password, n.Email); msg != "" {
		errs.Add("password", msg)
	}
	return errs.OrNil()
}

// NormalizeEmail trims and lower-cases an email address.
func NormalizeEmail(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// ValidateEmail returns a message key when s is not a plain address like anna@example.com.
func ValidateEmail(s string) string {
	if s == "" {
		return "invalid.email_required"
	}
	if len(s) > 254 {
		return "invalid.email_too_long"
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || !strings.Contains(s[strings.LastIndex(s, "@")+1:], ".") {
		return "invalid.email_format"
	}
	return ""
}

// ValidateName returns a message key when a display name is empty or too long.
func ValidateName(s string) string {
	if s == "" {
		return "invalid.name_required"
	}
	if utf8.RuneCountInString(s) > 100 {
		return "invalid.name_too_long"
	}
	if strings.ContainsAny(s, "\x00\r\n") {
		return "invalid.name_control"
	}
	return ""
}

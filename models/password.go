package models

import (
	_ "embed"
	"strings"
	"unicode/utf8"
)

// Password length limits (characters): no composition rules, as OWASP ASVS asks.
const (
	PasswordMinLength = 8
	PasswordMaxLength = 1024
)

//go:embed common_passwords.txt
var commonPasswordsText string

var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonPasswordsText, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			m[strings.ToLower(line)] = true
		}
	}
	return m
}()

// ValidatePassword returns a message key when a new password is too short, too long, common, or
// the login's own email address; "" when it is acceptable.
func ValidatePassword(pw, email string) string {
	if !utf8.ValidString(pw) {
		return "invalid.password_encoding"
	}
	n := utf8.RuneCountInString(pw)
	if n < PasswordMinLength {
		return "invalid.password_short"
	}
	if n > PasswordMaxLength {
		return "invalid.password_long"
	}
	lower := strings.ToLower(pw)
	if commonPasswords[lower] {
		return "invalid.password_common"
	}
	if email != "" && lower == strings.ToLower(email) {
		return "invalid.password_email"
	}
	return ""
}

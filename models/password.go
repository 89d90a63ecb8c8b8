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

// ValidatePassword returns a message when a new password is too short, too long, common, or
// the login's own email address; "" when it is acceptable.
func ValidatePassword(pw, email string) string {
	if !utf8.ValidString(pw) {
		return "The password contains characters that cannot be read."
	}
	n := utf8.RuneCountInString(pw)
	if n < PasswordMinLength {
		return "Use at least 8 characters."
	}
	if n > PasswordMaxLength {
		return "Use at most 1024 characters."
	}
	lower := strings.ToLower(pw)
	if commonPasswords[lower] {
		return "This password is one of the most common ones. Choose another."
	}
	if email != "" && lower == strings.ToLower(email) {
		return "Do not use your email address as the password."
	}
	return ""
}

package models

import (
	"errors"
	"strings"
)

// RightsInOrder are the single rights in the order of the rights table (PRODUCT.md R1), as
// rights management lists them.
var RightsInOrder = []Rights{RightAddDevices, RightManageDevices, RightOperateDevices, RightDeviceConfig,
	RightAuthorizations, RightActivityLog, RightRightsManagement}

// Valid reports whether r is a rights mask: 0 to RightsAll.
func (r Rights) Valid() bool { return r >= 0 && r <= RightsAll }

// Key names one right in message keys ("rights.right.<key>") and form values.
func (r Rights) Key() string {
	switch r {
	case RightManageDevices:
		return "manage_devices"
	case RightOperateDevices:
		return "operate_devices"
	case RightDeviceConfig:
		return "device_config"
	case RightAuthorizations:
		return "authorizations"
	case RightActivityLog:
		return "activity_log"
	case RightRightsManagement:
		return "rights_management"
	case RightAddDevices:
		return "add_devices"
	}
	return ""
}

// Describe names the rights of a mask in English for the audit trail and API messages:
// "all (admin)", "none", or the single rights in table order.
func (r Rights) Describe() string {
	switch {
	case r == RightsAll:
		return "all (admin)"
	case r == 0:
		return "none"
	}
	var names []string
	for _, one := range RightsInOrder {
		if r.Has(one) {
			names = append(names, strings.ReplaceAll(one.Key(), "_", " "))
		}
	}
	return strings.Join(names, ", ")
}

// ErrNotManageable is returned when a login asks to change or delete a login it may not
// manage (CanManageLogin): itself, or one holding more than it does.
var ErrNotManageable = errors.New("this login may not change that login")

// SubAccountInput is a new sub-account as Settings → Rights management and PUT /account/sub
// ask for it (PRODUCT.md R1).
type SubAccountInput struct {
	Email    string
	Name     string
	Language string
	// Password is typed by the creator; "" sends the new login an email with a link to set
	// its own.
	Password string
	Grant    Grant
}

// Normalize trims the name and lower-cases the email.
func (in *SubAccountInput) Normalize() {
	in.Email = NormalizeEmail(in.Email)
	in.Name = strings.TrimSpace(in.Name)
}

// Validate checks the fields a person types; the language (a catalogue matter) and whether
// the grant is the creator's to give are the caller's.
func (in SubAccountInput) Validate() ValidationErrors {
	errs := ValidationErrors{}
	if msg := ValidateEmail(in.Email); msg != "" {
		errs.Add("email", msg)
	}
	if msg := ValidateName(in.Name); msg != "" {
		errs.Add("name", msg)
	}
	if in.Password != "" {
		if msg := ValidatePassword(in.Password, in.Email); msg != "" {
			errs.Add("password", msg)
		}
	}
	validateGrant(errs, in.Grant)
	return errs
}

func validateGrant(errs ValidationErrors, g Grant) {
	if !g.Rights.Valid() {
		errs.Add("rights", "invalid.rights")
	}
	if g.Limited && len(g.DeviceIDs) == 0 {
		errs.Add("devices", "invalid.grant_no_device")
	}
}

// SubAccountChange is an edit of a sub-account: nil fields stay as they are.
type SubAccountChange struct {
	Name     *string
	Language *string
	Email    *string
	Password *string // a new password set for the login (the API's AccountSubUpdate)
	Grant    *Grant
}

// Normalize trims the name and lower-cases the email.
func (ch *SubAccountChange) Normalize() {
	if ch.Name != nil {
		n := strings.TrimSpace(*ch.Name)
		ch.Name = &n
	}
	if ch.Email != nil {
		e := NormalizeEmail(*ch.Email)
		ch.Email = &e
	}
}

// Validate checks the fields given; email is the login's address after the change (for the
// password rule that a password is not the email).
func (ch SubAccountChange) Validate(email string) ValidationErrors {
	errs := ValidationErrors{}
	if ch.Email != nil {
		email = *ch.Email
		if msg := ValidateEmail(email); msg != "" {
			errs.Add("email", msg)
		}
	}
	if ch.Name != nil {
		if msg := ValidateName(*ch.Name); msg != "" {
			errs.Add("name", msg)
		}
	}
	if ch.Password != nil {
		if msg := ValidatePassword(*ch.Password, email); msg != "" {
			errs.Add("password", msg)
		}
	}
	if ch.Grant != nil {
		validateGrant(errs, *ch.Grant)
	}
	return errs
}

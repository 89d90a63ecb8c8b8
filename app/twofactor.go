package app

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"portier/auth"
	"portier/db"
	"portier/models"
	"portier/notify"
)

// A login's second factor: a TOTP secret (sealed with the key outside the database) and 10
// recovery codes (stored as MACs, each usable once).

// TOTPContext binds a login's sealed TOTP secret to the login.
func TOTPContext(loginID int64) string { return "totp:login:" + strconv.FormatInt(loginID, 10) }

// recoveryContext binds a login's recovery code MACs to the login.
func recoveryContext(loginID int64) string { return "recovery:login:" + strconv.FormatInt(loginID, 10) }

// CodeShapeError is the message key for a code typed as digits that is no 6-digit
// authenticator code (a digit missing or one too many), "" for any other: such a code is not
// tried, so it costs no attempt, and the person is told what is wrong rather than "not right".
func CodeShapeError(code string) string {
	digits := strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if isDigits(digits) && len(digits) != 6 {
		return "twofactor.code_digits"
	}
	return ""
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// VerifySecondFactor checks a TOTP code (6 digits) or a recovery code of login and uses it up
// (a code works once, also under concurrent requests). It reports which kind worked, as the
// audit trail names it.
func (a *App) VerifySecondFactor(ctx context.Context, login models.Login, code string) (method string, ok bool, err error) {
	code = strings.TrimSpace(code)
	if isDigits(strings.ReplaceAll(code, " ", "")) {
		code = strings.ReplaceAll(code, " ", "")
		sealed, err := a.Store.FindTwoFactorSecret(ctx, login.ID)
		if errors.Is(err, models.ErrNotFound) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		secret, err := a.Secrets.Open(sealed, TOTPContext(login.ID))
		if err != nil {
			return "", false, err
		}
		step, ok := auth.MatchTOTP(string(secret), code, a.Now())
		if !ok {
			return "", false, nil
		}
		used, err := a.Store.ConsumeTOTPStep(ctx, login.ID, step)
		return "authenticator code", used, err
	}
	norm := auth.NormalizeRecoveryCode(code)
	if norm == "" {
		return "", false, nil
	}
	used, err := a.Store.UseRecoveryCode(ctx, login.ID, a.Secrets.MAC(recoveryContext(login.ID), norm))
	return "recovery code", used, err
}

// EnableTwoFactor turns on login's second factor with secret (the enrollment's, kept by the
// caller until now) once code, a current code of it, confirms it; that code's step counts as
// used. Every other session of the login ends but keepSession, and the login is told by email.
// It returns the new recovery codes, to be shown once. A wrong code is FieldErrors{"code": …};
// two-factor already on is models.ErrConflict.
func (a *App) EnableTwoFactor(ctx context.Context, actor models.Actor, login models.Login, secret, code, keepSession string) ([]string, error) {
	if key := CodeShapeError(code); key != "" {
		return nil, FieldErrors{"code": key}
	}
	confirm := confirmThrottle(login)
	if allowed, err := a.Store.ThrottleAttempt(ctx, confirm); err != nil {
		return nil, err
	} else if !allowed {
		return nil, FieldErrors{"code": "invalid.too_many"}
	}
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	step, ok := auth.MatchTOTP(secret, code, a.Now())
	if !ok {
		if code == "" {
			return nil, FieldErrors{"code": "twofactor.code_required"}
		}
		return nil, FieldErrors{"code": "twofactor.code_wrong"}
	}
	if err := a.Store.DiscountThrottle(ctx, confirm); err != nil {
		return nil, err
	}
	codes, hashes := a.newRecoveryCodes(login)
	sealed := a.Secrets.Seal([]byte(secret), TOTPContext(login.ID))
	err := a.securityChange(ctx, actor, login, keepSession, notify.NoticeTwoFactorOn, models.AuditTwoFactorEnabled,
		models.Facts("auditfacts.two_factor_enabled"), models.EventTwoFactorEnabled,
		func(tx *db.Tx) error { return tx.EnableTwoFactor(ctx, login, sealed, step, hashes) })
	return codes, err
}

// DisableTwoFactor turns off login's second factor after checking its password and a current
// code (a TOTP or a recovery code, used up); every other session ends but keepSession and the
// login is told by email. Wrong input is FieldErrors on "password" or "code".
func (a *App) DisableTwoFactor(ctx context.Context, actor models.Actor, login models.Login, password, code, keepSession string) error {
	if errs, err := a.checkPasswordAndCode(ctx, login, password, code); err != nil || errs != nil {
		if err != nil {
			return err
		}
		return errs
	}
	return a.securityChange(ctx, actor, login, keepSession, notify.NoticeTwoFactorOff, models.AuditTwoFactorDisabled,
		models.Facts("auditfacts.two_factor_disabled"), models.EventTwoFactorDisabled,
		func(tx *db.Tx) error { return tx.DisableTwoFactor(ctx, login) })
}

// ReplaceRecoveryCodes gives login new recovery codes after checking its password and a current
// code; the old ones stop working, every other session ends but keepSession and the login is
// told by email. It returns the new codes, to be shown once. Wrong input is FieldErrors on
// "password" or "code".
func (a *App) ReplaceRecoveryCodes(ctx context.Context, actor models.Actor, login models.Login, password, code, keepSession string) ([]string, error) {
	if errs, err := a.checkPasswordAndCode(ctx, login, password, code); err != nil || errs != nil {
		if err != nil {
			return nil, err
		}
		return nil, errs
	}
	codes, hashes := a.newRecoveryCodes(login)
	err := a.securityChange(ctx, actor, login, keepSession, notify.NoticeRecoveryReplaced, models.AuditRecoveryCodesReplaced,
		models.Facts("auditfacts.recovery_codes_replaced"), models.EventRecoveryCodesReplaced,
		func(tx *db.Tx) error { return tx.ReplaceRecoveryCodes(ctx, login, hashes) })
	return codes, err
}

// checkPasswordAndCode verifies the current password and a current code for turning two-factor
// off or replacing recovery codes: nil when both are right.
func (a *App) checkPasswordAndCode(ctx context.Context, login models.Login, password, code string) (FieldErrors, error) {
	key, err := a.checkCurrentPassword(ctx, login, password)
	if err != nil {
		return nil, err
	}
	if key != "" {
		return FieldErrors{"password": key}, nil // the code is not tried (and not used up) with a wrong password
	}
	if strings.TrimSpace(code) == "" {
		return FieldErrors{"code": "twofactor.code_required"}, nil
	}
	if key := CodeShapeError(code); key != "" {
		return FieldErrors{"code": key}, nil
	}
	confirm := confirmThrottle(login)
	if allowed, err := a.Store.ThrottleAttempt(ctx, confirm); err != nil {
		return nil, err
	} else if !allowed {
		return FieldErrors{"code": "invalid.too_many"}, nil
	}
	_, ok, err := a.VerifySecondFactor(ctx, login, code)
	if err != nil {
		return nil, err
	}
	if !ok {
		return FieldErrors{"code": "twofactor.code_wrong"}, nil
	}
	return nil, a.Store.DiscountThrottle(ctx, confirm)
}

// newRecoveryCodes makes a login's recovery codes and the MACs the store keeps of them.
func (a *App) newRecoveryCodes(login models.Login) (codes, hashes []string) {
	codes = auth.NewRecoveryCodes(auth.RecoveryCodeCount)
	for _, code := range codes {
		hashes = append(hashes, a.Secrets.MAC(recoveryContext(login.ID), auth.NormalizeRecoveryCode(code)))
	}
	return codes, hashes
}

// ResetTwoFactor turns off the second factor of a login that lost its phone and recovery codes,
// on the operator's word (the command line): every session of the login ends. The operator
// tells the person; no email goes out.
func (a *App) ResetTwoFactor(ctx context.Context, actor models.Actor, login models.Login) error {
	return a.Store.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.DisableTwoFactor(ctx, login); err != nil {
			return err
		}
		if err := tx.EndOtherSessions(ctx, login, ""); err != nil {
			return err
		}
		return record(ctx, tx, actor, login.AccountID, models.AuditTwoFactorDisabled,
			models.Facts("auditfacts.two_factor_reset"), models.EventTwoFactorDisabled, loginSubject(login), nil)
	})
}

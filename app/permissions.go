package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"portier/db"
	"portier/models"
)

// Permissions of people on devices (PRODUCT.md U4, U7, U8): each change is stored as what
// Portier wants the device to hold, then the device manager sends it.

// DeviceRefused refuses a permission on one of its devices: Key is the message key of why
// (one of the KeypadWhyNot keys).
type DeviceRefused struct {
	DeviceID int64
	Key      string
}

func (e *DeviceRefused) Error() string { return fmt.Sprintf("device %d: %s", e.DeviceID, e.Key) }

// Why a device cannot take keypad codes (message keys).
const (
	KeypadNotRunning = "users.why.not_running"   // its connection is not running: whether it has a keypad is unknown
	KeypadBridge     = "users.why.bridge_keypad" // behind a Nuki Bridge, whose HTTP API cannot hold keypad codes
	KeypadNone       = "users.why.no_keypad"     // it has no keypad
)

// KeypadWhyNot says why device d cannot take keypad codes, as a message key ("" when it can).
// CreatePermissions refuses a keypad code behind a Nuki Bridge (KeypadBridge) whichever way it
// comes; the page offers keypad codes only where KeypadWhyNot is "" (the Web API, as Nuki's,
// takes a code for a device whose keypad Portier has not seen yet).
func (a *App) KeypadWhyNot(d models.Device) string {
	caps, running := a.Devices.Capabilities(d.ConnectionID)
	switch {
	case !running:
		return KeypadNotRunning
	case !caps.KeypadCodes:
		return KeypadBridge
	case d.Reported.KeypadBatteryCritical == nil: // a device reports its keypad's battery when it has one
		return KeypadNone
	}
	return ""
}

// AppNameMax is the longest name of an app or web-key permission the devices keep (the Web
// API's limit too); a keypad code's is models.KeypadNameMax.
const AppNameMax = 32

// PermissionNameMax is the longest name a device keeps for a permission of type typ.
func PermissionNameMax(typ int) int {
	if typ == models.AuthTypeKeypadCode {
		return models.KeypadNameMax
	}
	return AppNameMax
}

// Why the name of a permission is refused (message keys; NameTooLong takes {{.Max}}).
const (
	NameEmpty   = "users.error.name_empty"
	NameControl = "users.error.name_control"
	NameTooLong = "users.error.name_too_long"
)

// CheckPermissionName says what is wrong with name for a permission of type typ, as a message
// key ("" when nothing): the keypad's rules (one line, not empty) with the device's limit for
// the type. The one rule for the pages and the Web API.
func CheckPermissionName(name string, typ int) string {
	var bad models.KeypadNameError
	err := models.ValidKeypadName(name)
	switch {
	case errors.As(err, &bad) && bad.Reason == models.KeypadNameReasonEmpty:
		return NameEmpty
	case errors.As(err, &bad) && bad.Reason == models.KeypadNameReasonControl:
		return NameControl
	case utf8.RuneCountInString(name) > PermissionNameMax(typ):
		return NameTooLong
	}
	return ""
}

// The dates a permission may have: a first or last day before 2000 or more than ten years
// ahead is a typo (31 Dec 9999), not a wish. A day either side leaves room for time zones and
// for the end of the last day.
const (
	EarliestPermissionYear  = 2000
	MaxPermissionYearsAhead = 10
)

// Why a date of a permission is refused (message keys).
const (
	DateTooEarly = "users.error.date_too_early"
	DateTooLate  = "users.error.date_too_late"
)

// CheckPermissionDates says what is wrong with the dates r has, at now: the message key by
// field ("from_date", "until_date"); nil when nothing. The one rule for the pages and the Web
// API (with models.Restrictions.Validate for their order).
func CheckPermissionDates(r models.Restrictions, now time.Time) FieldErrors {
	earliest := time.Date(EarliestPermissionYear, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	latest := now.AddDate(MaxPermissionYearsAhead, 0, 1)
	errs := FieldErrors{}
	for field, t := range map[string]*time.Time{"from_date": r.AllowedFrom, "until_date": r.AllowedUntil} {
		switch {
		case t == nil:
		case t.Before(earliest):
			errs[field] = DateTooEarly
		case t.After(latest):
			errs[field] = DateTooLate
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// changedDates are the dates of r that differ from before's (the others are checked already:
// a date a device set stays as it is).
func changedDates(r, before models.Restrictions) models.Restrictions {
	var out models.Restrictions
	if r.AllowedFrom != nil && (before.AllowedFrom == nil || !r.AllowedFrom.Equal(*before.AllowedFrom)) {
		out.AllowedFrom = r.AllowedFrom
	}
	if r.AllowedUntil != nil && (before.AllowedUntil == nil || !r.AllowedUntil.Equal(*before.AllowedUntil)) {
		out.AllowedUntil = r.AllowedUntil
	}
	return out
}

// NewPermission is a permission to give one person on one or several devices.
type NewPermission struct {
	// UserID is the person; 0 makes a person of its own named Name (a keypad code made
	// through the Web API without an account user).
	UserID        int64
	Type          int // models.AuthTypeApp or models.AuthTypeKeypadCode
	Name          string
	RemoteAllowed bool
	Code          *int // keypad codes
	// Devices are the devices, each with its restrictions there: dates are moments, so "from
	// 1 March" is another moment at a door in another time zone (the pages compute each
	// device's in its own zone; the Web API, which takes moments, gives all the same).
	Devices map[int64]models.Restrictions
	// Language, for an app permission, is the language of the person's invitations from now on
	// ("" keeps theirs).
	Language string
}

// Invitation outcomes of creating an app permission.
const (
	InvitationSent    = "sent"     // an invitation went out
	InvitationActive  = "active"   // none was needed: their web key is active and opens the new devices too
	InvitationNotSent = "not_sent" // none could go: WhyNot says why
)

// PermissionsCreated is what CreatePermissions made.
type PermissionsCreated struct {
	Permissions []models.Authorization
	// Invitation is what became of the web-key invitation an app permission of a person sends
	// ("" for keypad codes); WhyNot is the message key of why none went out.
	Invitation string
	WhyNot     string
}

// CreatePermissions gives person p.UserID a permission on every device of p.Devices, with its
// restrictions there, all or nothing, and, for an app permission, invites them to their web key
// in the same transaction (PRODUCT.md U5): unless their web key is active already; an
// invitation that cannot go (no email, no remote access, beyond op's reach) is said in the
// result and is no error. Errors:
// FieldErrors{"devices"|"name"|"from_date"|"until_date": …} for no device, or a name or dates
// CheckPermissionName or CheckPermissionDates refuse; models.ErrNotFound for a device op does
// not see or a person not in the account; *DeviceRefused for a keypad code behind a Nuki Bridge;
// *models.ReachRefused when op cannot open every device; *db.PermissionConflict when the person
// has a permission on a device already, or the keypad code is taken there.
func (a *App) CreatePermissions(ctx context.Context, op models.Operator, actor models.Actor, p NewPermission) (PermissionsCreated, error) {
	var out PermissionsCreated
	accountID := op.Login.AccountID
	if len(p.Devices) == 0 {
		return out, FieldErrors{"devices": "users.error.devices_none"}
	}
	if key := CheckPermissionName(p.Name, p.Type); key != "" {
		return out, FieldErrors{"name": key}
	}
	deviceIDs := slices.Sorted(maps.Keys(p.Devices))
	for _, id := range deviceIDs {
		if errs := CheckPermissionDates(p.Devices[id], a.Now()); errs != nil {
			return out, errs
		}
	}
	chosen, err := a.seenDevices(ctx, op, deviceIDs)
	if err != nil {
		return out, err
	}
	ids := make([]int64, 0, len(chosen))
	names := make([]string, 0, len(chosen))
	statuses := map[int64]models.PushStatus{}
	for _, d := range chosen {
		if p.Type == models.AuthTypeKeypadCode {
			if key := a.KeypadWhyNot(d); key == KeypadBridge {
				return out, &DeviceRefused{DeviceID: d.ID, Key: key}
			}
		}
		ids, names = append(ids, d.ID), append(names, d.Name)
		statuses[d.ID] = a.Devices.PushStatusFor(d)
	}
	if err := op.CheckReach(models.Reach{Opens: ids}); err != nil {
		return out, err
	}
	np := db.NewPermission{AccountUserID: p.UserID, Type: p.Type, Name: p.Name, RemoteAllowed: p.RemoteAllowed, Code: p.Code,
		DeviceRestrictions: p.Devices, Devices: statuses}
	who := models.Facts("auditfacts.new_person", "Name", p.Name)
	var u models.AccountUser
	var inputs invitationInputs
	inviting := false
	if p.UserID == 0 {
		np.NewUser = &models.AccountUser{Name: p.Name, AddedVia: models.AddedViaKeypad}
	} else {
		if u, err = a.Store.FindAccountUser(ctx, accountID, p.UserID); err != nil {
			return out, err
		}
		who = models.Facts("auditfacts.person", "Name", u.Name)
		if p.Type == models.AuthTypeApp {
			if out.Invitation, err = a.webKeyActive(ctx, u); err != nil {
				return out, err
			}
			if inviting = out.Invitation == ""; inviting {
				if inputs, err = a.invitationFacts(ctx, accountID); err != nil {
					return out, err
				}
			}
		}
	}
	created := "auditfacts.permission_created_web_key"
	if p.Type == models.AuthTypeKeypadCode {
		created = "auditfacts.permission_created_keypad_code"
	}
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if out.Permissions, err = tx.CreatePermissions(ctx, accountID, np); err != nil {
			return err
		}
		if p.Type == models.AuthTypeApp && p.UserID != 0 && p.Language != "" && p.Language != u.Language {
			if err := tx.SetInvitationLanguage(ctx, accountID, u.ID, p.Language); err != nil {
				return err
			}
			if err := tx.Audit(ctx, actor.AuditEntry(accountID, models.AuditUserUpdated,
				models.Facts("auditfacts.invitation_language", "Person", u.Name, "Language", languageName(p.Language), "UserID", u.ID))); err != nil {
				return err
			}
			u.Language = p.Language
		}
		if inviting {
			out.Invitation, out.WhyNot, err = a.inviteAfterPermission(ctx, tx, op, actor, inputs, u)
			if err != nil {
				return err
			}
		}
		subjects := permissionSubjects(out.Permissions)
		if first := out.Permissions[0]; first.AccountUserID != nil {
			subjects["user"] = *first.AccountUserID
		}
		payload := map[string]any{"type": p.Type, "devices": ids, "permissions": permissionIDs(out.Permissions)}
		if out.Invitation != "" {
			payload["invitation"] = out.Invitation
		}
		return record(ctx, tx, actor, accountID, models.AuditPermissionCreated,
			models.Facts(created, "Who", who, "Devices", names), models.EventPermissionCreated, subjects, payload)
	})
	if err != nil {
		return PermissionsCreated{}, err
	}
	a.push(ids...)
	return out, nil
}

// webKeyActive is InvitationActive when person u accepted an invitation already (their web key
// opens the new devices too), else "".
func (a *App) webKeyActive(ctx context.Context, u models.AccountUser) (string, error) {
	invitations, err := a.Store.FindUserInvitations(ctx, u.AccountID, u.ID)
	if err != nil {
		return "", err
	}
	for _, inv := range invitations {
		if inv.State(a.Now()) == models.InvitationAccepted {
			return InvitationActive, nil
		}
	}
	return "", nil
}

// inviteAfterPermission invites u in tx after an app permission was created for them, with the
// invitation's audit row (the permission's event tells of it): an invitation that cannot go is
// InvitationNotSent with the message key of why.
func (a *App) inviteAfterPermission(ctx context.Context, tx *db.Tx, op models.Operator, actor models.Actor, in invitationInputs,
	u models.AccountUser) (string, string, error) {
	_, opens, err := a.invite(ctx, tx, op, actor, in, u)
	var refused *models.InvitationRefused
	var reach *models.ReachRefused
	switch {
	case errors.As(err, &refused):
		return InvitationNotSent, "invite.refused." + refused.Reason, nil
	case errors.As(err, &reach):
		return InvitationNotSent, reach.MessageKey(), nil
	case err != nil:
		return "", "", err
	}
	facts, _ := invitationRecord(actor, u, in.deviceNames(opens), opens)
	return InvitationSent, "", tx.Audit(ctx, actor.AuditEntry(in.account.ID, models.AuditInvitationSent, facts))
}

// seenDevices are the devices ids (each once, by name) of op's account; one op does not see is
// models.ErrNotFound, as another account's.
func (a *App) seenDevices(ctx context.Context, op models.Operator, ids []int64) ([]models.Device, error) {
	all, err := a.Store.FindDevices(ctx, op.Login.AccountID, db.SortByName)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if !op.Sees(id) || !slices.ContainsFunc(all, func(d models.Device) bool { return d.ID == id }) {
			return nil, fmt.Errorf("device %d: %w", id, models.ErrNotFound)
		}
	}
	var out []models.Device
	for _, d := range all {
		if slices.Contains(ids, d.ID) {
			out = append(out, d)
		}
	}
	return out, nil
}

// UpdatePermissions applies partial changes to permissions of op's account (the page's edit,
// the Web API's updates), in one transaction with one audit row and one event: an unknown id or
// a conflict in any of them changes nothing. Changes that change nothing are left out; when
// none is left nothing is written. It returns the permissions as they are afterwards. Errors:
// FieldErrors for a name CheckPermissionName refuses or a changed date CheckPermissionDates
// refuses; models.ErrNotFound for a permission that is revoked, another account's or on a device op does
// not see; *models.ReachRefused when op cannot open one of the devices; *db.PermissionConflict
// (a keypad code taken, the new person has a permission there already).
func (a *App) UpdatePermissions(ctx context.Context, op models.Operator, actor models.Actor, updates []db.PermissionUpdate) ([]models.Authorization, error) {
	var todo []db.PermissionUpdate
	for _, u := range updates {
		if u.Change.TouchesDevice() || u.Change.AccountUserID != nil {
			todo = append(todo, u)
		}
	}
	if len(todo) == 0 {
		return nil, nil
	}
	ids := make([]int64, 0, len(todo))
	for _, u := range todo {
		ids = append(ids, u.ID)
	}
	before, devs, err := a.permissionsInReach(ctx, op, ids, true)
	if err != nil {
		return nil, err
	}
	for i, u := range todo {
		if u.Change.Name != nil {
			if key := CheckPermissionName(*u.Change.Name, before[i].Type); key != "" {
				return nil, FieldErrors{"name": key}
			}
		}
		if u.Change.Restrictions != nil {
			if errs := CheckPermissionDates(changedDates(*u.Change.Restrictions, before[i].Restrictions), a.Now()); errs != nil {
				return nil, errs
			}
		}
	}
	var fields []string
	var push []int64
	for i, u := range todo {
		fields = append(fields, changedFields(u.Change)...)
		if u.Change.TouchesDevice() && !slices.Contains(push, before[i].DeviceID) {
			push = append(push, before[i].DeviceID)
		}
	}
	slices.Sort(fields)
	fields = slices.Compact(fields)
	changedNames := make([]models.AuditFacts, len(fields))
	for i, f := range fields {
		changedNames[i] = models.Facts("auditfacts.field." + f)
	}
	facts := models.Facts("auditfacts.permissions_changed", "Count", len(todo), "Fields", changedNames)
	if len(todo) == 1 {
		facts = models.Facts("auditfacts.permission_changed", "Name", before[0].Name, "Device", devs[before[0].DeviceID].Name, "Fields", changedNames)
	}
	var changed []models.Authorization
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if changed, err = tx.UpdatePermissions(ctx, op.Login.AccountID, todo); err != nil {
			return err
		}
		return record(ctx, tx, actor, op.Login.AccountID, models.AuditPermissionChanged, facts, models.EventPermissionUpdated,
			permissionSubjects(before), map[string]any{"permissions": ids, "changed": fields})
	})
	if err != nil {
		return nil, err
	}
	a.push(push...)
	return changed, nil
}

// changedFields names what a change changes (never the keypad code itself).
func changedFields(c db.PermissionChange) []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{{"name", c.Name != nil}, {"enabled", c.Enabled != nil}, {"remote_allowed", c.RemoteAllowed != nil}, {"code", c.Code != nil},
		{"restrictions", c.Restrictions != nil}, {"user", c.AccountUserID != nil}} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// SetPermissionEnabled turns permission id on (which also ends a suspension) or deactivates it.
// The errors are UpdatePermissions'.
func (a *App) SetPermissionEnabled(ctx context.Context, op models.Operator, actor models.Actor, id int64, on bool) (models.Authorization, error) {
	what, kind := models.Facts("auditfacts.deactivated"), models.EventPermissionDisabled
	if on {
		what, kind = models.Facts("auditfacts.reactivated"), models.EventPermissionEnabled
	}
	return a.changePermission(ctx, op, actor, id, on, what, kind, nil, func(tx *db.Tx) (models.Authorization, error) {
		changed, err := tx.UpdatePermissions(ctx, op.Login.AccountID, []db.PermissionUpdate{{ID: id, Change: db.PermissionChange{Enabled: &on}}})
		if err != nil {
			return models.Authorization{}, err
		}
		return changed[0], nil
	})
}

// SuspendPermission deactivates permission id until until, when it turns on again by itself.
// A moment that is not in the future is FieldErrors{"date": "users.suspend_past"}; the other
// errors are UpdatePermissions'.
func (a *App) SuspendPermission(ctx context.Context, op models.Operator, actor models.Actor, id int64, until time.Time) (models.Authorization, error) {
	if !until.After(a.Now()) {
		return models.Authorization{}, FieldErrors{"date": "users.suspend_past"}
	}
	when := until.UTC().Format(time.RFC3339)
	return a.changePermission(ctx, op, actor, id, false, models.Facts("auditfacts.suspended_until", "Until", models.FactTime(until)),
		models.EventPermissionSuspended, map[string]any{"until": when},
		func(tx *db.Tx) (models.Authorization, error) {
			return tx.SuspendPermission(ctx, op.Login.AccountID, id, until)
		})
}

// changePermission makes change to one permission with its audit row and event, and tells its
// device. opens: the change lets the person open the device (the reach check asks op to be able
// to open it too).
func (a *App) changePermission(ctx context.Context, op models.Operator, actor models.Actor, id int64, opens bool, what models.AuditFacts, eventKind string,
	payload map[string]any, change func(tx *db.Tx) (models.Authorization, error)) (models.Authorization, error) {
	before, devs, err := a.permissionsInReach(ctx, op, []int64{id}, opens)
	if err != nil {
		return models.Authorization{}, err
	}
	x := before[0]
	var changed models.Authorization
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if changed, err = change(tx); err != nil {
			return err
		}
		return record(ctx, tx, actor, op.Login.AccountID, models.AuditPermissionChanged,
			models.Facts("auditfacts.permission_state", "Name", x.Name, "Device", devs[x.DeviceID].Name, "What", what),
			eventKind, permissionSubjects(before), payload)
	})
	if err != nil {
		return changed, err
	}
	a.push(x.DeviceID)
	return changed, nil
}

// PermissionsRevoked is what RevokePermissions did.
type PermissionsRevoked struct {
	Permissions []models.Authorization
	// InvitationsWithdrawn are the people whose open invitation was revoked with their last
	// permission a web key could use: accepting it would give a web key that opens nothing.
	InvitationsWithdrawn []int64
}

// RevokePermissions removes permissions of op's account, all or none: each device is told (at
// once gone where the device never had it). A person left without a permission a web key can
// use loses their open invitation in the same transaction. Errors: models.ErrNotFound for an
// id that is not a permission op sees (or one already revoked).
func (a *App) RevokePermissions(ctx context.Context, op models.Operator, actor models.Actor, ids []int64) (PermissionsRevoked, error) {
	var out PermissionsRevoked
	accountID := op.Login.AccountID
	before, devs, err := a.permissionsInReach(ctx, op, ids, false)
	if err != nil {
		return out, err
	}
	revoked := func(withdrawn bool) models.AuditFacts {
		one, many := "auditfacts.permission_revoked", "auditfacts.permissions_revoked"
		if withdrawn {
			one, many = "auditfacts.permission_revoked_withdrawn", "auditfacts.permissions_revoked_withdrawn"
		}
		if len(before) == 1 {
			return models.Facts(one, "Name", before[0].Name, "Device", devs[before[0].DeviceID].Name)
		}
		return models.Facts(many, "Count", len(before))
	}
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if out.Permissions, err = tx.RevokePermissions(ctx, accountID, ids); err != nil {
			return err
		}
		if out.InvitationsWithdrawn, err = withdrawUselessInvitations(ctx, tx, accountID, out.Permissions); err != nil {
			return err
		}
		payload := map[string]any{"permissions": permissionIDs(out.Permissions)}
		if len(out.InvitationsWithdrawn) > 0 {
			payload["invitations_withdrawn"] = out.InvitationsWithdrawn
		}
		return record(ctx, tx, actor, accountID, models.AuditPermissionRevoked, revoked(len(out.InvitationsWithdrawn) > 0), models.EventPermissionRevoked,
			permissionSubjects(before), payload)
	})
	if err != nil {
		return PermissionsRevoked{}, err
	}
	var push []int64
	for _, x := range out.Permissions {
		if !slices.Contains(push, x.DeviceID) {
			push = append(push, x.DeviceID)
		}
	}
	a.push(push...)
	return out, nil
}

// withdrawUselessInvitations revokes, in tx, the open invitation of each person of revoked who
// has no permission a web key can use any more, and returns those whose invitation it revoked.
func withdrawUselessInvitations(ctx context.Context, tx *db.Tx, accountID int64, revoked []models.Authorization) ([]int64, error) {
	var withdrawn, seen []int64
	for _, x := range revoked {
		if x.AccountUserID == nil || slices.Contains(seen, *x.AccountUserID) {
			continue
		}
		userID := *x.AccountUserID
		seen = append(seen, userID)
		auths, err := tx.FindUserAuthorizations(ctx, accountID, userID)
		if err != nil {
			return nil, err
		}
		if len(models.WebKeyDevices(auths)) > 0 {
			continue
		}
		n, err := tx.RevokeOpenInvitations(ctx, accountID, userID)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			withdrawn = append(withdrawn, userID)
		}
	}
	return withdrawn, nil
}

// permissionsInReach loads the permissions ids (not revoked) of op's account with their devices,
// and checks that op sees each device (models.ErrNotFound otherwise, as another account's) and,
// with opens, can open it.
func (a *App) permissionsInReach(ctx context.Context, op models.Operator, ids []int64, opens bool) ([]models.Authorization, map[int64]models.Device, error) {
	accountID := op.Login.AccountID
	var out []models.Authorization
	devs := map[int64]models.Device{}
	var r models.Reach
	for _, id := range ids {
		x, err := a.Store.FindAuthorization(ctx, accountID, id)
		if err != nil {
			return nil, nil, err
		}
		if !x.Active() || !op.Sees(x.DeviceID) {
			return nil, nil, fmt.Errorf("authorization %d: %w", id, models.ErrNotFound)
		}
		if _, ok := devs[x.DeviceID]; !ok {
			d, err := a.Store.FindDevice(ctx, accountID, x.DeviceID)
			if err != nil {
				return nil, nil, err
			}
			devs[d.ID] = d
		}
		r.Touches = append(r.Touches, x.DeviceID)
		out = append(out, x)
	}
	if opens {
		r.Opens = r.Touches
	}
	if err := op.CheckReach(r); err != nil {
		return nil, nil, err
	}
	return out, devs, nil
}

// permissionSubjects are the subjects of an event about permissions: the permission, its device
// and its person when it is one.
func permissionSubjects(auths []models.Authorization) map[string]int64 {
	if len(auths) != 1 {
		return map[string]int64{}
	}
	s := map[string]int64{"permission": auths[0].ID, "device": auths[0].DeviceID}
	if auths[0].AccountUserID != nil {
		s["user"] = *auths[0].AccountUserID
	}
	return s
}

func permissionIDs(auths []models.Authorization) []int64 {
	out := make([]int64, 0, len(auths))
	for _, x := range auths {
		out = append(out, x.ID)
	}
	return out
}

// push tells the device manager to send the devices their pending permissions.
func (a *App) push(deviceIDs ...int64) {
	if a.Devices != nil && len(deviceIDs) > 0 {
		a.Devices.PushPermissions(deviceIDs...)
	}
}

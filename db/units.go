package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"

	"portier/models"
)

// Residential units of an address (PRODUCT.md B3; migration 0013). Everyone with access through
// a unit is an account user of kind 'resident' with unit_id set: the log stores their actions
// without who (anonymizeResident), the Users pages do not list them, and the unit shows only how
// many they are.

const unitColumns = `u.id, u.account_id, u.address_id, u.name, u.created_at, u.redeemed_at,
	(SELECT count(*) FROM account_users p WHERE p.unit_id = u.id AND p.deleted_at IS NULL),
	(SELECT count(*) FROM authorizations x JOIN account_users p ON p.id = x.account_user_id
		WHERE p.unit_id = u.id AND x.type = 13 AND x.deleted_at IS NULL AND x.revoked_at IS NULL)`

func scanUnit(row interface{ Scan(...any) error }) (models.Unit, error) {
	var u models.Unit
	var created string
	var redeemed sql.NullString
	if err := row.Scan(&u.ID, &u.AccountID, &u.AddressID, &u.Name, &created, &redeemed, &u.People, &u.KeypadCodes); err != nil {
		return u, err
	}
	var err error
	if u.CreatedAt, err = parseTime(created); err != nil {
		return u, err
	}
	u.RedeemedAt, err = parseTimePtr(redeemed)
	return u, err
}

// CreateUnit adds a residential unit to an address with its invite code (hash to find it,
// sealed to print it again).
func (tx *Tx) CreateUnit(ctx context.Context, accountID, addressID int64, name, codeHash string, codeSealed []byte) (models.Unit, error) {
	if _, err := findAddressTx(ctx, tx.Tx, accountID, addressID); err != nil {
		return models.Unit{}, err
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO address_units (account_id, address_id, name, code_hash, code_sealed, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, accountID, addressID, name, codeHash, codeSealed, tx.now).Scan(&id); err != nil {
		return models.Unit{}, err
	}
	u, err := scanUnit(tx.QueryRowContext(ctx, `SELECT `+unitColumns+` FROM address_units u WHERE u.id = ?`, id))
	return u, err
}

// FindUnits lists the units of an address (not deleted ones), oldest first.
func (s *Store) FindUnits(ctx context.Context, accountID, addressID int64) ([]models.Unit, error) {
	return queryAll(ctx, s.db.Reader, scanUnit, `SELECT `+unitColumns+` FROM address_units u
		WHERE u.account_id = ? AND u.address_id = ? AND u.deleted_at IS NULL ORDER BY u.id`, accountID, addressID)
}

// FindUnit returns a unit of the account (not a deleted one).
func (s *Store) FindUnit(ctx context.Context, accountID, id int64) (models.Unit, error) {
	u, err := scanUnit(s.db.Reader.QueryRowContext(ctx, `SELECT `+unitColumns+` FROM address_units u
		WHERE u.account_id = ? AND u.id = ? AND u.deleted_at IS NULL`, accountID, id))
	return u, mapNoRows(err, fmt.Sprintf("unit %d", id))
}

// FindUnitCode returns the sealed invite code of a unit (for its printable sheet) and its hash.
func (s *Store) FindUnitCode(ctx context.Context, accountID, id int64) (sealed []byte, hash string, err error) {
	err = s.db.Reader.QueryRowContext(ctx, `SELECT code_sealed, code_hash FROM address_units WHERE account_id = ? AND id = ? AND deleted_at IS NULL`,
		accountID, id).Scan(&sealed, &hash)
	return sealed, hash, mapNoRows(err, fmt.Sprintf("unit %d", id))
}

// FindUnitByCode returns the open unit (not redeemed, not deleted) whose invite code hashes to
// codeHash, with its address; ErrUnitCodeClosed for a used or deleted one, ErrNotFound for none.
func (s *Store) FindUnitByCode(ctx context.Context, codeHash string) (models.Unit, models.Address, error) {
	var accountID, id int64
	var redeemed, deleted sql.NullString
	err := s.db.Reader.QueryRowContext(ctx, `SELECT account_id, id, redeemed_at, deleted_at FROM address_units WHERE code_hash = ?`, codeHash).
		Scan(&accountID, &id, &redeemed, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return models.Unit{}, models.Address{}, notFound("unit code")
	}
	if err != nil {
		return models.Unit{}, models.Address{}, err
	}
	if redeemed.Valid || deleted.Valid {
		return models.Unit{}, models.Address{}, models.ErrUnitCodeClosed
	}
	u, err := s.FindUnit(ctx, accountID, id)
	if err != nil {
		return u, models.Address{}, err
	}
	a, err := s.FindAddress(ctx, accountID, u.AddressID)
	return u, a, err
}

// NewResident is the party that redeems a unit's invite code: their web-key login and their
// permissions on the address's devices.
type NewResident struct {
	Name         string
	Email        string
	Language     string
	PasswordHash string
	// Devices are the address's devices with the status each permission starts with
	// (PushPending where the connection holds authorizations, PushPortierOnly where not).
	Devices map[int64]models.PushStatus
	// KeypadDevice and KeypadCode, when set, add a keypad code on that box.
	KeypadDevice int64
	KeypadCode   *int
}

// RedeemedUnit is what redeeming a unit's code made: the unit (of its account and address),
// its resident person, and the login that holds it.
type RedeemedUnit struct {
	AccountID, AddressID, UnitID int64
	UnitName                     string
	PersonID, LoginID            int64
}

// RedeemUnit uses up a unit's invite code and gives its party access: a resident account user of
// the unit, a web-key permission (remote allowed) on each of the address's devices, a keypad code
// on the box when asked, and a web-key login with the email and password. The code works once
// (ErrUnitCodeClosed after); an email that already signs in is ErrConflict.
func (tx *Tx) RedeemUnit(ctx context.Context, codeHash string, r NewResident) (RedeemedUnit, error) {
	var taken int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM logins WHERE email = ?`, models.NormalizeEmail(r.Email)).Scan(&taken); err != nil {
		return RedeemedUnit{}, err
	}
	if taken > 0 {
		return RedeemedUnit{}, fmt.Errorf("email %s: %w", r.Email, models.ErrConflict)
	}
	red, err := redeemUnitInTx(ctx, tx, codeHash, r)
	if err != nil {
		return red, err
	}
	zone := "UTC"
	if err := tx.QueryRowContext(ctx, `SELECT time_zone FROM addresses WHERE id = ?`, red.AddressID).Scan(&zone); err != nil {
		return red, err
	}
	lang := r.Language
	if lang == "" {
		lang = "en"
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO logins (account_id, email, name, password_hash, is_main, rights, language, time_zone,
		created_at, updated_at, account_user_id) VALUES (?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?) RETURNING id`,
		red.AccountID, models.NormalizeEmail(r.Email), r.Name, r.PasswordHash, lang, zone, tx.now, tx.now, red.PersonID).Scan(&red.LoginID)
	return red, err
}

// JoinUnit uses up a unit's invite code for a resident who signs in already (the login loginID):
// the unit gets its resident person, named and addressed as the login, with the permissions
// RedeemUnit gives, and the login holds that person too (login_keys). Only a resident's
// login (its own person a resident or family member of a unit) holds further units:
// ErrNotResidentLogin for any other.
func (tx *Tx) JoinUnit(ctx context.Context, codeHash string, loginID int64, r NewResident) (RedeemedUnit, error) {
	var kind string
	err := tx.QueryRowContext(ctx, `SELECT l.name, l.email, l.language, p.kind FROM logins l JOIN account_users p ON p.id = l.account_user_id
		WHERE l.id = ? AND l.staff = 0 AND p.deleted_at IS NULL`, loginID).Scan(&r.Name, &r.Email, &r.Language, &kind)
	if errors.Is(err, sql.ErrNoRows) || err == nil && kind != "resident" {
		return RedeemedUnit{}, models.ErrNotResidentLogin
	}
	if err != nil {
		return RedeemedUnit{}, err
	}
	red, err := redeemUnitInTx(ctx, tx, codeHash, r)
	if err != nil {
		return red, err
	}
	red.LoginID = loginID
	_, err = tx.ExecContext(ctx, `INSERT INTO login_keys (login_id, account_id, account_user_id, created_at) VALUES (?, ?, ?, ?)`,
		loginID, red.AccountID, red.PersonID, tx.now)
	return red, err
}

// redeemUnitInTx uses up the code and makes the unit's resident person (r's name, email and
// language) with r's permissions.
func redeemUnitInTx(ctx context.Context, tx *Tx, codeHash string, r NewResident) (RedeemedUnit, error) {
	var red RedeemedUnit
	err := tx.QueryRowContext(ctx, `UPDATE address_units SET redeemed_at = ? WHERE code_hash = ? AND redeemed_at IS NULL AND deleted_at IS NULL
		RETURNING id, account_id, address_id, name`, tx.now, codeHash).Scan(&red.UnitID, &red.AccountID, &red.AddressID, &red.UnitName)
	if errors.Is(err, sql.ErrNoRows) {
		return red, models.ErrUnitCodeClosed
	}
	if err != nil {
		return red, err
	}
	if red.PersonID, err = insertResident(ctx, tx.Tx, tx.now, red.AccountID, red.UnitID, r.Name, r.Email, r.Language); err != nil {
		return red, err
	}
	if err := insertResidentPermissions(ctx, tx.Tx, tx.now, red.AccountID, red.PersonID, r.Name, r.Devices, r.KeypadDevice, r.KeypadCode); err != nil {
		return red, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE address_units SET resident_user_id = ? WHERE id = ?`, red.PersonID, red.UnitID)
	return red, err
}

// FindKeyHoldings returns the people whose permissions login's web key opens with: a web-key
// login's own person first, then the further people it holds (login_keys: a resident's further
// units, keys accepted by signing in), in the order they came. An admin login holds only
// further people, and most hold none.
func (s *Store) FindKeyHoldings(ctx context.Context, login models.Login) ([]models.KeyHolding, error) {
	further, err := queryAll(ctx, s.db.Reader, scanKeyHolding, `SELECT account_id, account_user_id FROM login_keys WHERE login_id = ?
		ORDER BY created_at, account_user_id`, login.ID)
	if err != nil || login.AccountUserID == nil {
		return further, err
	}
	return append([]models.KeyHolding{{AccountID: login.AccountID, PersonID: *login.AccountUserID}}, further...), nil
}

func scanKeyHolding(row rowScanner) (models.KeyHolding, error) {
	var k models.KeyHolding
	err := row.Scan(&k.AccountID, &k.PersonID)
	return k, err
}

// insertResident adds a resident account user of a unit.
func insertResident(ctx context.Context, tx *sql.Tx, now string, accountID, unitID int64, name, email, language string) (int64, error) {
	u, err := insertUser(ctx, tx, now, models.AccountUser{AccountID: accountID, Name: name, Email: models.NormalizeEmail(email),
		Language: language, AddedVia: models.AddedViaWeb, Kind: models.KindResident})
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE account_users SET unit_id = ? WHERE id = ?`, unitID, u.ID); err != nil {
		return 0, err
	}
	return u.ID, nil
}

// insertResidentPermissions gives a resident a web-key permission (remote allowed, no time
// limits) on each device, and a keypad code on keypadDevice when code is set.
func insertResidentPermissions(ctx context.Context, tx *sql.Tx, now string, accountID, userID int64, name string,
	devices map[int64]models.PushStatus, keypadDevice int64, code *int) error {
	insert := func(deviceID int64, typ int, code *int) error {
		if err := checkPermissionFree(ctx, tx, accountID, deviceID, 0, 0, typ, code); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO authorizations (account_id, device_id, account_user_id, type, name, enabled,
			remote_allowed, code, push_status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, 1, ?, ?, ?, ?)`,
			accountID, deviceID, userID, typ, truncateRunes(name, 32), code, devices[deviceID], now, now)
		return err
	}
	for _, d := range slices.Sorted(maps.Keys(devices)) {
		if err := insert(d, models.AuthTypeApp, nil); err != nil {
			return err
		}
	}
	if code != nil {
		if _, ok := devices[keypadDevice]; !ok {
			return fmt.Errorf("keypad device %d is not a device of the address: %w", keypadDevice, models.ErrNotFound)
		}
		return insert(keypadDevice, models.AuthTypeKeypadCode, code)
	}
	return nil
}

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// UnitNameTaken reports whether address addressID has a unit (not deleted) whose name is name's
// when case, accents and spacing are set aside (models.NameKey).
func (tx *Tx) UnitNameTaken(ctx context.Context, addressID int64, name string) (bool, error) {
	names, err := queryAll(ctx, tx, scanString, `SELECT name FROM address_units WHERE address_id = ? AND deleted_at IS NULL`, addressID)
	if err != nil {
		return false, err
	}
	key := models.NameKey(name)
	return slices.ContainsFunc(names, func(n string) bool { return models.NameKey(n) == key }), nil
}

// DeleteUnit deletes a unit and takes away all its access at once: its residents' permissions
// are revoked (the devices are told, retried until they confirm — see revokeInTx), their web-key
// logins and sessions end (a login that holds other units moves to one of them), and the
// residents are removed. It returns the unit as it was and the ids of the devices that must be
// told.
func (tx *Tx) DeleteUnit(ctx context.Context, accountID, unitID int64) (models.Unit, []int64, error) {
	u, err := scanUnit(tx.QueryRowContext(ctx, `SELECT `+unitColumns+` FROM address_units u WHERE u.account_id = ? AND u.id = ?
		AND u.deleted_at IS NULL`, accountID, unitID))
	if err != nil {
		return u, nil, mapNoRows(err, fmt.Sprintf("unit %d", unitID))
	}
	if _, err := tx.ExecContext(ctx, `UPDATE address_units SET deleted_at = ? WHERE id = ?`, tx.now, unitID); err != nil {
		return u, nil, err
	}
	devices, err := endResidentAccess(ctx, tx.Tx, tx.now, accountID, `SELECT id FROM account_users WHERE unit_id = ?`, unitID)
	return u, devices, err
}

// FindFamily returns the unit of the resident who redeemed it and the family members they share
// with (by name); ErrNotFound when the user is not the one who redeemed a unit.
func (s *Store) FindFamily(ctx context.Context, accountID, residentUserID int64) (models.Unit, []models.AccountUser, error) {
	var unitID int64
	err := s.db.Reader.QueryRowContext(ctx, `SELECT id FROM address_units WHERE account_id = ? AND resident_user_id = ? AND deleted_at IS NULL`,
		accountID, residentUserID).Scan(&unitID)
	if err != nil {
		return models.Unit{}, nil, mapNoRows(err, "unit of the resident")
	}
	u, err := s.FindUnit(ctx, accountID, unitID)
	if err != nil {
		return u, nil, err
	}
	family, err := queryAll(ctx, s.db.Reader, scanUser, `SELECT `+userColumns+` FROM account_users WHERE account_id = ? AND unit_id = ? AND id != ?
		AND deleted_at IS NULL ORDER BY name_key, id`, accountID, unitID, residentUserID)
	return u, family, err
}

// AddFamilyMember adds a family member to the unit of the resident who redeemed it, with the
// same web-key permissions as the resident. The 101st is ErrFamilyFull; an email already in the
// unit is ErrConflict. It returns the member's id and the unit's.
func (tx *Tx) AddFamilyMember(ctx context.Context, accountID, residentUserID int64, name, email, language string) (memberID, unitID int64, err error) {
	err = tx.QueryRowContext(ctx, `SELECT id FROM address_units WHERE account_id = ? AND resident_user_id = ? AND deleted_at IS NULL`,
		accountID, residentUserID).Scan(&unitID)
	if err != nil {
		return 0, 0, mapNoRows(err, "unit of the resident")
	}
	var members, same int
	if err := tx.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE email = ?) FROM account_users
		WHERE unit_id = ? AND deleted_at IS NULL`, models.NormalizeEmail(email), unitID).Scan(&members, &same); err != nil {
		return 0, unitID, err
	}
	if same > 0 {
		return 0, unitID, fmt.Errorf("email %s in the unit: %w", email, models.ErrConflict)
	}
	if members-1 >= models.MaxFamilyMembers {
		return 0, unitID, models.ErrFamilyFull
	}
	if memberID, err = insertResident(ctx, tx.Tx, tx.now, accountID, unitID, name, email, language); err != nil {
		return 0, unitID, err
	}
	type permission struct {
		device int64
		status models.PushStatus
	}
	residentPermissions, err := queryAll(ctx, tx, func(row rowScanner) (permission, error) {
		var p permission
		err := row.Scan(&p.device, &p.status)
		return p, err
	}, `SELECT device_id, push_status FROM authorizations WHERE account_user_id = ? AND type = ?
		AND deleted_at IS NULL AND revoked_at IS NULL`, residentUserID, models.AuthTypeApp)
	if err != nil {
		return memberID, unitID, err
	}
	devices := map[int64]models.PushStatus{}
	for _, p := range residentPermissions {
		if p.status != models.PushPortierOnly {
			p.status = models.PushPending
		}
		devices[p.device] = p.status
	}
	return memberID, unitID, insertResidentPermissions(ctx, tx.Tx, tx.now, accountID, memberID, name, devices, 0, nil)
}

// RemoveFamilyMember takes a family member's access away (permissions revoked, web key and
// open invitations ended) and returns the unit's id and the devices to tell.
func (tx *Tx) RemoveFamilyMember(ctx context.Context, accountID, residentUserID, memberID int64) (unitID int64, devices []int64, err error) {
	err = tx.QueryRowContext(ctx, `SELECT u.id FROM address_units u JOIN account_users m ON m.unit_id = u.id
		WHERE u.account_id = ? AND u.resident_user_id = ? AND u.deleted_at IS NULL AND m.id = ? AND m.id != ? AND m.deleted_at IS NULL`,
		accountID, residentUserID, memberID, residentUserID).Scan(&unitID)
	if err != nil {
		return 0, nil, mapNoRows(err, fmt.Sprintf("family member %d", memberID))
	}
	devices, err = endResidentAccess(ctx, tx.Tx, tx.now, accountID, `SELECT ?`, memberID)
	return unitID, devices, err
}

// endResidentAccess takes away everything the residents chosen by usersQuery (a SELECT of
// account user ids, with args) had: their permissions are revoked (the devices are told and told
// again until they confirm, see revokeInTx), their web-key logins and sessions end, their open
// invitations close and they are removed. It returns the devices to tell. A login that holds
// further units keeps those (releaseKeyLogins).
func endResidentAccess(ctx context.Context, tx *sql.Tx, now string, accountID int64, usersQuery string, args ...any) ([]int64, error) {
	devices, err := queryAll(ctx, tx, scanInt64, `SELECT DISTINCT device_id FROM authorizations WHERE account_id = ? AND account_user_id IN (`+usersQuery+`)
		AND deleted_at IS NULL AND revoked_at IS NULL ORDER BY device_id`, append([]any{accountID}, args...)...)
	if err != nil {
		return nil, err
	}
	if err := revokeInTx(ctx, tx, now, accountID, `account_user_id IN (`+usersQuery+`)`, args...); err != nil {
		return nil, err
	}
	if err := releaseKeyLogins(ctx, tx, now, accountID, usersQuery, args...); err != nil {
		return nil, err
	}
	for _, q := range []struct {
		sql  string
		head []any
	}{
		{`UPDATE invitations SET revoked_at = ? WHERE account_id = ? AND accepted_at IS NULL AND revoked_at IS NULL
			AND account_user_id IN (` + usersQuery + `)`, []any{now, accountID}},
		{`UPDATE account_users SET deleted_at = ?, updated_at = ? WHERE account_id = ? AND deleted_at IS NULL
			AND id IN (` + usersQuery + `)`, []any{now, now, accountID}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, append(q.head, args...)...); err != nil {
			return nil, err
		}
	}
	return devices, nil
}

// releaseKeyLogins ends what logins hold of leaving people (usersQuery, with args): a
// person a login holds besides its own (login_keys) leaves it; a web-key login whose own person
// leaves moves to the next person it holds (possibly of another account), or ends, with its
// sessions, when it holds none. A partner company's staff logins are not moved (the caller
// ends them with the company).
func releaseKeyLogins(ctx context.Context, tx *sql.Tx, now string, accountID int64, usersQuery string, args ...any) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM login_keys WHERE account_user_id IN (`+usersQuery+`)`, args...); err != nil {
		return err
	}
	leaving, err := queryAll(ctx, tx, scanInt64, `SELECT id FROM logins WHERE account_id = ? AND staff = 0
		AND account_user_id IN (`+usersQuery+`)`,
		append([]any{accountID}, args...)...)
	if err != nil {
		return err
	}
	for _, loginID := range leaving {
		var next models.KeyHolding
		err := tx.QueryRowContext(ctx, `SELECT account_id, account_user_id FROM login_keys WHERE login_id = ?
			ORDER BY created_at, account_user_id LIMIT 1`, loginID).Scan(&next.AccountID, &next.PersonID)
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM logins WHERE id = ?`, loginID); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE logins SET account_id = ?, account_user_id = ?, updated_at = ? WHERE id = ?`,
			next.AccountID, next.PersonID, now, loginID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_keys WHERE login_id = ? AND account_user_id = ?`, loginID, next.PersonID); err != nil {
			return err
		}
	}
	return nil
}

// ResidentUnitInLog is a unit a resident's web key opens for, and whether the address's activity
// log names it.
type ResidentUnitInLog struct {
	Unit, Address string
	Shown         bool
}

// FindResidentUnitsInLog returns the units of resident (or family member) userID with whether
// the log names each; none for a person who is no resident.
func (s *Store) FindResidentUnitsInLog(ctx context.Context, accountID, userID int64) ([]ResidentUnitInLog, error) {
	return queryAll(ctx, s.db.Reader, func(row rowScanner) (ResidentUnitInLog, error) {
		var r ResidentUnitInLog
		err := row.Scan(&r.Unit, &r.Address, &r.Shown)
		return r, err
	}, `SELECT u.name, a.name, a.show_unit_in_log FROM account_users p
		JOIN address_units u ON u.id = p.unit_id JOIN addresses a ON a.id = u.address_id
		WHERE p.account_id = ? AND p.id = ? AND p.kind = 'resident' AND p.deleted_at IS NULL AND u.deleted_at IS NULL
		ORDER BY u.id`, accountID, userID)
}

// QueueUnitMail queues an email about a unit's invite code that goes with no change (the link to
// finish a redemption, or the note to an email that signs in already), off every account's
// outbox page: residents are anonymous to the account's logins.
func (s *Store) QueueUnitMail(ctx context.Context, m models.OutboxMessage) error {
	m.AccountID = nil
	return s.db.InTx(ctx, func(tx *sql.Tx) error { return s.enqueueMail(ctx, tx, m) })
}

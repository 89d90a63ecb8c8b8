package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"portier/models"
)

// Merging account users who are one person (user_merges, see migration 0006), and the
// suggestions of who may be (duplicates by name or email).

// MergeUsers makes one person of two: the authorizations of merged move to kept, and merged
// is marked as merged into kept. It returns the merge's id (for UndoMerge) and how many
// authorizations moved. Two users who are not both people (a partner company, a resident) are
// models.ErrNotMergeable.
func (tx *Tx) MergeUsers(ctx context.Context, accountID, keptID, mergedID int64) (id int64, moved int, err error) {
	if keptID == mergedID {
		return 0, 0, fmt.Errorf("a user cannot be merged into itself: %w", models.ErrConflict)
	}
	var n, people int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE kind = 'user') FROM account_users WHERE account_id = ? AND id IN (?, ?)
		AND merged_into IS NULL AND deleted_at IS NULL`, accountID, keptID, mergedID).Scan(&n, &people); err != nil {
		return 0, 0, err
	}
	if n != 2 {
		return 0, 0, notFound(fmt.Sprintf("account users %d and %d", keptID, mergedID))
	}
	if people != 2 {
		return 0, 0, models.ErrNotMergeable
	}
	ids, err := queryAll(ctx, tx, scanInt64, `UPDATE authorizations SET account_user_id = ?, updated_at = ?
		WHERE account_id = ? AND account_user_id = ? AND deleted_at IS NULL RETURNING id`, keptID, tx.now, accountID, mergedID)
	if err != nil {
		return 0, 0, err
	}
	if ids == nil {
		ids = []int64{} // stored as [], not null, when no permission moved
	}
	if _, err := tx.ExecContext(ctx, `UPDATE account_users SET merged_into = ?, updated_at = ? WHERE id = ?`, keptID, tx.now, mergedID); err != nil {
		return 0, 0, err
	}
	list, _ := json.Marshal(ids)
	err = tx.QueryRowContext(ctx, `INSERT INTO user_merges (account_id, kept_user_id, merged_user_id, moved, created_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, accountID, keptID, mergedID, string(list), tx.now).Scan(&id)
	return id, len(ids), err
}

// UndoMerge splits a merge again: the authorizations that moved (and still exist) go back to
// the merged user, who is a person of their own again. It returns the merge as it was. A merge
// whose kept user was merged into a third one since is ErrConflict (that merge is undone
// first).
func (tx *Tx) UndoMerge(ctx context.Context, accountID, mergeID int64) (kept, merged int64, err error) {
	var moved string
	err = tx.QueryRowContext(ctx, `SELECT kept_user_id, merged_user_id, moved FROM user_merges
		WHERE id = ? AND account_id = ? AND undone_at IS NULL`, mergeID, accountID).Scan(&kept, &merged, &moved)
	if err == sql.ErrNoRows {
		return 0, 0, notFound(fmt.Sprintf("merge %d", mergeID))
	}
	if err != nil {
		return 0, 0, err
	}
	var ids []int64
	if err := json.Unmarshal([]byte(moved), &ids); err != nil {
		return 0, 0, err
	}
	var still int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM account_users m JOIN account_users k ON k.id = ?
		WHERE m.id = ? AND m.merged_into = k.id AND k.merged_into IS NULL`, kept, merged).Scan(&still); err != nil {
		return 0, 0, err
	}
	if still != 1 {
		return 0, 0, fmt.Errorf("merge %d: the users changed since: %w", mergeID, models.ErrConflict)
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE authorizations SET account_user_id = ?, updated_at = ? WHERE id = ? AND account_user_id = ?`,
			merged, tx.now, id, kept); err != nil {
			return 0, 0, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE account_users SET merged_into = NULL, updated_at = ? WHERE id = ?`, tx.now, merged); err != nil {
		return 0, 0, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE user_merges SET undone_at = ? WHERE id = ?`, tx.now, mergeID)
	return kept, merged, err
}

// DuplicateReason says why users look like one person.
type DuplicateReason string

// Reasons of duplicate suggestions.
const (
	// SameName: the same name (accents, case and spaces ignored) on different devices. Two
	// authorizations on one device are never suggested: a device holds one per person.
	SameName DuplicateReason = "same_name"
	// SameEmail: the same email address (case ignored), also when a device names a person by
	// it (models.EmailKey).
	SameEmail DuplicateReason = "same_email"
)

// DuplicateGroup is a suggestion: users who are probably one person, and why.
type DuplicateGroup struct {
	Reason DuplicateReason
	Users  []UserRow
}

// CountDuplicates counts the names more than one active user has: cheap, for the Users page's
// link; FindDuplicates then leaves out users who share a device.
func (s *Store) CountDuplicates(ctx context.Context, accountID int64) (int, error) {
	var n int
	err := s.db.Reader.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM (SELECT name_key FROM account_users
		WHERE account_id = ? AND merged_into IS NULL AND deleted_at IS NULL AND kind = 'user' GROUP BY name_key HAVING COUNT(*) > 1))
		+ (SELECT COUNT(*) FROM (SELECT email_key FROM account_users WHERE account_id = ? AND email_key IS NOT NULL
		AND merged_into IS NULL AND deleted_at IS NULL AND kind = 'user' GROUP BY email_key HAVING COUNT(*) > 1))`, accountID, accountID).Scan(&n)
	return n, err
}

// FindDuplicates suggests users to merge: users with the same name whose authorizations are
// on different devices. It suggests only; nothing is merged. Each user is shown with the names
// of their devices among deviceIDs (nil: all of them), as a login limited to some devices may
// see them; whether two users share a device is decided on all of them.
func (s *Store) FindDuplicates(ctx context.Context, accountID int64, deviceIDs []int64) ([]DuplicateGroup, error) {
	type userDevice struct {
		user    int64
		key     string
		device  sql.NullInt64
		devName sql.NullString
	}
	found, err := queryAll(ctx, s.db.Reader, func(row rowScanner) (userDevice, error) {
		var r userDevice
		err := row.Scan(&r.user, &r.key, &r.device, &r.devName)
		return r, err
	}, `SELECT u.id, u.name_key, a.device_id, d.name FROM account_users u
		JOIN account_users v ON v.account_id = u.account_id AND v.name_key = u.name_key AND v.id <> u.id
			AND v.merged_into IS NULL AND v.deleted_at IS NULL AND v.kind = 'user'
		LEFT JOIN authorizations a ON a.account_user_id = u.id AND a.deleted_at IS NULL
		LEFT JOIN devices d ON d.id = a.device_id AND d.deleted_at IS NULL
		WHERE u.account_id = ? AND u.merged_into IS NULL AND u.deleted_at IS NULL AND u.kind = 'user'
		GROUP BY u.id, a.device_id ORDER BY u.name_key, u.id`, accountID)
	if err != nil {
		return nil, err
	}
	type candidate struct {
		id      int64
		key     string
		devices map[int64]bool
		names   []string
	}
	var order []*candidate
	byID := map[int64]*candidate{}
	for _, r := range found {
		c, ok := byID[r.user]
		if !ok {
			c = &candidate{id: r.user, key: r.key, devices: map[int64]bool{}}
			byID[r.user] = c
			order = append(order, c)
		}
		if r.device.Valid && r.devName.Valid {
			c.devices[r.device.Int64] = true
			if deviceIDs == nil || slices.Contains(deviceIDs, r.device.Int64) {
				c.names = append(c.names, r.devName.String)
			}
		}
	}
	// Per name, put each user into the first group it shares no device with.
	var groups [][]*candidate
	start := 0
	for i := range order {
		if i+1 < len(order) && order[i+1].key == order[i].key {
			continue
		}
		var clusters [][]*candidate
		for _, c := range order[start : i+1] {
			placed := false
			for k, cl := range clusters {
				overlap := false
				for _, other := range cl {
					for d := range c.devices {
						overlap = overlap || other.devices[d]
					}
				}
				if !overlap {
					clusters[k] = append(cl, c)
					placed = true
					break
				}
			}
			if !placed {
				clusters = append(clusters, []*candidate{c})
			}
		}
		for _, cl := range clusters {
			if len(cl) > 1 {
				groups = append(groups, cl)
			}
		}
		start = i + 1
	}
	var out []DuplicateGroup
	suggested := map[string]bool{} // member sets already suggested
	for _, g := range groups {
		dg := DuplicateGroup{Reason: SameName}
		var ids []int64
		for _, c := range g {
			u, err := s.FindAccountUser(ctx, accountID, c.id)
			if err != nil {
				return nil, err
			}
			dg.Users = append(dg.Users, UserRow{User: u, Devices: c.names})
			ids = append(ids, c.id)
		}
		suggested[fmt.Sprint(ids)] = true
		out = append(out, dg)
	}
	byEmail, err := s.findSameEmail(ctx, accountID)
	if err != nil {
		return nil, err
	}
	for _, ids := range byEmail {
		if suggested[fmt.Sprint(ids)] {
			continue // the same people, suggested for their name already
		}
		dg := DuplicateGroup{Reason: SameEmail}
		for _, id := range ids {
			u, err := s.FindAccountUser(ctx, accountID, id)
			if err != nil {
				return nil, err
			}
			names, err := s.userDeviceNames(ctx, id, deviceIDs)
			if err != nil {
				return nil, err
			}
			dg.Users = append(dg.Users, UserRow{User: u, Devices: names})
		}
		out = append(out, dg)
	}
	return out, nil
}

// findSameEmail returns the groups of active users who share an email key, ids ascending.
func (s *Store) findSameEmail(ctx context.Context, accountID int64) ([][]int64, error) {
	type userEmail struct {
		id  int64
		key string
	}
	users, err := queryAll(ctx, s.db.Reader, func(row rowScanner) (userEmail, error) {
		var u userEmail
		err := row.Scan(&u.id, &u.key)
		return u, err
	}, `SELECT id, email_key FROM account_users
		WHERE account_id = ? AND merged_into IS NULL AND deleted_at IS NULL AND kind = 'user' AND email_key IN (SELECT email_key FROM account_users
			WHERE account_id = ? AND email_key IS NOT NULL AND merged_into IS NULL AND deleted_at IS NULL AND kind = 'user' GROUP BY email_key HAVING COUNT(*) > 1)
		ORDER BY email_key, id`, accountID, accountID)
	if err != nil {
		return nil, err
	}
	var out [][]int64
	last := ""
	for _, u := range users {
		if u.key != last || len(out) == 0 {
			out = append(out, nil)
			last = u.key
		}
		out[len(out)-1] = append(out[len(out)-1], u.id)
	}
	return out, nil
}

// userDeviceNames names the devices a user has a permission on (not revoked), by name.
func (s *Store) userDeviceNames(ctx context.Context, userID int64, deviceIDs []int64) ([]string, error) {
	only, onlyArgs := deviceRestriction("a.device_id", deviceIDs)
	return queryAll(ctx, s.db.Reader, scanString, `SELECT DISTINCT d.name FROM authorizations a JOIN devices d ON d.id = a.device_id
		WHERE a.account_user_id = ? AND a.deleted_at IS NULL AND a.revoked_at IS NULL AND d.deleted_at IS NULL`+only+` ORDER BY d.name`,
		append([]any{userID}, onlyArgs...)...)
}

// UserMerge is a merge that can still be undone.
type UserMerge struct {
	ID         int64
	Kept       models.AccountUser
	MergedID   int64
	MergedName string
	MergedVia  models.AddedVia // how the merged person came: the history tells two of one name apart
	CreatedAt  time.Time
}

// FindRecentMerges returns the account's merges that are not undone, newest first.
func (s *Store) FindRecentMerges(ctx context.Context, accountID int64, limit int) ([]UserMerge, error) {
	return s.findMerges(ctx, accountID, `m.account_id = ? AND m.undone_at IS NULL ORDER BY m.id DESC LIMIT ?`, accountID, limit)
}

// FindMerge returns merge id of the account while it is not undone.
func (s *Store) FindMerge(ctx context.Context, accountID, id int64) (UserMerge, error) {
	list, err := s.findMerges(ctx, accountID, `m.account_id = ? AND m.id = ? AND m.undone_at IS NULL`, accountID, id)
	if err != nil {
		return UserMerge{}, err
	}
	if len(list) == 0 {
		return UserMerge{}, notFound(fmt.Sprintf("merge %d", id))
	}
	return list[0], nil
}

func (s *Store) findMerges(ctx context.Context, accountID int64, where string, args ...any) ([]UserMerge, error) {
	type raw struct {
		id, kept, merged int64
		name, via        string
		created          string
	}
	rs, err := queryAll(ctx, s.db.Reader, func(row rowScanner) (raw, error) {
		var r raw
		err := row.Scan(&r.id, &r.kept, &r.merged, &r.name, &r.via, &r.created)
		return r, err
	}, `SELECT m.id, m.kept_user_id, m.merged_user_id, u.name, u.added_via, m.created_at FROM user_merges m
		JOIN account_users u ON u.id = m.merged_user_id WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	var out []UserMerge
	for _, r := range rs {
		kept, err := s.FindAccountUser(ctx, accountID, r.kept)
		if err != nil {
			return nil, err
		}
		at, err := parseTime(r.created)
		if err != nil {
			return nil, err
		}
		out = append(out, UserMerge{ID: r.id, Kept: kept, MergedID: r.merged, MergedName: r.name,
			MergedVia: models.AddedVia(r.via), CreatedAt: at})
	}
	return out, nil
}

package app

import (
	"context"
	"errors"
	"slices"

	"portier/db"
	"portier/models"
)

// MergeUsers makes one person of users keep and others (PRODUCT.md U9): the permissions of the
// others move to keep, and each of them can be split off again (UndoMerge). It is the one way to
// merge, for a suggestion and by hand alike. The merged person is every one of them: the change
// touches all their devices, and keep's web key opens the devices of all, so op must reach them
// (*models.ReachRefused). No others, or keep among them, is FieldErrors{"users": …}; a user that
// is gone or merged already, or that is not a person (a partner company), is *Conflict. It
// returns the person kept.
func (a *App) MergeUsers(ctx context.Context, op models.Operator, actor models.Actor, keep int64, others []int64) (models.AccountUser, error) {
	accountID := op.Login.AccountID
	if len(others) == 0 || slices.Contains(others, keep) || len(slices.Compact(slices.Sorted(slices.Values(others)))) != len(others) {
		return models.AccountUser{}, FieldErrors{"users": "users.merge_choose"}
	}
	var reach models.Reach
	var kept models.AccountUser
	merged := make([]models.AccountUser, 0, len(others))
	for _, id := range append([]int64{keep}, others...) {
		u, auths, err := a.findPerson(ctx, accountID, id)
		if errors.Is(err, models.ErrNotFound) {
			return kept, &Conflict{Key: "users.merge_gone"}
		}
		if err != nil {
			return kept, err
		}
		if !u.Mergeable() {
			return kept, &Conflict{Key: "users.merge_not_people"}
		}
		reach.Touches = append(reach.Touches, models.PersonDevices(auths)...)
		reach.Opens = append(reach.Opens, models.WebKeyDevices(auths)...)
		if id == keep {
			kept = u
		} else {
			merged = append(merged, u)
		}
	}
	if err := op.CheckReach(reach); err != nil {
		return kept, err
	}
	err := a.Store.InTx(ctx, func(tx *db.Tx) error {
		var names []models.AuditFacts
		var mergeIDs []int64
		moved := 0
		for _, u := range merged {
			id, n, err := tx.MergeUsers(ctx, accountID, keep, u.ID)
			switch {
			case errors.Is(err, models.ErrNotMergeable):
				return &Conflict{Key: "users.merge_not_people"}
			case errors.Is(err, models.ErrNotFound), errors.Is(err, models.ErrConflict):
				return &Conflict{Key: "users.merge_gone"}
			case err != nil:
				return err
			}
			names = append(names, models.Facts("auditfacts.merged_person", "Name", u.Name,
				"Via", models.Facts("users.via."+string(u.AddedVia)), "UserID", u.ID))
			mergeIDs = append(mergeIDs, id)
			moved += n
		}
		return record(ctx, tx, actor, accountID, models.AuditUsersMerged,
			models.Facts("auditfacts.user_merged", "Merged", names, "Kept", kept.Name, "Count", moved, "KeptID", keep),
			models.EventUsersMerged, map[string]int64{"user": keep}, map[string]any{"merged_users": others, "merges": mergeIDs})
	})
	return kept, err
}

// UndoMerge splits merge mergeID again: the permissions that moved go back to the merged user,
// who is a person of their own again. The split touches every device of the kept person and
// gives the merged one back their permissions (their web key opens them again): op must reach
// them all. A merge that is not there (or undone already) is models.ErrNotFound; one whose kept
// person was merged into a third one since is *Conflict (that merge is undone first). It
// returns the merge as it was.
func (a *App) UndoMerge(ctx context.Context, op models.Operator, actor models.Actor, mergeID int64) (db.UserMerge, error) {
	accountID := op.Login.AccountID
	m, err := a.Store.FindMerge(ctx, accountID, mergeID)
	if err != nil {
		return m, err
	}
	auths, err := a.Store.FindUserAuthorizations(ctx, accountID, m.Kept.ID)
	if err != nil {
		return m, err
	}
	opens := models.WebKeyDevices(auths)
	if err := op.CheckReach(models.Reach{Touches: append(models.PersonDevices(auths), opens...), Opens: opens}); err != nil {
		return m, err
	}
	err = a.Store.InTx(ctx, func(tx *db.Tx) error {
		kept, merged, err := tx.UndoMerge(ctx, accountID, mergeID)
		if errors.Is(err, models.ErrConflict) {
			return &Conflict{Key: "users.undo_later_first"}
		}
		if err != nil {
			return err
		}
		return record(ctx, tx, actor, accountID, models.AuditUsersMergeUndone,
			models.Facts("auditfacts.user_merge_undone", "Merged", m.MergedName, "Kept", m.Kept.Name,
				"MergeID", mergeID, "MergedID", merged, "KeptID", kept),
			models.EventUserMergeUndone, map[string]int64{"user": kept, "merged_user": merged, "merge": mergeID}, nil)
	})
	return m, err
}

package devices

import (
	"context"

	"portier/db"
	"portier/models"
)

// recordActivity stores an activity entry and, when it is new, queues an email to every login
// subscribed to the device's events of its kind (PRODUCT.md L7) in the same transaction: a
// repeated device event is not new and sends nothing, and an entry that fails to store sends
// nothing either. Every entry the manager makes goes through here.
//
// One email per entry: a busy door sends many, which is what a subscriber to "door" asked for;
// the page says so next to the kinds.
func (m *Manager) recordActivity(ctx context.Context, a models.Activity) (bool, error) {
	return m.store.CreateActivityNotifying(ctx, a, m.logMail(ctx))
}

// recordAudited stores an activity entry of Portier's own (a lock action's result, an admin
// PIN change) and its audit row in one transaction, and sends its log notifications.
func (m *Manager) recordAudited(ctx context.Context, a models.Activity, audit models.AuditEntry) error {
	return m.store.CreateActivityAudited(ctx, a, m.logMail(ctx), audit)
}

// logMail is the composer of log notification emails for the store (the queued emails go out
// once the store's transaction commits).
func (m *Manager) logMail(ctx context.Context) db.ComposeLogMail {
	return func(n db.LogNotice) ([]models.OutboxMessage, error) {
		mails := make([]models.OutboxMessage, 0, len(n.Subscribers))
		for _, l := range n.Subscribers {
			msg, err := m.opt.Emails.LogNotification(ctx, l, n.Device, n.Kind, n.Entry)
			if err != nil {
				return nil, err
			}
			mails = append(mails, msg)
		}
		return mails, nil
	}
}

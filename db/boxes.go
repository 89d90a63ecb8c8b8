package db

import (
	"context"
	"database/sql"
	"fmt"

	"portier/models"
)

// FindBox returns the location of a box of the account and its PIN hash; ErrNotFound for a
// device that is no box set up by the wizard.
func (s *Store) FindBox(ctx context.Context, accountID, deviceID int64) (models.BoxSetup, error) {
	var b models.BoxSetup
	var lat, lon sql.NullFloat64
	err := s.db.Reader.QueryRowContext(ctx, `SELECT b.location, b.latitude, b.longitude, b.pin_hash FROM boxes b JOIN devices d ON d.id = b.device_id
		WHERE d.account_id = ? AND d.id = ? AND d.deleted_at IS NULL`, accountID, deviceID).Scan(&b.Text, &lat, &lon, &b.PINHash)
	if lat.Valid && lon.Valid {
		b.Latitude, b.Longitude = &lat.Float64, &lon.Float64
	}
	return b, mapNoRows(err, fmt.Sprintf("box %d", deviceID))
}

// UpdateBox changes a box's location and, when pinHash is not "", its PIN.
func (tx *Tx) UpdateBox(ctx context.Context, accountID, deviceID int64, loc models.BoxLocation, pinHash string) error {
	res, err := tx.ExecContext(ctx, `UPDATE boxes SET location = ?, latitude = ?, longitude = ?, pin_hash = CASE WHEN ? = '' THEN pin_hash ELSE ? END,
		updated_at = ? WHERE device_id = (SELECT id FROM devices WHERE account_id = ? AND id = ? AND deleted_at IS NULL)`,
		loc.Text, loc.Latitude, loc.Longitude, pinHash, pinHash, tx.now, accountID, deviceID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return notFound(fmt.Sprintf("box %d", deviceID))
	}
	return nil
}

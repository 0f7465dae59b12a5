package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/omadm/omadm/storage/internal/sqlcommon"
	"github.com/omadm/omadm/storage/secret"
)

// setupSecrets runs in the migration transaction (under its advisory lock):
// it finds the secret key, checks it against the database's key-check value
// (writing one the first time), and converts devices still stored with
// plaintext credentials (a database from before migration 5) to the
// protected form. Nodes starting together convert once; a failure leaves
// nothing converted.
func (s *Store) setupSecrets(ctx context.Context, tx pgx.Tx, o *Options) error {
	var check []byte
	err := tx.QueryRow(ctx, `SELECT sealed FROM secret_key_check WHERE id = 1`).Scan(&check)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	var sealedRows, plainServer int
	if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE server_password_sealed IS NOT NULL),
		count(*) FILTER (WHERE server_password <> '') FROM devices`).Scan(&sealedRows, &plainServer); err != nil {
		return err
	}
	key := o.SecretKey
	if key == nil && o.SecretKeyFile != "" {
		if key, err = secret.Resolve(o.SecretKeyFile, check != nil || sealedRows > 0); err != nil {
			return err
		}
	}
	switch {
	case key == nil && (check != nil || sealedRows > 0):
		return fmt.Errorf("%w: the database holds sealed server credentials (give the key file with --secret-key-file)", secret.ErrKeyRequired)
	case key == nil && plainServer > 0:
		return fmt.Errorf("%w: %d devices have plaintext server passwords to seal (give a key file with --secret-key-file)",
			secret.ErrKeyRequired, plainServer)
	case key == nil:
	case check != nil:
		if err := key.Verify(check); err != nil {
			return err
		}
	default:
		v, err := key.CheckValue()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO secret_key_check (id, sealed) VALUES (1, $1)`, v); err != nil {
			return err
		}
	}
	s.key = key
	n, err := s.convertLegacy(ctx, tx)
	if err != nil {
		return fmt.Errorf("converting plaintext credentials: %w", err)
	}
	s.converted = n
	return nil
}

// convertLegacy moves plaintext password and server_password values into
// password_hash and server_password_sealed and empties the plaintext
// columns; it returns how many devices it converted.
func (s *Store) convertLegacy(ctx context.Context, tx pgx.Tx) (int, error) {
	rows, err := tx.Query(ctx, sqlcommon.LegacyDevices+` FOR UPDATE`)
	if err != nil {
		return 0, err
	}
	todo, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sqlcommon.LegacyDevice, error) {
		var d sqlcommon.LegacyDevice
		err := r.Scan(d.Dest()...)
		return d, err
	})
	if err != nil {
		return 0, err
	}
	for _, d := range todo {
		hash, sealed, err := d.Convert(s.key)
		if err != nil {
			return 0, err
		}
		if _, err := tx.Exec(ctx, sqlcommon.ConvertLegacy, hash, sealed, d.ID); err != nil {
			return 0, err
		}
	}
	return len(todo), nil
}

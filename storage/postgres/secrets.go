package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/omadm/omadm/storage"
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
	rows, err := tx.Query(ctx, `SELECT id, username, password, server_password, password_hash,
		server_password_sealed FROM devices WHERE password <> '' OR server_password <> '' FOR UPDATE`)
	if err != nil {
		return 0, err
	}
	type row struct {
		id, user, pw, spw, hash string
		sealed                  []byte
	}
	todo, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.id, &x.user, &x.pw, &x.spw, &x.hash, &x.sealed)
		return x, err
	})
	if err != nil {
		return 0, err
	}
	for _, r := range todo {
		hash := storage.HashPassword(&storage.Device{Username: r.user, Password: r.pw, PasswordHash: r.hash})
		sealed := r.sealed
		if r.spw != "" {
			if sealed, err = s.key.SealFor(r.id, r.spw); err != nil {
				return 0, err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE devices SET password_hash = $1, server_password_sealed = $2,
			password = '', server_password = '' WHERE id = $3`, hash, sealed, r.id); err != nil {
			return 0, err
		}
	}
	return len(todo), nil
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
	"github.com/omadm/omadm/storage/secret"
)

// createPrivate makes sure the database file exists with mode 0600 before
// SQLite opens it, so the -wal and -shm files SQLite creates beside it take
// the same mode. A file that already exists is tightened to 0600 too (a
// failure there is not fatal: the file may belong to another user who
// shares it on purpose).
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		// chmod after create: the umask may have narrowed the mode, never
		// widened it, but be explicit about the result.
		return errors.Join(f.Chmod(0o600), f.Close())
	case errors.Is(err, fs.ErrExist):
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			_ = os.Chmod(p, 0o600)
		}
		return nil
	}
	return err
}

// chmodCompanions sets the -wal and -shm files to 0600 once SQLite has
// created them (it copies the database file's mode, this makes it certain).
func chmodCompanions(path string) error {
	var errs []error
	for _, p := range []string{path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// setupSecrets finds the secret key (Options.SecretKey, or the key file:
// created on first open when the database holds no sealed secret yet),
// checks it against the database's key-check value (writing one the first
// time), and converts devices still stored with plaintext credentials (a
// database from before migration 5) to the protected form. All in one
// IMMEDIATE transaction: two processes opening the file at once convert
// once, and a crash leaves either every row converted or none.
func (s *Store) setupSecrets(ctx context.Context, path string, o *Options) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: secrets: %w", err)
	}
	defer tx.Rollback()
	var check []byte
	err = tx.QueryRowContext(ctx, `SELECT sealed FROM secret_key_check WHERE id = 1`).Scan(&check)
	if err != nil && !errors.Is(wrap(err), storage.ErrNotFound) {
		return fmt.Errorf("sqlite: secrets: %w", err)
	}
	// Whether any server password is sealed matters only before the check
	// value exists; EXISTS stops at the first one instead of counting.
	var sealedRows int
	if check == nil {
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM devices WHERE server_password_sealed IS NOT NULL)`).Scan(&sealedRows); err != nil {
			return fmt.Errorf("sqlite: secrets: %w", err)
		}
	}
	key := o.SecretKey
	if key == nil {
		file := o.SecretKeyFile
		if file == "" {
			file = filepath.Join(filepath.Dir(path), secret.FileName)
		}
		if key, err = secret.Resolve(file, check != nil || sealedRows > 0); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
	}
	if check != nil {
		if err := key.Verify(check); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
	} else {
		v, err := key.CheckValue()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO secret_key_check (id, sealed) VALUES (1, ?)`, v); err != nil {
			return fmt.Errorf("sqlite: secrets: %w", err)
		}
	}
	s.key = key
	n, err := s.convertLegacy(ctx, tx)
	if err != nil {
		return fmt.Errorf("sqlite: converting plaintext credentials: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: secrets: %w", err)
	}
	s.converted = n
	if n > 0 {
		if _, err := s.w.ExecContext(ctx, `PRAGMA secure_delete = OFF`); err != nil {
			return fmt.Errorf("sqlite: secrets: %w", err)
		}
		// The old rows' pages were zeroed (secure_delete) in the database
		// image; copy it into the file and empty the WAL, which held them.
		if _, err := s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return fmt.Errorf("sqlite: checkpoint after conversion: %w", err)
		}
	}
	return nil
}

// convertLegacy moves plaintext password and server_password values into
// password_hash and server_password_sealed and empties the plaintext
// columns; it returns how many devices it converted.
func (s *Store) convertLegacy(ctx context.Context, tx *sql.Tx) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM devices WHERE password <> '' OR server_password <> ''`).Scan(&n); err != nil || n == 0 {
		return 0, err
	}
	// The rows rewritten below leave no plaintext behind in freed space
	// (a setting of the writer's connection: setupSecrets resets it).
	if _, err := tx.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return 0, err
	}
	rows, err := tx.QueryContext(ctx, q(sqlcommon.LegacyDevices))
	if err != nil {
		return 0, err
	}
	var todo []sqlcommon.LegacyDevice
	for rows.Next() {
		var d sqlcommon.LegacyDevice
		if err := rows.Scan(d.Dest()...); err != nil {
			rows.Close()
			return 0, err
		}
		todo = append(todo, d)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, err
	}
	for _, d := range todo {
		hash, sealed, err := d.Convert(s.key)
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, q(sqlcommon.ConvertLegacy), hash, sealed, d.ID); err != nil {
			return 0, err
		}
	}
	return len(todo), nil
}

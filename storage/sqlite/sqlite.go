// Package sqlite is the embedded, zero-configuration storage backend: one
// SQLite file (pure Go driver modernc.org/sqlite, no cgo) in WAL mode.
//
// One connection writes (SQLite serialises writers anyway; a single Go-side
// writer avoids SQLITE_BUSY between our own goroutines), a small pool reads
// concurrently with it, and one more connection copies WAL frames back into
// the database file beside the writer (checkpoint.go). Foreign keys are on,
// so deleting a device cascades to everything it owns. Several processes may
// open the same file; the busy timeout makes them wait for each other
// instead of failing.
//
// Times are stored as microseconds since the Unix epoch (the precision of the
// PostgreSQL backend, so both backends return the same values) and come back
// in UTC.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/migrations"
	"github.com/omadm/omadm/storage/secret"
)

// Store is a storage.Store on one SQLite database file.
type Store struct {
	w, r  *sql.DB // the single writer connection; the read-only pool
	st    stmts
	bulk  *bulkStmts    // multi-row inserts by row count (bulk.go)
	group *groupState   // batches waiting for the writer (group commit)
	ckpt  *checkpointer // WAL checkpoints beside the writer (checkpoint.go)
	key   *secret.Key   // seals server passwords (secrets.go)
	tx    *sql.Tx       // set on the Store a Batch hands to its function
	// warm is set on the Store a read borrowed the idle writer for
	// (warm.go): its statements run on the writer connection.
	warm bool
	// packs are trace bodies compressed before the batch began (effects.go).
	packs map[*storage.TraceEntry]packedTrace
	// converted is how many devices Open moved from plaintext credentials
	// to the protected form.
	converted int
}

var _ storage.Store = (*Store)(nil)

// busyTimeout is how long a statement waits for another process's write lock.
const busyTimeout = 10 * time.Second

// Options tune Open; the zero value (or nil) is the default.
type Options struct {
	// Synchronous is SQLite's synchronous setting: "NORMAL" (default; in WAL
	// mode a commit survives a crash of the process but the last commits may
	// be lost if the machine loses power) or "FULL" (every commit is fsynced
	// before it returns: durable across power loss, at the cost of one fsync
	// per commit, i.e. per DM message).
	Synchronous string
	// SecretKey seals the server passwords stored in the database
	// (storage/secret); nil means the key in SecretKeyFile.
	SecretKey *secret.Key
	// SecretKeyFile is the key file read when SecretKey is nil: "" means
	// secret.key in the database's directory. It is created (mode 0600) on
	// first open when the database holds no sealed secret yet; when it does,
	// a missing or different key fails Open with secret.ErrKeyRequired or
	// secret.ErrWrongKey.
	SecretKeyFile string
}

// Open opens (creating it and its parent directory when missing) the database
// at path with default Options, applies pending migrations and prepares every
// statement.
func Open(path string) (*Store, error) { return OpenWith(path, nil) }

// OpenWith is Open with Options (nil means the defaults).
//
// The database file and its -wal and -shm companions are created with mode
// 0600 and a missing directory with mode 0700. Credentials are stored in
// protected form (storage.Device.PasswordHash, the server password sealed
// with the secret key); a database written before that is converted here.
func OpenWith(path string, o *Options) (*Store, error) {
	if o == nil {
		o = &Options{}
	}
	sync := "NORMAL"
	if o.Synchronous != "" {
		sync = strings.ToUpper(o.Synchronous)
		if sync != "NORMAL" && sync != "FULL" {
			return nil, fmt.Errorf("sqlite: Synchronous %q: want NORMAL or FULL", o.Synchronous)
		}
	}
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: database path %q: want a plain file name without '?' or '#'", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: create directory: %w", err)
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	common := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=1&_synchronous=%s", busyTimeout.Milliseconds(), sync)
	w, err := sql.Open("sqlite", path+"?"+common+"&_journal_mode=WAL&_txlock=immediate&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(0)&_pragma=cache_size(-65536)")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, group: newGroupState()}
	ctx := context.Background()
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if err := s.setupSecrets(ctx, path, o); err != nil {
		w.Close()
		return nil, err
	}
	if err := chmodCompanions(path); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	r, err := sql.Open("sqlite", path+"?"+common+"&_query_only=1&_pragma=mmap_size(1073741824)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(5 * time.Minute)
	s.r = r
	c, err := sql.Open("sqlite", path+"?"+common)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	c.SetMaxOpenConns(1)
	c.SetMaxIdleConns(1)
	c.SetConnMaxIdleTime(0)
	s.ckpt = startCheckpointer(c)
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if s.bulk, err = prepareBulk(ctx, w); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// migrate applies the migrations not yet recorded in schema_migrations, each
// in its own IMMEDIATE transaction, so two processes opening a new file at
// the same time apply every migration once.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations.List(migrations.SQLite)
	if err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for _, m := range ms {
		if err := s.apply(ctx, m); err != nil {
			return fmt.Errorf("sqlite: migration %d_%s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}

func (s *Store) apply(ctx context.Context, m migrations.Migration) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().UnixMicro()); err != nil {
		return err
	}
	return tx.Commit()
}

// Synchronous reports the synchronous setting in effect on the writer
// connection ("NORMAL" or "FULL"), as SQLite itself reports it.
func (s *Store) Synchronous(ctx context.Context) (string, error) {
	var v int
	if err := s.w.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&v); err != nil {
		return "", wrap(err)
	}
	switch v {
	case 0:
		return "OFF", nil
	case 1:
		return "NORMAL", nil
	case 2:
		return "FULL", nil
	case 3:
		return "EXTRA", nil
	}
	return strconv.Itoa(v), nil
}

// Converted reports how many devices Open moved from plaintext credentials
// to the protected form (0 once a database has been converted).
func (s *Store) Converted() int { return s.converted }

// SchemaVersion reports the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, wrap(err)
	}
	return int(v.Int64), nil
}

// Ping checks that both the writer and the reader pool reach the file.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return wrap(err)
	}
	return wrap(s.r.PingContext(ctx))
}

// Close releases the prepared statements and connections; WAL content is
// checkpointed by SQLite when the last connection closes.
func (s *Store) Close() error {
	if s.tx != nil {
		return storage.ErrInBatch
	}
	s.group.drain()
	s.bulk.close()
	s.st.close()
	var errs []error
	if s.ckpt != nil {
		errs = append(errs, s.ckpt.close())
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	return errors.Join(errs...)
}

// wrap maps driver errors to the storage sentinels and prefixes the others.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return storage.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return fmt.Errorf("%w: %v", storage.ErrExists, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: no such device (%v)", storage.ErrNotFound, err)
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("sqlite: %w", err)
}

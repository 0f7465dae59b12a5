// Package postgres is the scale-out storage backend: several server processes
// share one PostgreSQL database (pgx/v5 connection pool), so any node can take
// the next message of any session.
//
// Every write that other nodes may race is one statement with a WHERE guard
// (session version, job not terminal) whose affected-row count decides the
// outcome; under READ COMMITTED PostgreSQL re-checks the guard against the
// row a concurrent writer committed, so exactly one of the racers wins.
// Statements are prepared and cached per connection by pgx.
//
// Times are timestamptz (microsecond precision) and come back in UTC.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/migrations"
	"github.com/omadm/omadm/storage/secret"
)

// Store is a storage.Store on a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	db   querier     // pool, or the transaction of a Batch
	key  *secret.Key // seals server passwords (secrets.go); nil = none configured
	inTx bool
	// group shares pipelines between concurrent WriteEffects (group.go).
	group *effectsGroup
	// converted is how many devices Open moved from plaintext credentials
	// to the protected form.
	converted int
	// counts caches the device search's plan counts (plancounts.go); nil
	// in a Batch, whose uncommitted changes they must not remember.
	counts *planCounts
}

// Options tune OpenWith; the zero value (or nil) is the default.
type Options struct {
	// SecretKey seals the server passwords stored in the database
	// (storage/secret). When it is nil and SecretKeyFile is "", the store
	// has no key: opening a database that holds sealed server passwords
	// fails with secret.ErrKeyRequired and storing a device with a server
	// password fails with secret.ErrNoKey.
	SecretKey *secret.Key
	// SecretKeyFile is the key file read when SecretKey is nil. It is
	// created (mode 0600) when missing and the database holds no sealed
	// secret yet; every node sharing the database needs the same file.
	SecretKeyFile string
}

// querier is what both *pgxpool.Pool and pgx.Tx offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

var _ storage.Store = (*Store)(nil)

// Open connects to dsn (a postgres:// URL or key=value string; pool settings
// such as pool_max_conns are honoured) and applies pending migrations. Tables
// are created in the first schema of the connection's search_path.
func Open(ctx context.Context, dsn string) (*Store, error) { return OpenWith(ctx, dsn, nil) }

// OpenWith is Open with Options (nil means the defaults). Credentials are
// stored in protected form (storage.Device.PasswordHash, the server password
// sealed with the secret key); a database written before that is converted
// here, in the migration transaction.
func OpenWith(ctx context.Context, dsn string, o *Options) (*Store, error) {
	if o == nil {
		o = &Options{}
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, db: pool, group: &effectsGroup{}, counts: &planCounts{}}
	if err := s.migrate(ctx, o); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// migrate applies pending migrations in one transaction under an advisory
// lock keyed by the schema, so nodes starting together migrate exactly once
// and wait for each other, and a failed migration leaves nothing behind.
func (s *Store) migrate(ctx context.Context, o *Options) error {
	ms, err := migrations.List(migrations.Postgres)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('omadm-migrate:' || coalesce(current_schema(), '')))`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version integer NOT NULL PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		applied := map[int]bool{}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return err
		}
		vs, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return err
		}
		for _, v := range vs {
			applied[int(v)] = true
		}
		for _, m := range ms {
			if applied[m.Version] {
				continue
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %d_%s: %w", m.Version, m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return err
			}
		}
		return s.setupSecrets(ctx, tx, o)
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// Converted reports how many devices Open moved from plaintext credentials
// to the protected form (0 once a database has been converted).
func (s *Store) Converted() int { return s.converted }

// SchemaVersion reports the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v *int32
	if err := s.pool.QueryRow(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, wrap(err)
	}
	if v == nil {
		return 0, nil
	}
	return int(*v), nil
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return wrap(s.pool.Ping(ctx)) }

// Close closes every pooled connection.
func (s *Store) Close() error {
	if s.inTx {
		return storage.ErrInBatch
	}
	s.pool.Close()
	return nil
}

// Pool exposes the connection pool (metrics, health checks).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// PostgreSQL error codes mapped to storage sentinels.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

func wrap(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeUniqueViolation:
			return fmt.Errorf("%w: %v", storage.ErrExists, err)
		case codeForeignKeyViolation:
			return fmt.Errorf("%w: no such device (%v)", storage.ErrNotFound, err)
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("postgres: %w", err)
}

// now is the current time at the stored precision.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

var _ storage.ImportPreparer = (*Store)(nil)

// copyImportMin is the import size from which ImportDevices copies the
// devices into a staging table (COPY) and inserts them with one statement;
// smaller imports are a pipeline of single-row INSERTs, which costs less
// than creating the staging table.
const copyImportMin = 64

// importRow is a device of an import that passed its checks.
type importRow struct {
	i       int
	hash    string
	created time.Time
	args    []any // the values of deviceCols
}

// importPrep is an import unit with its checks done and its rows encoded.
type importPrep struct {
	ds     []*storage.Device
	pool   *pgxpool.Pool // of the store that prepared it
	errs   []error       // refusals of the checks
	queued []importRow
}

func (p *importPrep) Devices() []*storage.Device { return p.ds }

// ImportDevices inserts the devices in one transaction, skipping taken IDs
// (ON CONFLICT DO NOTHING: the transaction survives them). A large import
// is copied (COPY FROM STDIN, binary) into a temporary staging table and
// moved into devices by one INSERT … SELECT in ID order, so the server
// parses and plans one statement instead of one per device.
func (s *Store) ImportDevices(ctx context.Context, ds []*storage.Device) ([]error, error) {
	return s.StoreImport(ctx, s.PrepareImport(ds))
}

// PrepareImport implements storage.ImportPreparer: the checks, password
// hashes, sealed server passwords and row values of ImportDevices.
func (s *Store) PrepareImport(ds []*storage.Device) storage.PreparedImport {
	p := &importPrep{ds: ds, pool: s.pool, errs: make([]error, len(ds))}
	created := now()
	first := make(sqlcommon.ImportIDs, len(ds))
	for i, d := range ds {
		if d.ID == "" {
			p.errs[i] = errors.New("storage: device id is empty")
			continue
		}
		args, err := s.deviceArgs(d)
		if err != nil {
			p.errs[i] = err
			continue
		}
		if err := first.Repeat(d.ID); err != nil {
			p.errs[i] = err
			continue
		}
		c := norm(d.CreatedAt)
		if c.IsZero() {
			c = created
		}
		args = append(append([]any{d.ID}, args...), c, ts(norm(d.LastSeen)))
		p.queued = append(p.queued, importRow{i, args[3].(string), c, args})
	}
	return p
}

// StoreImport implements storage.ImportPreparer.
func (s *Store) StoreImport(ctx context.Context, pi storage.PreparedImport) ([]error, error) {
	p, ok := pi.(*importPrep)
	if !ok || p.pool != s.pool {
		return nil, storage.ErrForeignImport
	}
	errs := slices.Clone(p.errs)
	queued, ds := p.queued, p.ds
	if len(queued) == 0 {
		return errs, nil
	}
	inserted := make(map[string]bool, len(queued))
	err := s.inTxDo(ctx, func(in *Store) error {
		if len(queued) < copyImportMin {
			b := &pgx.Batch{}
			for _, r := range queued {
				b.Queue(`INSERT INTO devices (`+deviceCols+`, password, server_password)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, '', '') ON CONFLICT (id) DO NOTHING`, r.args...)
			}
			br := in.db.SendBatch(ctx, b)
			for _, r := range queued {
				tag, err := br.Exec()
				if err != nil {
					br.Close()
					return wrap(err)
				}
				if tag.RowsAffected() == 1 {
					inserted[ds[r.i].ID] = true
				}
			}
			return wrap(br.Close())
		}
		cp, ok := in.db.(interface {
			CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error)
		})
		if !ok {
			return errors.New("postgres: import: the connection cannot COPY")
		}
		// The staging table has the columns (and types) of deviceCols and
		// lives until the transaction ends; a second import in the same
		// transaction empties it.
		if _, err := in.db.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS omadm_import ON COMMIT DROP AS
			SELECT `+deviceCols+` FROM devices WITH NO DATA`); err != nil {
			return wrap(err)
		}
		if _, err := in.db.Exec(ctx, `TRUNCATE omadm_import`); err != nil {
			return wrap(err)
		}
		if _, err := cp.CopyFrom(ctx, pgx.Identifier{"omadm_import"}, strings.Split(deviceCols, ", "),
			pgx.CopyFromSlice(len(queued), func(i int) ([]any, error) { return queued[i].args, nil })); err != nil {
			return wrap(err)
		}
		rows, err := in.db.Query(ctx, `INSERT INTO devices (`+deviceCols+`, password, server_password)
			SELECT `+deviceCols+`, '', '' FROM omadm_import ORDER BY id ON CONFLICT (id) DO NOTHING RETURNING id`)
		if err != nil {
			return wrap(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return wrap(err)
			}
			inserted[id] = true
		}
		return wrap(rows.Err())
	})
	if err != nil {
		return nil, err
	}
	for _, r := range queued {
		d := ds[r.i]
		if !inserted[d.ID] {
			errs[r.i] = fmt.Errorf("%w: device %s", storage.ErrExists, d.ID)
			continue
		}
		d.PasswordHash = r.hash
		d.CreatedAt, d.LastSeen = r.created, norm(d.LastSeen)
	}
	return errs, nil
}

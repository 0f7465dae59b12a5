package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/omadm/omadm/storage"
)

var _ storage.Batcher = (*Store)(nil)

// Batch runs fn inside one READ COMMITTED transaction (see storage.Batcher).
// The guarded writes keep their meaning inside it: SaveSession's version
// check and UpdateJob's terminal guard lock the row they change, so of two
// nodes racing for one session the second waits for the first to commit,
// then finds the version moved and reports ErrConflict; fn's error rolls the
// loser's whole batch back. A database error (other than those guards, which
// are not errors to PostgreSQL) aborts the transaction, so fn should return
// it. Called on a Store already inside a batch it runs fn in the same
// transaction.
func (s *Store) Batch(ctx context.Context, fn func(storage.Store) error) error {
	if s.inTx {
		return fn(s)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap(err)
	}
	done := false
	defer func() {
		if !done {
			tx.Rollback(context.WithoutCancel(ctx)) // fn panicked: undo, then let the panic go on
		}
	}()
	if err := fn(&Store{pool: s.pool, db: tx, key: s.key, inTx: true}); err != nil {
		done = true
		tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	done = true
	return wrap(tx.Commit(ctx))
}

var _ querier = pgx.Tx(nil)

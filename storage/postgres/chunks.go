package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

var _ storage.ChunkStore = (*Store)(nil)

const (
	appendChunk  = sqlcommon.AppendChunk
	deleteChunks = sqlcommon.DeleteChunks
)

// AppendChunks inserts the chunks in one pipelined implicit transaction: all
// or none.
func (s *Store) AppendChunks(ctx context.Context, cs []*storage.Chunk) error {
	if len(cs) == 0 {
		return nil
	}
	var b pgx.Batch
	for _, c := range cs {
		if c.Seq < 0 {
			return fmt.Errorf("postgres: chunk seq %d is negative", c.Seq)
		}
		if err := checkText("chunk device id", c.DeviceID, "chunk session id", c.SessionID); err != nil {
			return err
		}
		b.Queue(appendChunk, c.DeviceID, c.SessionID, c.Seq, blob(c.Data))
	}
	return wrap(s.db.SendBatch(ctx, &b).Close())
}

// ReadChunks returns a session's chunks concatenated in order.
func (s *Store) ReadChunks(ctx context.Context, deviceID, sessionID string) ([]byte, int, error) {
	rows, err := s.db.Query(ctx, sqlcommon.ReadChunks, deviceID, sessionID)
	if err != nil {
		return nil, 0, wrap(err)
	}
	defer rows.Close()
	out, n, err := sqlcommon.ReadChunkRows(rows)
	return out, n, wrap(err)
}

// DeleteChunks removes a session's chunks.
func (s *Store) DeleteChunks(ctx context.Context, deviceID, sessionID string) error {
	_, err := s.db.Exec(ctx, deleteChunks, deviceID, sessionID)
	return wrap(err)
}

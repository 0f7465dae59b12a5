package sqlite

import (
	"context"
	"fmt"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

var _ storage.ChunkStore = (*Store)(nil)

// AppendChunks inserts the chunks in one transaction: all or none.
func (s *Store) AppendChunks(ctx context.Context, cs []*storage.Chunk) error {
	if len(cs) == 0 {
		return nil
	}
	return s.Batch(ctx, func(in storage.Store) error {
		ins := in.(*Store).use(ctx, s.st.appendChunk)
		for _, c := range cs {
			if c.Seq < 0 {
				return fmt.Errorf("sqlite: chunk seq %d is negative", c.Seq)
			}
			if _, err := ins.ExecContext(ctx, c.DeviceID, c.SessionID, c.Seq, blob(c.Data)); err != nil {
				return wrap(err)
			}
		}
		return nil
	})
}

// ReadChunks returns a session's chunks concatenated in order.
func (s *Store) ReadChunks(ctx context.Context, deviceID, sessionID string) ([]byte, int, error) {
	rows, err := s.use(ctx, s.st.readChunks).QueryContext(ctx, deviceID, sessionID)
	if err != nil {
		return nil, 0, wrap(err)
	}
	defer rows.Close()
	out, n, err := sqlcommon.ReadChunkRows(rows)
	return out, n, wrap(err)
}

// DeleteChunks removes a session's chunks.
func (s *Store) DeleteChunks(ctx context.Context, deviceID, sessionID string) error {
	if s.tx == nil {
		return s.solo(ctx, func(in *Store) error { return in.DeleteChunks(ctx, deviceID, sessionID) })
	}
	_, err := s.use(ctx, s.st.deleteChunks).ExecContext(ctx, deviceID, sessionID)
	return wrap(err)
}

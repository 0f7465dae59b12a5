package sqlite

import (
	"context"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/tracez"
)

var _ storage.EffectsWriter = (*Store)(nil)

// packedTrace is a trace body in its stored form (storage/internal/tracez).
type packedTrace struct {
	codec int
	ct    string
	data  []byte
}

func packTrace(t *storage.TraceEntry) packedTrace {
	n, ct, data := tracez.Pack(t.ContentType, t.Body)
	return packedTrace{n, ct, data}
}

// packTraces compresses the bodies of ts, outside the writer.
func packTraces(ts []*storage.TraceEntry) map[*storage.TraceEntry]packedTrace {
	if len(ts) == 0 {
		return nil
	}
	m := make(map[*storage.TraceEntry]packedTrace, len(ts))
	for _, t := range ts {
		m[t] = packTrace(t)
	}
	return m
}

// WriteEffects stores e in one batch (storage.EffectsWriter) with the
// individual methods, like storage.WriteEffects does for any Batcher; the
// difference is that the trace bodies are compressed first, by the calling
// goroutine, so the single writer only runs statements.
func (s *Store) WriteEffects(ctx context.Context, e *storage.Effects) error {
	if s.tx != nil {
		return storage.WriteEach(ctx, s, e)
	}
	packs := packTraces(e.Traces)
	var saved storage.Session
	if e.Session != nil {
		saved = *e.Session
	}
	err := s.Batch(ctx, func(in storage.Store) error {
		c := *in.(*Store)
		c.packs = packs
		return storage.WriteEach(ctx, &c, e)
	})
	if err != nil && e.Session != nil {
		*e.Session = saved // nothing was stored: the version did not move
	}
	return err
}

package server

import (
	"context"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// chunkedItem handles one item that may be part of a large object
// (OMA-TS-DM_Protocol-V1_2 §7). It returns the complete item when one is available,
// 213 for an accepted non-last chunk, 424 on a size mismatch, 413 when the
// object exceeds our MaxObjSize, 411 for a chunk that starts no object.
//
// Each chunk is stored once (appended to the store with the message that
// carried it, see inLO), so receiving an object costs writes linear in its
// size; the chunks are read back once, with the last one.
func (x *exchange) chunkedItem(ctx context.Context, cmd, msgRef, cmdRef string, alert syncml.AlertCode, corr string, it syncml.Item, m *syncml.Meta) (*storage.ResultItem, syncml.StatusCode) {
	lo := x.st.InLO
	if lo == nil && !it.MoreData {
		ri := resultItem(it, m)
		return &ri, syncml.StatusOK
	}
	if lo == nil {
		lo = &inLO{Cmd: cmd, MsgRef: msgRef, CmdRef: cmdRef, Alert: int(alert), Correlator: corr}
		ri := resultItem(syncml.Item{Source: it.Source, Target: it.Target, Meta: it.Meta}, m)
		lo.Source, lo.Format, lo.Type = ri.URI, ri.Format, ri.Type
		if it.Target != nil {
			lo.Target = it.Target.LocURI
		}
		if it.Meta != nil {
			lo.Size, lo.Mark = it.Meta.Size, it.Meta.Mark
		}
		if lo.Size == 0 && m != nil {
			lo.Size = m.Size
		}
		if lo.Size <= 0 {
			// OMA-TS-DM_Protocol-V1_2 §7 (Large Object Handling): the
			// first chunk of an object MUST carry Meta Size, and only the
			// first. A chunk without one while no object is open starts
			// nothing this session knows (say, the rest of an object
			// dropped with Alert 1225): it is refused, not buffered.
			x.e.rejects.Warn(x.log(), "large object chunk without Meta Size and no object open: refused", "cmd", cmd, "source", lo.Source)
			return nil, syncml.StatusSizeRequired
		}
		if it.Data != nil {
			lo.Opaque = it.Data.Kind == syncml.DataOpaque
		}
		if _, ok := x.e.store.(storage.ChunkStore); ok {
			// Chunks left behind by an earlier object of a session with
			// the same ID go first.
			lo.Stored, x.dropChunks = true, true
		}
		x.st.InLO = lo
	}
	var data []byte
	if it.Data != nil {
		data = it.Data.Value
	}
	if !lo.Stored {
		// Data holds everything so far (also in a state written before
		// Got existed).
		lo.Got = int64(len(lo.Data))
	}
	lo.Got += int64(len(data))
	if lo.Got > int64(x.e.o.MaxObjSize) || lo.Size > int64(x.e.o.MaxObjSize) {
		x.dropInLO()
		x.e.rejects.Warn(x.log(), "large object from device exceeds MaxObjSize", "size", lo.Size, "max", x.e.o.MaxObjSize)
		return nil, syncml.StatusEntityTooLarge
	}
	switch {
	case !lo.Stored:
		lo.Data = append(lo.Data, data...)
	case len(data) > 0:
		x.chunks = append(x.chunks, &storage.Chunk{DeviceID: x.sess.DeviceID, SessionID: x.sess.SessionID, Seq: lo.Chunks, Data: data})
		lo.Chunks++
	}
	if it.MoreData {
		return nil, syncml.StatusChunkAccepted
	}
	here := x.dropInLO()
	if lo.Size > 0 && lo.Got != lo.Size {
		x.e.rejects.Warn(x.log(), "large object size mismatch", "declared", lo.Size, "received", lo.Got)
		return nil, syncml.StatusSizeMismatch
	}
	full := lo.Data
	if lo.Stored {
		var code syncml.StatusCode
		if full, code = x.assemble(ctx, lo, here); code != syncml.StatusOK {
			return nil, code
		}
	}
	kind := syncml.DataText
	if lo.Opaque {
		kind = syncml.DataOpaque
	}
	item := syncml.Item{Source: &syncml.Location{LocURI: lo.Source}, Meta: &syncml.Meta{Format: lo.Format, Type: lo.Type},
		Data: &syncml.Data{Kind: kind, Value: full}}
	ri := resultItem(item, nil)
	return &ri, syncml.StatusOK
}

// assemble reads back the stored chunks of a completed object and appends
// those of this message. A storage error fails the whole message (nothing is
// stored, the device's retry finds the object as it was); chunks missing
// from storage abandon the object with 500.
func (x *exchange) assemble(ctx context.Context, lo *inLO, here []*storage.Chunk) ([]byte, syncml.StatusCode) {
	cs := x.e.store.(storage.ChunkStore)
	full, n, err := cs.ReadChunks(ctx, x.sess.DeviceID, x.sess.SessionID)
	if err != nil {
		x.loErr = err
		return nil, syncml.StatusCommandFailed
	}
	if n != lo.Chunks-len(here) {
		x.log().Error("large object chunks missing from storage: object dropped", "stored", n, "want", lo.Chunks-len(here))
		return nil, syncml.StatusCommandFailed
	}
	for _, c := range here {
		full = append(full, c.Data...)
	}
	if int64(len(full)) != lo.Got {
		x.log().Error("large object chunks in storage do not add up: object dropped", "bytes", len(full), "want", lo.Got)
		return nil, syncml.StatusCommandFailed
	}
	return full, syncml.StatusOK
}

// dropInLO closes the open inbound object (completed or abandoned): its
// stored chunks are deleted with this message, and the chunks this message
// carried for it are returned instead of being stored.
func (x *exchange) dropInLO() (here []*storage.Chunk) {
	if lo := x.st.InLO; lo != nil && lo.Stored {
		x.dropChunks = true
	}
	here, x.chunks = x.chunks, nil
	x.st.InLO = nil
	return here
}

// sameObject reports whether a chunk continues the open inbound object.
func (x *exchange) sameObject(cmd, cmdRef string, alert syncml.AlertCode) bool {
	lo := x.st.InLO
	return lo != nil && lo.Cmd == cmd && (cmd != "Results" || lo.CmdRef == cmdRef) && (cmd != "Alert" || lo.Alert == int(alert))
}

// checkInterrupted drops an open inbound large object when the device sends
// something else before its last chunk, answering Alert 1225 (OMA-TS-DM_Protocol-V1_2 §7).
func (x *exchange) checkInterrupted(cmd, cmdRef string, alert syncml.AlertCode) {
	lo := x.st.InLO
	if lo == nil || x.sameObject(cmd, cmdRef, alert) {
		return
	}
	x.e.rejects.Warn(x.log(), "large object interrupted by a new command", "object", lo.Cmd)
	it := syncml.Item{}
	if lo.Source != "" {
		it.Source = &syncml.Location{LocURI: lo.Source}
	}
	if lo.Target != "" {
		it.Target = &syncml.Location{LocURI: lo.Target}
	}
	x.alerts1225 = append(x.alerts1225, it)
	x.dropInLO()
}

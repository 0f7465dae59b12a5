package storagetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

// chunkTests check the ChunkStore ability (the large object a session is
// receiving); a store without it skips them.
var chunkTests = []test{
	{"AppendedChunksReadBackInOrder", withChunks(func(t *testing.T, s storage.Store, cs storage.ChunkStore) {
		sess := mustSession(t, s, "dev", "1")
		// Appended out of order, in two calls: read back by Seq.
		check(t, "AppendChunks", cs.AppendChunks(bg, []*storage.Chunk{chunk(sess, 1, "def"), chunk(sess, 0, "abc")}))
		check(t, "AppendChunks", cs.AppendChunks(bg, []*storage.Chunk{chunk(sess, 2, "\x00\xff")}))
		data, n, err := cs.ReadChunks(bg, "dev", "1")
		check(t, "ReadChunks", err)
		if n != 3 || !bytes.Equal(data, []byte("abcdef\x00\xff")) {
			t.Fatalf("ReadChunks = %q, %d chunks", data, n)
		}
		data, n, err = cs.ReadChunks(bg, "dev", "other")
		if err != nil || n != 0 || len(data) != 0 {
			t.Fatalf("ReadChunks of a session without chunks = %q, %d, %v", data, n, err)
		}
	})},
	{"AppendRefusesTakenSeqAndMissingSession", withChunks(func(t *testing.T, s storage.Store, cs storage.ChunkStore) {
		sess := mustSession(t, s, "dev", "1")
		check(t, "AppendChunks", cs.AppendChunks(bg, []*storage.Chunk{chunk(sess, 0, "abc")}))
		wantErr(t, "same seq again", cs.AppendChunks(bg, []*storage.Chunk{chunk(sess, 0, "xyz")}), storage.ErrExists)
		wantErr(t, "unknown session", cs.AppendChunks(bg, []*storage.Chunk{{DeviceID: "dev", SessionID: "nope", Data: []byte("x")}}), storage.ErrNotFound)
		data, _, err := cs.ReadChunks(bg, "dev", "1")
		check(t, "ReadChunks", err)
		if string(data) != "abc" {
			t.Fatalf("after refused appends: %q", data)
		}
	})},
	{"ChunksGoWithDeleteTheirSessionAndDevice", withChunks(func(t *testing.T, s storage.Store, cs storage.ChunkStore) {
		a := mustSession(t, s, "dev", "a")
		b := mustSession(t, s, "dev", "b")
		other := mustSession(t, s, "dev2", "a")
		check(t, "AppendChunks", cs.AppendChunks(bg, []*storage.Chunk{chunk(a, 0, "a"), chunk(b, 0, "b"), chunk(other, 0, "o")}))
		check(t, "DeleteChunks", cs.DeleteChunks(bg, "dev", "a"))
		check(t, "DeleteChunks of nothing", cs.DeleteChunks(bg, "dev", "a"))
		if _, n, _ := cs.ReadChunks(bg, "dev", "a"); n != 0 {
			t.Errorf("deleted chunks: %d left", n)
		}
		if data, _, _ := cs.ReadChunks(bg, "dev", "b"); string(data) != "b" {
			t.Errorf("other session's chunks: %q", data)
		}
		// Expired sessions take their chunks along.
		_, err := s.DeleteSessionsBefore(bg, time.Now().Add(time.Hour))
		check(t, "DeleteSessionsBefore", err)
		if _, n, _ := cs.ReadChunks(bg, "dev", "b"); n != 0 {
			t.Errorf("expired session's chunks: %d left", n)
		}
		// So does a deleted device (a fresh session of it first).
		c := mustSession(t, s, "dev2", "c")
		check(t, "AppendChunks", cs.AppendChunks(bg, []*storage.Chunk{chunk(c, 0, "c")}))
		check(t, "DeleteDevice", s.DeleteDevice(bg, "dev2"))
		if _, n, _ := cs.ReadChunks(bg, "dev2", "c"); n != 0 {
			t.Errorf("deleted device's chunks: %d left", n)
		}
	})},
	{"WriteEffectsStoresChunksWithTheSessionOrNothing", withChunks(func(t *testing.T, s storage.Store, cs storage.ChunkStore) {
		mustDevice(t, s, "dev")
		// A new session and its first chunk in one write.
		ss := &storage.Session{DeviceID: "dev", SessionID: "1", Token: "tok-1"}
		ref := storage.SessionRef{DeviceID: "dev", SessionID: "1"}
		check(t, "WriteEffects", storage.WriteEffects(bg, s, &storage.Effects{Session: ss,
			DropChunks: []storage.SessionRef{ref}, Chunks: []*storage.Chunk{chunk(ss, 0, "abc")}}))
		// A write refused by the session's version check stores no chunk.
		stale := *ss
		stale.Version = 99
		err := storage.WriteEffects(bg, s, &storage.Effects{Session: &stale, Chunks: []*storage.Chunk{chunk(ss, 1, "zzz")}})
		wantErr(t, "stale WriteEffects", err, storage.ErrConflict)
		// So is a write whose chunk is refused, where the store is atomic:
		// the session keeps its version.
		_, batcher := s.(storage.Batcher)
		_, writer := s.(storage.EffectsWriter)
		if batcher || writer {
			before := ss.Version
			err = storage.WriteEffects(bg, s, &storage.Effects{Session: ss, Chunks: []*storage.Chunk{chunk(ss, 0, "dup")}})
			if !errors.Is(err, storage.ErrExists) {
				t.Fatalf("WriteEffects with a taken seq: %v, want ErrExists", err)
			}
			if got, err := s.GetSession(bg, "dev", "1"); err != nil || got.Version != before || ss.Version != before {
				t.Fatalf("session after a refused write: %+v, %v (want version %d)", got, err, before)
			}
		}
		check(t, "WriteEffects", storage.WriteEffects(bg, s, &storage.Effects{Session: ss, Chunks: []*storage.Chunk{chunk(ss, 1, "def")}}))
		data, n, err := cs.ReadChunks(bg, "dev", "1")
		check(t, "ReadChunks", err)
		if n != 2 || string(data) != "abcdef" {
			t.Fatalf("ReadChunks = %q, %d", data, n)
		}
		// Dropping and appending in one write starts a new object.
		check(t, "WriteEffects", storage.WriteEffects(bg, s, &storage.Effects{Session: ss,
			DropChunks: []storage.SessionRef{ref}, Chunks: []*storage.Chunk{chunk(ss, 0, "new")}}))
		if data, _, _ := cs.ReadChunks(bg, "dev", "1"); string(data) != "new" {
			t.Fatalf("after drop and append: %q", data)
		}
	})},
}

func withChunks(fn func(t *testing.T, s storage.Store, cs storage.ChunkStore)) func(t *testing.T, s storage.Store) {
	return func(t *testing.T, s storage.Store) {
		cs, ok := s.(storage.ChunkStore)
		if !ok {
			t.Skip("store has no ChunkStore ability")
		}
		fn(t, s, cs)
	}
}

// mustSession saves a new session (creating its device when missing).
func mustSession(t *testing.T, s storage.Store, deviceID, sessionID string) *storage.Session {
	t.Helper()
	if _, err := s.GetDevice(bg, deviceID); errors.Is(err, storage.ErrNotFound) {
		mustDevice(t, s, deviceID)
	}
	ss := &storage.Session{DeviceID: deviceID, SessionID: sessionID, Token: "tok-" + deviceID + "-" + sessionID}
	check(t, "SaveSession", s.SaveSession(bg, ss))
	return ss
}

func chunk(ss *storage.Session, seq int, data string) *storage.Chunk {
	return &storage.Chunk{DeviceID: ss.DeviceID, SessionID: ss.SessionID, Seq: seq, Data: []byte(data)}
}

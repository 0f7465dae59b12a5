package storage

import "context"

// Chunk is one piece of a large object a device sends over several messages
// of a session (a chunked Results or Alert item). Chunks are kept apart from
// the session state, each stored once when it arrives, so receiving an
// object costs storage writes linear in its size instead of rewriting
// everything received so far with every message.
type Chunk struct {
	DeviceID  string
	SessionID string
	Seq       int // position in the object, from 0
	Data      []byte
}

// SessionRef names one session.
type SessionRef struct {
	DeviceID  string
	SessionID string
}

// ChunkStore is an optional ability of a Store (found by type assertion):
// keep the chunks of the large object a session is receiving. A session has
// at most one such object at a time. Chunks belong to their session: they go
// when it is deleted (DeleteSessionsBefore, DeleteDevice). A Store handed to
// Batch's function has the ability when the outer one has it.
//
// Without it the engine keeps the partial object inside the session state
// (cost quadratic in the object's size).
type ChunkStore interface {
	// AppendChunks stores chunks of existing sessions: ErrNotFound when a
	// chunk's session does not exist, ErrExists when its Seq is taken.
	AppendChunks(ctx context.Context, cs []*Chunk) error
	// ReadChunks returns the data of a session's chunks concatenated in Seq
	// order, and how many chunks there were (0 and nil when none).
	ReadChunks(ctx context.Context, deviceID, sessionID string) (data []byte, n int, err error)
	// DeleteChunks removes a session's chunks (none is not an error).
	DeleteChunks(ctx context.Context, deviceID, sessionID string) error
}

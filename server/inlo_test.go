package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
	"github.com/omadm/omadm/syncml"
)

// stores are the backends the engine's large-object tests run on.
var stores = []struct {
	name string
	open func(tb testing.TB) storage.Store
}{
	{"memory", func(testing.TB) storage.Store { return memstore.New() }},
	{"sqlite", openSQLite},
	{"postgres", openPostgres}, // skipped without OMADM_TEST_POSTGRES
}

// objectRun is one session in which the device answers a Get with a large
// object in chunks.
type objectRun struct {
	h      *harness
	d      *device
	job    int64
	get    *syncml.Get
	getMsg string
	ref    string          // CmdRef of the Results ("" = the Get's)
	last   *syncml.Message // the server's last reply
}

// startObject enrols the device, queues a Get of ./Big and opens the
// session (package 1 answered with the Get).
func startObject(tb testing.TB, st storage.Store) *objectRun {
	tb.Helper()
	h := newHarness(tb, st)
	h.addDevice(tb, "basic")
	o := &objectRun{h: h, d: newDevice(h.e, "basic")}
	o.d.enc = syncml.EncodingWBXML // binary chunks as they are (OPAQUE)
	o.job = h.addJob(tb, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./Big"}}})
	o.last = o.d.post(tb, o.d.message(true, o.d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	o.get = commands(o.last)[0].(*syncml.Get)
	o.getMsg = o.last.Header.MsgID
	return o
}

// chunk sends one Results chunk (Meta Size when declared > 0) and returns
// the status the server gave it (200 when it sent none).
func (o *objectRun) chunk(tb testing.TB, first bool, data []byte, more bool, declared int64) syncml.StatusCode {
	tb.Helper()
	it := syncml.Item{Source: &syncml.Location{LocURI: "./Big"}, Data: &syncml.Data{Kind: syncml.DataOpaque, Value: data}, MoreData: more}
	if declared > 0 {
		it.Meta = &syncml.Meta{Format: "bin", Size: declared}
	}
	cmds := []syncml.Command{&syncml.Status{CmdID: "1", MsgRef: o.last.Header.MsgID, CmdRef: "0", Cmd: "SyncHdr", Data: 200}}
	if first {
		cmds = append(cmds, &syncml.Status{CmdID: "2", MsgRef: o.getMsg, CmdRef: o.get.CmdID, Cmd: "Get", Data: 200})
	}
	ref := o.ref
	if ref == "" {
		ref = o.get.CmdID
	}
	cmds = append(cmds, &syncml.Results{CmdID: "3", MsgRef: o.getMsg, CmdRef: ref, Items: []syncml.Item{it}})
	o.last = o.d.post(tb, o.d.message(!more, cmds...))
	if st := statusFor(o.last, "3"); st != nil {
		return st.Data
	}
	return syncml.StatusOK
}

// send sends data in chunks of size n, declaring declared as Meta Size, and
// returns the status of each chunk.
func (o *objectRun) send(tb testing.TB, data []byte, n int, declared int64) []syncml.StatusCode {
	tb.Helper()
	var codes []syncml.StatusCode
	for off := 0; off < len(data); off += n {
		end := min(off+n, len(data))
		d := declared
		if off > 0 {
			d = 0 // Meta Size only on the first chunk
		}
		codes = append(codes, o.chunk(tb, off == 0, data[off:end], end < len(data), d))
	}
	return codes
}

func (o *objectRun) stateBytes(tb testing.TB) int {
	tb.Helper()
	s, err := o.h.store.GetSession(context.Background(), devID, o.d.sessionID)
	if err != nil {
		tb.Fatal(err)
	}
	return len(s.State)
}

func (o *objectRun) chunksLeft(tb testing.TB) int {
	tb.Helper()
	cs, ok := o.h.store.(storage.ChunkStore)
	if !ok {
		return 0
	}
	_, n, err := cs.ReadChunks(context.Background(), devID, o.d.sessionID)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func randomBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

// TestEngine_InboundLargeObjectIsStoredChunkByChunk: OMA-TS-DM_Protocol-V1_2
// §8.2 (Large Object Handling): every non-last chunk is answered 213 and
// the object is committed, whole, with the last one. The partial object is
// not kept inside the session state (which would be rewritten whole with
// every message): the state stays the same small size however much has
// arrived, and no chunk is left once the object is complete.
func TestEngine_InboundLargeObjectIsStoredChunkByChunk(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			o := startObject(t, s.open(t))
			data := randomBytes(1<<20+123, 1)
			const n = 4 << 10
			var stateAfterFirst, stateMax int
			for off := 0; off < len(data); off += n {
				end := min(off+n, len(data))
				declared := int64(0)
				if off == 0 {
					declared = int64(len(data))
				}
				more := end < len(data)
				code := o.chunk(t, off == 0, data[off:end], more, declared)
				if more {
					if code != syncml.StatusChunkAccepted {
						t.Fatalf("chunk at %d: status %d, want 213", off, code)
					}
					size := o.stateBytes(t)
					if off == 0 {
						stateAfterFirst = size
					}
					stateMax = max(stateMax, size)
				}
			}
			if stateMax > stateAfterFirst+256 {
				t.Errorf("session state grew from %d to %d bytes while the object arrived", stateAfterFirst, stateMax)
			}
			j := o.h.job(t, o.job)
			if j.State != storage.JobDone || len(j.Results) != 1 {
				t.Fatalf("job %s %d %q", j.State, j.Status, j.Error)
			}
			if got, err := base64.StdEncoding.DecodeString(j.Results[0].Data); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("result: %d bytes (%v), want %d equal bytes", len(got), err, len(data))
			}
			if n := o.chunksLeft(t); n != 0 {
				t.Errorf("%d chunks left after the object completed", n)
			}
		})
	}
}

// TestEngine_InboundLargeObjectRefusals: OMA-TS-DM_Protocol-V1_2 §7: the
// reassembled size must equal the Meta Size of the first chunk, else 424 and
// nothing is committed; Meta Size MUST be on the first chunk (and only
// there), so a chunk that opens no object without one (a first chunk that
// lacks it, or the rest of an object this session does not know) is refused
// with 411 (Size required). Chunks of Results that answer no command of ours
// are refused (404) instead of being buffered. A refused chunk leaves
// nothing in storage.
func TestEngine_InboundLargeObjectRefusals(t *testing.T) {
	data := randomBytes(40<<10, 2)
	tests := []struct {
		name     string
		declared int64
		ref      string            // Results CmdRef ("" = the Get's)
		first    syncml.StatusCode // status of the first chunk
		middle   syncml.StatusCode // status of the other non-last chunks
		last     syncml.StatusCode // status of the last chunk (200: none sent)
		failed   bool              // the Get's job ends failed
	}{
		{"size mismatch", int64(len(data)) + 1, "", syncml.StatusChunkAccepted, syncml.StatusChunkAccepted, syncml.StatusSizeMismatch, true},
		{"no Meta Size: unknown object", 0, "", syncml.StatusSizeRequired, syncml.StatusSizeRequired, syncml.StatusOK, true},
		{"chunks answering no Get of ours", int64(len(data)), "99", syncml.StatusNotFound, syncml.StatusNotFound, syncml.StatusOK, false},
	}
	for _, s := range stores {
		for _, tc := range tests {
			t.Run(s.name+"/"+tc.name, func(t *testing.T) {
				o := startObject(t, s.open(t))
				o.ref = tc.ref
				codes := o.send(t, data, 4<<10, tc.declared)
				if codes[0] != tc.first {
					t.Errorf("first chunk: %d, want %d", codes[0], tc.first)
				}
				for i, c := range codes[1 : len(codes)-1] {
					if c != tc.middle {
						t.Errorf("chunk %d: %d, want %d", i+1, c, tc.middle)
					}
				}
				if c := codes[len(codes)-1]; c != tc.last {
					t.Errorf("last chunk: %d, want %d", c, tc.last)
				}
				if n := o.chunksLeft(t); n != 0 {
					t.Errorf("%d chunks left in storage", n)
				}
				j := o.h.job(t, o.job)
				if tc.failed && j.State != storage.JobFailed {
					t.Errorf("job %s %d %q, want failed", j.State, j.Status, j.Error)
				}
				for _, r := range j.Results {
					if len(r.Data) > 8<<10 {
						t.Errorf("a result of %d bytes was committed", len(r.Data))
					}
				}
			})
		}
	}
}

// BenchmarkInboundLargeObject measures one session in which the device
// returns a Get result of 1 MiB or 4 MiB in 4 KiB chunks (ns/op is per
// object). state-B is the session state stored after the second-to-last
// chunk: what every message rewrites besides its own chunk.
func BenchmarkInboundLargeObject(b *testing.B) {
	for _, s := range stores {
		for _, size := range []int{1 << 20, 4 << 20} {
			b.Run(fmt.Sprintf("%s/%dMiB", s.name, size>>20), func(b *testing.B) {
				data := randomBytes(size, 3)
				const n = 4 << 10
				st := s.open(b)
				b.SetBytes(int64(size))
				state := 0
				for i := 0; b.Loop(); i++ {
					b.StopTimer()
					// One device per object: a fresh session on the same store.
					h := newHarness(b, st)
					id := fmt.Sprintf("IMEI:%015d", i)
					if err := st.CreateDevice(context.Background(), &storage.Device{ID: id, AuthScheme: "basic", Username: devUser, Password: devPass}); err != nil {
						b.Fatal(err)
					}
					o := &objectRun{h: h, d: newDevice(h.e, "basic")}
					o.d.id, o.d.enc = id, syncml.EncodingWBXML
					j := &storage.Job{DeviceID: id, Spec: storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./Big"}}}}
					if err := st.CreateJob(context.Background(), j); err != nil {
						b.Fatal(err)
					}
					o.last = o.d.post(b, o.d.message(true, o.d.pkg1(syncml.AlertClientInitiatedMgmt)...))
					o.get = commands(o.last)[0].(*syncml.Get)
					o.getMsg = o.last.Header.MsgID
					b.StartTimer()
					for off := 0; off < size; off += n {
						end := min(off+n, size)
						declared := int64(0)
						if off == 0 {
							declared = int64(size)
						}
						if end == size && i == 0 {
							b.StopTimer()
							sess, err := st.GetSession(context.Background(), id, o.d.sessionID)
							if err != nil {
								b.Fatal(err)
							}
							state = len(sess.State)
							b.StartTimer()
						}
						o.chunk(b, off == 0, data[off:end], end < size, declared)
					}
					b.StopTimer()
					if got, _ := st.GetJob(context.Background(), j.ID); got.State != storage.JobDone {
						b.Fatalf("job %s %q", got.State, got.Error)
					}
					b.StartTimer()
				}
				b.ReportMetric(float64(state), "state-B")
			})
		}
	}
}

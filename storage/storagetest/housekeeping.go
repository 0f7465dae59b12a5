package storagetest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

// traceBodies are bodies a trace must give back byte for byte, whatever
// the store does to keep them small: DM messages (which compress), WBXML,
// bytes that do not compress, empty and short ones, with the usual content
// types, another one and none.
var traceBodies = []struct {
	name, ct string
	body     []byte
}{
	{"xml message", "application/vnd.syncml.dm+xml", []byte(`<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>http://127.0.0.1/dm</LocURI></Target><Source><LocURI>IMEI:493005100592800</LocURI></Source></SyncHdr><SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Final/></SyncBody></SyncML>`)},
	{"xml with odd spacing", "application/vnd.syncml.dm+xml", []byte("<?xml version=\"1.0\"?>\n<SyncML>\r\n  <SyncHdr>  " + strings.Repeat("<Status>\t<CmdID>7</CmdID></Status>\n", 30) + "</SyncHdr></SyncML>\n")},
	{"wbxml message", "application/vnd.syncml.dm+wbxml", append([]byte{0x02, 0xa4, 0x01, 0x6a, 0x00, 0x6d, 0x6c, 0x71, 0x03}, bytes.Repeat([]byte("1.2\x00\x01\x72\x03DM/1.2\x00\x01"), 12)...)},
	{"incompressible bytes", "application/vnd.syncml.dm+xml", func() []byte {
		b := make([]byte, 700)
		x := uint32(2463534242)
		for i := range b {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			b[i] = byte(x)
		}
		return b
	}()},
	{"empty body", "application/vnd.syncml.dm+xml", nil},
	{"short body", "application/vnd.syncml.dm+wbxml", []byte{0x02, 0x00}},
	{"other content type", "text/plain; charset=utf-8", bytes.Repeat([]byte("<Status/>"), 50)},
	{"no content type", "", bytes.Repeat([]byte("<Status/>"), 50)},
}

// housekeepingTests check storage.Housekeeper (retention in bounded,
// set-based steps) and that traces come back exactly as given whatever
// form a store keeps them in.
var housekeepingTests = []test{
	{"TraceBodiesReadBackExactly", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		var via []*storage.TraceEntry
		for i, b := range traceBodies {
			tr := &storage.TraceEntry{DeviceID: "dev", SessionID: "S", Direction: "in", MsgID: fmt.Sprint(i),
				ContentType: b.ct, Body: bytes.Clone(b.body)}
			switch i % 2 {
			case 0:
				check(t, "AddTrace", s.AddTrace(bg, tr))
			default:
				check(t, "WriteEffects", storage.WriteEffects(bg, s, &storage.Effects{Traces: []*storage.TraceEntry{tr}}))
			}
			via = append(via, tr)
		}
		got, err := s.ListTraces(bg, "dev", "", 100)
		check(t, "ListTraces", err)
		if len(got) != len(traceBodies) {
			t.Fatalf("%d traces, want %d", len(got), len(traceBodies))
		}
		for i, b := range traceBodies {
			if got[i].ID != via[i].ID || got[i].ContentType != b.ct || !bytes.Equal(got[i].Body, b.body) {
				t.Errorf("%s: got id %d, content type %q, %d bytes; want id %d, %q, %d bytes", b.name,
					got[i].ID, got[i].ContentType, len(got[i].Body), via[i].ID, b.ct, len(b.body))
			}
		}
	}},
	{"TraceCutsNameDevicesOverTheirRetention", func(t *testing.T, s storage.Store) {
		for _, d := range []string{"a", "b", "c"} {
			mustDevice(t, s, d)
		}
		a := addTraces(t, s, "a", 7)
		b := addTraces(t, s, "b", 2)
		c := addTraces(t, s, "c", 5)
		cuts, last, err := s.TraceCuts(bg, 0, 1000, 3)
		check(t, "TraceCuts", err)
		if last != c[4] {
			t.Errorf("last visited %d, want %d", last, c[4])
		}
		want := map[string]int64{"a": a[3], "c": c[1]}
		if len(cuts) != len(want) {
			t.Errorf("cuts %v, want %v", cuts, want)
		}
		for _, cut := range cuts {
			if want[cut.DeviceID] != cut.ID {
				t.Errorf("cut of %s at %d, want %d", cut.DeviceID, cut.ID, want[cut.DeviceID])
			}
		}
		deepEqual(t, "traces of a before the delete", traceIDs(t, s, "a"), a) // TraceCuts only reads
		n, err := s.DeleteTraceCuts(bg, cuts)
		check(t, "DeleteTraceCuts", err)
		if n != 6 {
			t.Errorf("DeleteTraceCuts deleted %d, want 6", n)
		}
		deepEqual(t, "device a", traceIDs(t, s, "a"), a[4:])
		deepEqual(t, "device b", traceIDs(t, s, "b"), b)
		deepEqual(t, "device c", traceIDs(t, s, "c"), c[2:])
		n, err = s.DeleteTraceCuts(bg, nil)
		if err != nil || n != 0 {
			t.Errorf("DeleteTraceCuts(nil) = %d, %v; want 0, nil", n, err)
		}
	}},
	{"TraceCutsVisitBoundedRangesAfterTheCursor", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		mustDevice(t, s, "b")
		a := addTraces(t, s, "a", 4)
		b := addTraces(t, s, "b", 3)
		// A range of only a's traces.
		cuts, last, err := s.TraceCuts(bg, 0, 2, 1)
		check(t, "TraceCuts", err)
		if last != a[1] || len(cuts) != 1 || cuts[0] != (storage.TraceCut{DeviceID: "a", ID: a[2]}) {
			t.Errorf("first range: cuts %v, last %d; want a at %d, last %d", cuts, last, a[2], a[1])
		}
		// After a's traces only b is visited, though a is still over.
		cuts, last, err = s.TraceCuts(bg, a[3], 100, 1)
		check(t, "TraceCuts", err)
		if last != b[2] || len(cuts) != 1 || cuts[0] != (storage.TraceCut{DeviceID: "b", ID: b[1]}) {
			t.Errorf("after a: cuts %v, last %d; want b at %d, last %d", cuts, last, b[1], b[2])
		}
		// Past the newest: nothing visited.
		cuts, last, err = s.TraceCuts(bg, b[2], 100, 1)
		check(t, "TraceCuts", err)
		if last != 0 || len(cuts) != 0 {
			t.Errorf("past the end: cuts %v, last %d; want none, 0", cuts, last)
		}
	}},
	{"DeleteTracesBeforeStopsAtNewerTraces", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "a")
		mustDevice(t, s, "b")
		now := time.Now().UTC()
		add := func(dev string, age time.Duration) int64 {
			tr := &storage.TraceEntry{DeviceID: dev, SessionID: "S", Direction: "out", MsgID: "1", CreatedAt: now.Add(-age)}
			check(t, "AddTrace", s.AddTrace(bg, tr))
			return tr.ID
		}
		_, old2, _ := add("a", 50*time.Hour), add("b", 49*time.Hour), add("a", 48*time.Hour)
		new1, new2 := add("b", time.Hour), add("a", 0)
		cut := now.Add(-24 * time.Hour)
		n, last, newer, err := s.DeleteTracesBefore(bg, 0, 2, cut)
		check(t, "DeleteTracesBefore", err)
		if n != 2 || last != old2 || newer {
			t.Errorf("first step: %d deleted, last %d, newer %v; want 2, %d, false", n, last, newer, old2)
		}
		n, last, newer, err = s.DeleteTracesBefore(bg, last, 2, cut)
		check(t, "DeleteTracesBefore", err)
		if n != 1 || last != new1 || !newer {
			t.Errorf("second step: %d deleted, last %d, newer %v; want 1, %d, true", n, last, newer, new1)
		}
		deepEqual(t, "device a", traceIDs(t, s, "a"), []int64{new2})
		deepEqual(t, "device b", traceIDs(t, s, "b"), []int64{new1})
		n, last, _, err = s.DeleteTracesBefore(bg, new2, 10, cut)
		if err != nil || n != 0 || last != 0 {
			t.Errorf("past the end: %d, %d, %v; want 0, 0, nil", n, last, err)
		}
	}},
	{"DeleteClosedSessionsBeforeKeepsOpenAndRecentOnes", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		save := func(id string, closed bool) {
			ss := &storage.Session{DeviceID: "dev", SessionID: id, Token: "tok-" + id, State: []byte("x")}
			check(t, "SaveSession", s.SaveSession(bg, ss))
			ss.Closed = closed
			check(t, "SaveSession", s.SaveSession(bg, ss))
		}
		for i := range 5 {
			save(fmt.Sprint("closed-", i), true)
		}
		save("open", false)
		if cs, ok := s.(storage.ChunkStore); ok {
			check(t, "AppendChunks", cs.AppendChunks(bg, []*storage.Chunk{{DeviceID: "dev", SessionID: "closed-0", Seq: 0, Data: []byte("abc")}}))
		}
		// Nothing ended before a minute ago.
		n, err := s.DeleteClosedSessionsBefore(bg, time.Now().Add(-time.Minute), 100)
		if err != nil || n != 0 {
			t.Errorf("before a minute ago: deleted %d, %v; want 0", n, err)
		}
		later := time.Now().Add(time.Minute)
		n, err = s.DeleteClosedSessionsBefore(bg, later, 3)
		if err != nil || n != 3 {
			t.Errorf("first step of 3: deleted %d, %v; want 3", n, err)
		}
		n, err = s.DeleteClosedSessionsBefore(bg, later, 3)
		if err != nil || n != 2 {
			t.Errorf("second step: deleted %d, %v; want 2", n, err)
		}
		for i := range 5 {
			_, err := s.GetSession(bg, "dev", fmt.Sprint("closed-", i))
			wantErr(t, "GetSession of a deleted closed session", err, storage.ErrNotFound)
		}
		_, err = s.GetSessionByToken(bg, "tok-closed-0")
		wantErr(t, "GetSessionByToken of a deleted closed session", err, storage.ErrNotFound)
		if cs, ok := s.(storage.ChunkStore); ok {
			data, k, err := cs.ReadChunks(bg, "dev", "closed-0")
			if err != nil || k != 0 || len(data) != 0 {
				t.Errorf("chunks of a deleted session: %q, %d, %v; want none", data, k, err)
			}
		}
		if _, err := s.GetSession(bg, "dev", "open"); err != nil {
			t.Errorf("the open session: %v", err)
		}
	}},
	{"HousekeepingRefusesBadArguments", func(t *testing.T, s storage.Store) {
		if _, _, err := s.TraceCuts(bg, 0, 0, 1); err == nil {
			t.Error("TraceCuts with limit 0: no error")
		}
		if _, _, err := s.TraceCuts(bg, 0, 10, -1); err == nil {
			t.Error("TraceCuts with keep -1: no error")
		}
		if _, _, _, err := s.DeleteTracesBefore(bg, 0, -5, time.Now()); err == nil {
			t.Error("DeleteTracesBefore with limit -5: no error")
		}
		if _, err := s.DeleteClosedSessionsBefore(bg, time.Now(), 0); err == nil {
			t.Error("DeleteClosedSessionsBefore with limit 0: no error")
		}
	}},
}

package storagetest

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/omadm/omadm/storage"
)

// Aged describes the rows a server accumulates over days of traffic: the
// per-device history that is kept (finished jobs, events, closed sessions
// not yet expired, the newest traces) and the dead row versions the updates
// left behind. Age writes it so that benchmarks can compare a fresh store
// with a used one (throughput once fell to 30–60 % on a database that
// kept the data of earlier runs).
type Aged struct {
	Prefix   string // device IDs are Prefix + number; default "aged-"
	Devices  int
	Sessions int // closed sessions per device, each saved three times (open, update, close)
	Jobs     int // finished jobs per device, each queued, sent and done
	Traces   int // wire traces per device (about 1.5 KB each, like a DM message)
	Events   int // events per device
}

// traceBody is a message-sized trace body.
var traceBody = func() []byte {
	b := make([]byte, 1500)
	for i := range b {
		b[i] = "<SyncML>0123456789abcdef</SyncML>"[i%33]
	}
	return b
}()

// Age fills s with a's history, device by device, each device in one batch.
func Age(ctx context.Context, s storage.Store, a Aged) error {
	if a.Prefix == "" {
		a.Prefix = "aged-"
	}
	spec := storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevDetail/FwV"}}}
	for d := range a.Devices {
		id := a.Prefix + strconv.Itoa(d)
		err := storage.InBatch(ctx, s, func(s storage.Store) error {
			if err := s.CreateDevice(ctx, newDevice(id)); err != nil {
				return err
			}
			for i := range a.Sessions {
				ss := &storage.Session{DeviceID: id, SessionID: strconv.Itoa(i + 1), Token: id + "/" + strconv.Itoa(i), State: traceBody[:600]}
				for step := range 3 {
					ss.Closed = step == 2
					if err := s.SaveSession(ctx, ss); err != nil {
						return err
					}
				}
			}
			for i := range a.Jobs {
				j := &storage.Job{DeviceID: id, Spec: spec}
				if err := s.CreateJob(ctx, j); err != nil {
					return err
				}
				j.State, j.SessionID, j.Attempts = storage.JobSent, strconv.Itoa(i/2+1), 1
				if err := s.UpdateJob(ctx, j); err != nil {
					return err
				}
				j.State, j.Status = storage.JobDone, 200
				j.Results = []storage.ResultItem{{URI: "./DevDetail/FwV", Data: "1.0." + strconv.Itoa(i)}}
				if err := s.UpdateJob(ctx, j); err != nil {
					return err
				}
			}
			e := &storage.Effects{}
			for i := range a.Events {
				e.Events = append(e.Events, &storage.Event{DeviceID: id, SessionID: strconv.Itoa(i/2 + 1), Kind: "session-start"})
			}
			for i := range a.Traces {
				dir := "in"
				if i%2 == 1 {
					dir = "out"
				}
				e.Traces = append(e.Traces, &storage.TraceEntry{DeviceID: id, SessionID: strconv.Itoa(i/4 + 1),
					Direction: dir, MsgID: strconv.Itoa(i%4/2 + 1), ContentType: "application/vnd.syncml.dm+xml", Body: traceBody})
			}
			return storage.WriteEffects(ctx, s, e)
		})
		if err != nil {
			return fmt.Errorf("aging device %s: %w", id, err)
		}
	}
	return nil
}

// BenchAged is the history BenchSessionCycle's "aged" case starts from:
// about what four `omadm bench` runs leave behind on 1000 devices
// (≈ 100,000 traces, 50,000 sessions, 50,000 jobs and events).
var BenchAged = Aged{Devices: 1000, Sessions: 50, Jobs: 50, Traces: 100, Events: 50}

// BenchSessionCycle measures the storage work of one full management session
// as the engine does it (two jobs queued, package 1 read and written,
// package 3 read and written: session, device, jobs, tree cache, events and
// traces, the session's end trimming its device's traces to 100), cycling
// over 64 devices; every 1000 sessions it also deletes expired sessions, as
// the server's periodic maintenance does. Run it on a fresh store and on one prepared with Age to see
// whether accumulated data slows the hot path.
func BenchSessionCycle(b *testing.B, s storage.Store) {
	const devices = 64
	for i := range devices {
		benchDevice(b, s, "cycle-"+strconv.Itoa(i))
	}
	get := storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevDetail/FwV"}}}
	rep := storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: "./Settings/Poll", Format: "int", Data: "60"}}}
	trace := func(id, sid, dir, msg string) *storage.TraceEntry {
		return &storage.TraceEntry{DeviceID: id, SessionID: sid, Direction: dir, MsgID: msg,
			ContentType: "application/vnd.syncml.dm+xml", Body: traceBody}
	}
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		n++
		id, sid := "cycle-"+strconv.Itoa(n%devices), strconv.Itoa(n)
		jobs := []*storage.Job{{DeviceID: id, Spec: get}, {DeviceID: id, Spec: rep}}
		for _, j := range jobs {
			if err := s.CreateJob(bg, j); err != nil {
				b.Fatal(err)
			}
		}
		r := &storage.MessageRead{DeviceID: id, SessionID: sid, Pending: true}
		if err := storage.ReadMessage(bg, s, r); err != nil || r.DeviceErr != nil || len(r.PendingJobs) != 2 {
			b.Fatalf("package 1 read: %v %v, %d pending", err, r.DeviceErr, len(r.PendingJobs))
		}
		ss := &storage.Session{DeviceID: id, SessionID: sid, Token: "tok-" + sid, State: traceBody[:600]}
		for _, j := range r.PendingJobs {
			j.State, j.SessionID, j.Attempts = storage.JobSent, sid, 1
		}
		r.Device.LastSeen = r.Device.CreatedAt
		if err := storage.WriteEffects(bg, s, &storage.Effects{Session: ss, Device: r.Device, Jobs: r.PendingJobs,
			Guarded: len(r.PendingJobs), Events: []*storage.Event{{DeviceID: id, SessionID: sid, Kind: "session-start"}},
			Traces: []*storage.TraceEntry{trace(id, sid, "in", "1"), trace(id, sid, "out", "1")}}); err != nil {
			b.Fatal(err)
		}
		r = &storage.MessageRead{DeviceID: id, SessionID: sid, Token: ss.Token}
		if err := storage.ReadMessage(bg, s, r); err != nil || r.SessionErr != nil {
			b.Fatalf("package 3 read: %v %v", err, r.SessionErr)
		}
		js, err := storage.GetJobs(bg, s, []int64{jobs[0].ID, jobs[1].ID})
		if err != nil || len(js) != 2 {
			b.Fatalf("GetJobs: %d, %v", len(js), err)
		}
		for _, j := range js {
			j.State, j.Status = storage.JobDone, 200
		}
		ss.Closed = true
		if err := storage.WriteEffects(bg, s, &storage.Effects{Session: ss, Jobs: js, TraceKeep: 100,
			Nodes:  []storage.TreeNode{{DeviceID: id, URI: "./DevDetail/FwV", Format: "chr", Value: "1.0"}},
			Events: []*storage.Event{{DeviceID: id, SessionID: sid, Kind: "session-end"}},
			Traces: []*storage.TraceEntry{trace(id, sid, "in", "2"), trace(id, sid, "out", "2")}}); err != nil {
			b.Fatal(err)
		}
		if n%1000 == 0 {
			if _, err := s.DeleteSessionsBefore(bg, ss.UpdatedAt.Add(-20*60e9)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchPruneTraces measures one table-wide PruneTraces(200) on a store
// prepared with BenchAged (nothing to delete: the cost of checking).
func BenchPruneTraces(b *testing.B, s storage.Store) {
	b.ReportAllocs()
	for b.Loop() {
		if err := s.PruneTraces(bg, 200); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchPruneDeviceTraces measures trimming one device of a store prepared
// with BenchAged to 99 of its 100 traces after adding one (one trace
// deleted per call: the steady state of a device at its retention).
func BenchPruneDeviceTraces(b *testing.B, s storage.Store) {
	const id = "aged-7" // Age's default prefix
	b.ReportAllocs()
	for b.Loop() {
		if err := s.AddTrace(bg, &storage.TraceEntry{DeviceID: id, SessionID: "S", Direction: "in", Body: traceBody}); err != nil {
			b.Fatal(err)
		}
		if _, err := storage.PruneDeviceTraces(bg, s, id, BenchAged.Traces); err != nil {
			b.Fatal(err)
		}
	}
}

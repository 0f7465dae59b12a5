package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/omadm/omadm/storage"
)

// groupCommitTests check WriteEffects under concurrency: backends may
// commit several callers' writes together (SQLite's batches, PostgreSQL's
// shared pipelines), and each caller must still get exactly its own
// outcome, all of its writes or none of them.
var groupCommitTests = []test{
	{"ConcurrentWritesEachStoreAllOrNothing", func(t *testing.T, s storage.Store) {
		const writers = 24
		type writer struct {
			dev   string
			job   *storage.Job
			fail  string // "" (succeeds), "guard", "version"
			sess  *storage.Session
			trace *storage.TraceEntry
			err   error
		}
		ws := make([]*writer, writers)
		for i := range ws {
			w := &writer{dev: fmt.Sprintf("gc-%02d", i)}
			mustDevice(t, s, w.dev)
			w.job = mustJob(t, s, w.dev, getSpec("./A"))
			switch i % 6 {
			case 1:
				w.fail = "guard"
				if _, err := s.CancelJob(bg, w.job.ID); err != nil {
					t.Fatal(err)
				}
			case 4:
				w.fail = "version"
				other := &storage.Session{DeviceID: w.dev, SessionID: "1", Token: "other-" + w.dev}
				check(t, "SaveSession", s.SaveSession(bg, other))
			}
			w.sess = &storage.Session{DeviceID: w.dev, SessionID: "1", Token: "tok-" + w.dev, State: []byte("state " + w.dev)}
			w.trace = &storage.TraceEntry{DeviceID: w.dev, SessionID: "1", Direction: "out", MsgID: "1",
				ContentType: "application/vnd.syncml.dm+xml", Body: []byte("<SyncML>" + w.dev + "</SyncML>")}
			ws[i] = w
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, w := range ws {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				sent := *w.job
				sent.State, sent.SessionID, sent.Attempts = storage.JobSent, "1", 1
				w.err = storage.WriteEffects(bg, s, &storage.Effects{
					Session: w.sess, Jobs: []*storage.Job{&sent}, Guarded: 1,
					Events: []*storage.Event{{DeviceID: w.dev, SessionID: "1", Kind: "session-start"}},
					Traces: []*storage.TraceEntry{w.trace},
				})
			}()
		}
		close(start)
		wg.Wait()
		for _, w := range ws {
			evs, err := s.ListEvents(bg, w.dev, 0, 10)
			check(t, "ListEvents", err)
			trs, err := s.ListTraces(bg, w.dev, "", 10)
			check(t, "ListTraces", err)
			j, err := s.GetJob(bg, w.job.ID)
			check(t, "GetJob", err)
			switch w.fail {
			case "":
				if w.err != nil {
					t.Errorf("%s: %v, want stored", w.dev, w.err)
					continue
				}
				got, err := s.GetSession(bg, w.dev, "1")
				check(t, "GetSession", err)
				if string(got.State) != string(w.sess.State) || w.sess.Version != 1 || got.Version != 1 {
					t.Errorf("%s: session %q version %d (caller's %d), want %q version 1", w.dev, got.State, got.Version, w.sess.Version, w.sess.State)
				}
				if j.State != storage.JobSent || len(evs) != 1 || len(trs) != 1 || trs[0].ID != w.trace.ID || trs[0].ID == 0 {
					t.Errorf("%s: job %s, %d events, %d traces; want sent, 1, 1 with its ID", w.dev, j.State, len(evs), len(trs))
				}
			default:
				// A session of that ID was stored first: the insert conflicts.
				want := storage.ErrConflict
				if w.fail == "guard" {
					want = storage.ErrGuard
				}
				if !errors.Is(w.err, want) {
					t.Errorf("%s: %v, want %v", w.dev, w.err, want)
				}
				if w.sess.Version != 0 {
					t.Errorf("%s: failed write moved the caller's session version to %d", w.dev, w.sess.Version)
				}
				if len(evs) != 0 || len(trs) != 0 || (w.fail == "version" && j.State != storage.JobQueued) {
					t.Errorf("%s: failed write stored %d events, %d traces, job %s", w.dev, len(evs), len(trs), j.State)
				}
			}
		}
	}},
}

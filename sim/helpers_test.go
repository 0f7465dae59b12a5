package sim_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/sim"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/sqlite"
	"github.com/omadm/omadm/transport/dmhttp"
)

// testServer is the real server engine on SQLite behind the real HTTP
// handler on 127.0.0.1 port 0.
type testServer struct {
	store  storage.Store
	engine *server.Engine
	url    string
	// updates receives the engine's live updates (dropped when full), for
	// tests that wait on what the server did instead of polling.
	updates chan server.Update
}

func newTestServer(t testing.TB) *testServer {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "omadm.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	updates := make(chan server.Update, 1024)
	e, err := server.New(server.Options{Store: st, Logger: log,
		Senders: map[string]notification.Sender{"udp": &notification.UDPSender{}},
		OnEvent: func(u server.Update) {
			select {
			case updates <- u:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) }) // before the store closes (cleanups run last first)
	hs := httptest.NewServer(dmhttp.NewHandler(e, &dmhttp.HandlerOptions{Logger: log}))
	t.Cleanup(hs.Close)
	return &testServer{store: st, engine: e, url: hs.URL + "/dm", updates: updates}
}

// enroller writes devices straight into the store, optionally spoiling the
// client password so authentication must fail.
func (s *testServer) enroller(badPassword bool) sim.Enroller {
	return sim.EnrollerFunc(func(ctx context.Context, e sim.Enrolment) error {
		pw := e.Password
		if badPassword {
			pw += "-wrong"
		}
		return s.store.CreateDevice(ctx, &storage.Device{ID: e.DeviceID, AuthScheme: e.Auth, Username: e.Username,
			Password: pw, ServerPassword: e.ServerPassword, NotifyAddr: e.NotifyAddr})
	})
}

func newTransport(t testing.TB) *dmhttp.ClientTransport {
	t.Helper()
	tp, err := dmhttp.NewClientTransport(dmhttp.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// waitJob waits for the engine's update saying job id reached state. The
// timer only bounds a hang.
func (s *testServer) waitJob(t *testing.T, id int64, state storage.JobState) {
	t.Helper()
	hang := time.After(30 * time.Second)
	for {
		select {
		case u := <-s.updates:
			if u.Kind == "job" && u.JobID == id && u.State == state {
				return
			}
		case <-hang:
			t.Fatalf("job %d never became %s", id, state)
		}
	}
}

func dmtreeValue(s string) dmtree.Value {
	return dmtree.Value{Format: dmtree.FormatInt, Type: "text/plain", Data: []byte(s)}
}

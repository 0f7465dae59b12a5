package storagetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

var bg = context.Background()

// binaryNonce holds every byte value that breaks text handling: NUL, high
// bytes, invalid UTF-8, newline.
var binaryNonce = []byte{0x00, 0xff, 0x80, 0x0a, 0x00, 0xc3, 0x28, 0x7f, 0x01}

func newDevice(id string) *storage.Device {
	return &storage.Device{
		ID:             id,
		AuthScheme:     "md5",
		Username:       "user-" + id,
		Password:       "pässword",
		ServerPassword: "server secret",
		ServerNonce:    append([]byte(nil), binaryNonce...),
		ClientNonce:    []byte("client-nonce"),
		NotifyAddr:     "udp://127.0.0.1:2948",
		DevInfo:        map[string]string{"./DevInfo/Man": "Acme", "./DevInfo/Lang": "fr-FR", "./DevInfo/Ext/ü": "∑"},
		Labels:         map[string]string{"fleet": "north", "empty": ""},
		CreatedAt:      time.Date(2024, 2, 29, 23, 59, 58, 123456000, time.UTC),
		// Server→device scheme and the bound TLS client certificate.
		ServerAuthScheme: "basic",
		CertSHA256:       "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		TransportAuth:    "cert+dm",
	}
}

func mustDevice(t *testing.T, s storage.Store, id string) *storage.Device {
	t.Helper()
	d := newDevice(id)
	if err := s.CreateDevice(bg, d); err != nil {
		t.Fatalf("CreateDevice(%q): %v", id, err)
	}
	return d
}

func mustJob(t *testing.T, s storage.Store, deviceID string, spec storage.JobSpec) *storage.Job {
	t.Helper()
	j := &storage.Job{DeviceID: deviceID, Spec: spec}
	if err := s.CreateJob(bg, j); err != nil {
		t.Fatalf("CreateJob: %v", err)
	}
	return j
}

func getSpec(uri string) storage.JobSpec {
	return storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: uri}}}
}

func check(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// sameTime compares at the microsecond precision every backend keeps.
func sameTime(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() && b.IsZero()
	}
	d := a.Sub(b)
	return d > -time.Microsecond && d < time.Microsecond
}

func checkTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !sameTime(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// between checks a store-assigned time lies in [lo, hi] (with a little slack
// for precision and for a database clock on the same host).
func between(t *testing.T, what string, got, lo, hi time.Time) {
	t.Helper()
	if got.Before(lo.Add(-time.Second)) || got.After(hi.Add(time.Second)) {
		t.Errorf("%s = %v, want between %v and %v", what, got, lo, hi)
	}
}

// equalIgnoringTimes compares two values after zeroing the named time fields
// of copies; the times are compared separately with sameTime.
func deepEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %#v\nwant %#v", what, got, want)
	}
}

func checkDevice(t *testing.T, got, want *storage.Device) {
	t.Helper()
	g, w := *got, *want
	if g.Password != "" {
		t.Errorf("device %s: read back with Password %q: stores keep only its hash", w.ID, g.Password)
	}
	// What a store keeps of the password is its hash (storage.HashPassword).
	w.PasswordHash, w.Password = storage.HashPassword(&w), ""
	checkTime(t, "CreatedAt", g.CreatedAt, w.CreatedAt)
	checkTime(t, "LastSeen", g.LastSeen, w.LastSeen)
	g.CreatedAt, w.CreatedAt, g.LastSeen, w.LastSeen = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	g.ServerNonce, w.ServerNonce = nilIfEmpty(g.ServerNonce), nilIfEmpty(w.ServerNonce)
	g.ClientNonce, w.ClientNonce = nilIfEmpty(g.ClientNonce), nilIfEmpty(w.ClientNonce)
	g.DevInfo, w.DevInfo = nilIfEmptyMap(g.DevInfo), nilIfEmptyMap(w.DevInfo)
	g.Labels, w.Labels = nilIfEmptyMap(g.Labels), nilIfEmptyMap(w.Labels)
	deepEqual(t, "device "+w.ID, g, w)
}

func checkJob(t *testing.T, got, want *storage.Job) {
	t.Helper()
	g, w := *got, *want
	checkTime(t, "CreatedAt", g.CreatedAt, w.CreatedAt)
	checkTime(t, "SentAt", g.SentAt, w.SentAt)
	checkTime(t, "DoneAt", g.DoneAt, w.DoneAt)
	g.CreatedAt, g.SentAt, g.DoneAt = time.Time{}, time.Time{}, time.Time{}
	w.CreatedAt, w.SentAt, w.DoneAt = time.Time{}, time.Time{}, time.Time{}
	if len(g.Results) == 0 && len(w.Results) == 0 {
		g.Results, w.Results = nil, nil
	}
	if len(g.ChildStatus) == 0 && len(w.ChildStatus) == 0 {
		g.ChildStatus, w.ChildStatus = nil, nil
	}
	deepEqual(t, fmt.Sprintf("job %d", w.ID), g, w)
}

func jobIDs(js []*storage.Job) []int64 {
	out := make([]int64, len(js))
	for i, j := range js {
		out[i] = j.ID
	}
	return out
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func nilIfEmptyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

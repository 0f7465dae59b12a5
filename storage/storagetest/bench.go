package storagetest

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/omadm/omadm/storage"
)

// The Bench functions measure the hot paths of the server engine on a store;
// each backend wraps them in its own Benchmark functions so results carry the
// backend's package name.

// BenchCreateJob measures queueing one Replace job.
func BenchCreateJob(b *testing.B, s storage.Store) {
	benchDevice(b, s, "dev")
	spec := storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: "./Vendor/Acme/Cfg", Format: "chr", Data: "value"}}}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.CreateJob(bg, &storage.Job{DeviceID: "dev", Spec: spec}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchSaveSession measures one optimistic session update with a 2 KiB state,
// the write every DM message causes.
func BenchSaveSession(b *testing.B, s storage.Store) {
	benchDevice(b, s, "dev")
	ss := &storage.Session{DeviceID: "dev", SessionID: "1", Token: "tok", State: make([]byte, 2048)}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.SaveSession(bg, ss); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchSaveSessionParallel measures session updates of many devices at once
// (many concurrent DM sessions).
func BenchSaveSessionParallel(b *testing.B, s storage.Store) {
	const devices = 64
	for i := range devices {
		benchDevice(b, s, fmt.Sprint("dev-", i))
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := next.Add(1)
		ss := &storage.Session{DeviceID: fmt.Sprint("dev-", i%devices), SessionID: fmt.Sprint(i), State: make([]byte, 2048)}
		for pb.Next() {
			if err := s.SaveSession(bg, ss); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchPendingJobs measures reading a device's queue (10 pending among 200
// finished jobs of the device and 1000 jobs of other devices).
func BenchPendingJobs(b *testing.B, s storage.Store) {
	benchDevice(b, s, "dev")
	benchDevice(b, s, "other")
	spec := storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevInfo/Mod"}}}
	for i := range 1210 {
		j := &storage.Job{DeviceID: "dev", Spec: spec}
		switch {
		case i < 200:
			j.State = storage.JobDone
		case i >= 210:
			j.DeviceID = "other"
		}
		if err := s.CreateJob(bg, j); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		js, err := s.PendingJobs(bg, "dev", "S1")
		if err != nil || len(js) != 10 {
			b.Fatalf("PendingJobs: %d jobs, %v", len(js), err)
		}
	}
}

func benchDevice(b *testing.B, s storage.Store, id string) {
	b.Helper()
	if err := s.CreateDevice(bg, newDevice(id)); err != nil {
		b.Fatal(err)
	}
}

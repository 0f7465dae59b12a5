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

// BenchReportLookup measures what the operations layer reads when a report
// arrives: the operation by (device, correlator) and the device's events
// carrying that correlator, among 50,000 events and 5,000 operations of 100
// devices (both through indexes, so the cost does not grow with the tables).
func BenchReportLookup(b *testing.B, s storage.Store) {
	const devices, events, ops = 100, 50000, 5000
	err := storage.InBatch(bg, s, func(s storage.Store) error {
		for i := range devices {
			if err := s.CreateDevice(bg, newDevice(fmt.Sprint("dev-", i))); err != nil {
				return err
			}
		}
		evs := make([]*storage.Event, 0, events)
		for i := range events {
			evs = append(evs, &storage.Event{DeviceID: fmt.Sprint("dev-", i%devices), Kind: "generic-alert", Data: "200",
				Correlator: fmt.Sprint("c-", i%(events/2))})
		}
		if ba, ok := s.(storage.BulkAdder); ok {
			if err := ba.AddEvents(bg, evs); err != nil {
				return err
			}
		} else {
			for _, e := range evs {
				if err := s.AddEvent(bg, e); err != nil {
					return err
				}
			}
		}
		for i := range ops {
			op := &storage.Operation{DeviceID: fmt.Sprint("dev-", i%devices), MO: "fumo", Name: "Update", Correlator: fmt.Sprint("c-", i), JobID: int64(i + 1)}
			if err := s.CreateOperation(bg, op); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		n := i % ops
		i++
		dev, corr := fmt.Sprint("dev-", n%devices), fmt.Sprint("c-", n)
		if _, err := s.OperationByCorrelator(bg, dev, corr); err != nil {
			b.Fatal(err)
		}
		evs, err := s.EventsByCorrelator(bg, dev, corr)
		if err != nil || len(evs) == 0 {
			b.Fatalf("EventsByCorrelator: %d events, %v", len(evs), err)
		}
	}
}

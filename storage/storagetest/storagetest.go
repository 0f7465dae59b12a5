// Package storagetest is the conformance suite every storage backend runs.
//
// A backend's own test calls Run with a constructor returning a fresh, empty
// store; the suite checks every method of storage.Store against its documented
// semantics, including the ones that only show under concurrency (optimistic
// session versions, the terminal-state guard of jobs). Keeping one suite is
// what stops the SQLite and PostgreSQL backends from drifting apart.
package storagetest

import (
	"context"
	"testing"

	"github.com/omadm/omadm/storage"
)

// Run runs the whole suite. newStore must return an empty store that stays
// usable until the test ends (register cleanup with t.Cleanup).
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Devices", deviceTests},
		{"Credentials", credentialTests},
		{"Jobs", jobTests},
		{"Sessions", sessionTests},
		{"Events", eventTests},
		{"TreeCache", treeTests},
		{"Traces", traceTests},
		{"TraceRetention", pruneTests},
		{"Housekeeping", housekeepingTests},
		{"TraceBytes", traceByteTests},
		{"GroupCommit", groupCommitTests},
		{"Store", miscTests},
		{"Batch", batchTests},
		{"Effects", effectsTests},
		{"Reads", readTests},
		{"Bulk", bulkTests},
		{"Operations", operationTests},
		{"Chunks", chunkTests},
		{"Campaigns", campaignTests},
		{"Inventory", inventoryTests},
		{"ImportUnits", importUnitTests},
		{"DeviceIDs", deviceIDTests},
		{"Groups", groupTests},
		{"Profiles", profileTests},
		{"APITokens", tokenTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					tc.run(t, newStore(t))
				})
			}
		})
	}
}

type test struct {
	name string
	run  func(t *testing.T, s storage.Store)
}

var miscTests = []test{
	{"PingSucceedsOnOpenStore", func(t *testing.T, s storage.Store) {
		if err := s.Ping(context.Background()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	}},
	{"CancelledContextFailsCleanly", func(t *testing.T, s storage.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := s.GetDevice(ctx, "x"); err == nil {
			t.Error("GetDevice with a cancelled context: want an error")
		}
		if err := s.CreateDevice(ctx, newDevice("x")); err == nil {
			t.Error("CreateDevice with a cancelled context: want an error")
		}
	}},
}

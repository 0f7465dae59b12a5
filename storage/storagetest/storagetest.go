// Package storagetest is the conformance suite every storage backend runs.
//
// A backend's own test calls Run with a constructor returning a fresh, empty
// store; the suite checks every method of storage.Store against its documented
// semantics, including the ones that only show under concurrency (optimistic
// session versions, the terminal-state guard of jobs). Keeping one suite is
// what stops the SQLite and PostgreSQL backends from drifting apart.
//
// The suite follows the interfaces: RunDeviceStore, RunJobStore,
// RunSessionStore, … check one interface (or optional ability) each, and Run
// calls them all (the subtests keep their names: Devices, Jobs, Batch, …). A
// backend whose implementation of one interface is in progress can run that
// part alone.
package storagetest

import (
	"context"
	"testing"

	"github.com/omadm/omadm/storage"
)

// Factory returns an empty store that stays usable until the test ends
// (register cleanup with t.Cleanup).
type Factory func(t *testing.T) storage.Store

// Run runs the whole suite: the suite of every interface Store embeds and of
// every optional ability (a test of an ability the store lacks is skipped).
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	f := Factory(newStore)
	RunDeviceStore(t, f)
	RunJobStore(t, f)
	RunSessionStore(t, f)
	RunEventStore(t, f)
	RunTreeCache(t, f)
	RunTraceStore(t, f)
	RunHousekeeper(t, f)
	RunTraceByteKeeper(t, f)
	run(t, f, group{"Store", miscTests})
	RunBatcher(t, f)
	RunEffectsWriter(t, f)
	RunMessageReader(t, f)
	RunBulkAdder(t, f)
	RunOperationStore(t, f)
	RunOperationAttemptStore(t, f)
	RunChunkStore(t, f)
	RunCampaignStore(t, f)
	RunInventory(t, f)
	RunImportPreparer(t, f)
	RunGroupStore(t, f)
	RunProfileStore(t, f)
	RunTokenStore(t, f)
}

// RunDeviceStore checks storage.DeviceStore, with the credentials a device
// record keeps.
func RunDeviceStore(t *testing.T, f Factory) {
	run(t, f, group{"Devices", deviceTests}, group{"Credentials", credentialTests})
}

// RunJobStore checks storage.JobStore.
func RunJobStore(t *testing.T, f Factory) { run(t, f, group{"Jobs", jobTests}) }

// RunSessionStore checks storage.SessionStore.
func RunSessionStore(t *testing.T, f Factory) { run(t, f, group{"Sessions", sessionTests}) }

// RunEventStore checks storage.EventStore.
func RunEventStore(t *testing.T, f Factory) { run(t, f, group{"Events", eventTests}) }

// RunTreeCache checks storage.TreeCache.
func RunTreeCache(t *testing.T, f Factory) { run(t, f, group{"TreeCache", treeTests}) }

// RunTraceStore checks storage.TraceStore and per-device trace retention
// (storage.DeviceTracePruner, or PruneTraces in its stead).
func RunTraceStore(t *testing.T, f Factory) {
	run(t, f, group{"Traces", traceTests}, group{"TraceRetention", pruneTests})
}

// RunHousekeeper checks storage.Housekeeper.
func RunHousekeeper(t *testing.T, f Factory) { run(t, f, group{"Housekeeping", housekeepingTests}) }

// RunTraceByteKeeper checks storage.TraceByteKeeper.
func RunTraceByteKeeper(t *testing.T, f Factory) { run(t, f, group{"TraceBytes", traceByteTests}) }

// RunBatcher checks the optional storage.Batcher: atomic units, and many
// concurrent ones committed together where the backend groups commits.
func RunBatcher(t *testing.T, f Factory) {
	run(t, f, group{"GroupCommit", groupCommitTests}, group{"Batch", batchTests}, group{"BatchUndo", batchUndoTests})
}

// RunEffectsWriter checks storage.WriteEffects: through the optional
// storage.EffectsWriter when the store has one, else the individual methods.
func RunEffectsWriter(t *testing.T, f Factory) { run(t, f, group{"Effects", effectsTests}) }

// RunMessageReader checks storage.ReadMessage and storage.GetJobs: through
// the optional storage.MessageReader when the store has one.
func RunMessageReader(t *testing.T, f Factory) { run(t, f, group{"Reads", readTests}) }

// RunBulkAdder checks the optional storage.BulkAdder.
func RunBulkAdder(t *testing.T, f Factory) { run(t, f, group{"Bulk", bulkTests}) }

// RunOperationStore checks storage.OperationStore.
func RunOperationStore(t *testing.T, f Factory) { run(t, f, group{"Operations", operationTests}) }

// RunOperationAttemptStore checks storage.OperationAttemptStore.
func RunOperationAttemptStore(t *testing.T, f Factory) {
	run(t, f, group{"OperationAttempts", operationAttemptTests})
}

// RunChunkStore checks the optional storage.ChunkStore.
func RunChunkStore(t *testing.T, f Factory) { run(t, f, group{"Chunks", chunkTests}) }

// RunCampaignStore checks storage.CampaignStore.
func RunCampaignStore(t *testing.T, f Factory) { run(t, f, group{"Campaigns", campaignTests}) }

// RunInventory checks storage.Inventory and the optional
// storage.DeviceIDQuerier.
func RunInventory(t *testing.T, f Factory) {
	run(t, f, group{"Inventory", inventoryTests}, group{"Filters", filterTests}, group{"ImportUnits", importUnitTests}, group{"DeviceIDs", deviceIDTests})
}

// RunGroupStore checks storage.GroupStore.
func RunGroupStore(t *testing.T, f Factory) { run(t, f, group{"Groups", groupTests}) }

// RunProfileStore checks storage.ProfileStore.
func RunProfileStore(t *testing.T, f Factory) { run(t, f, group{"Profiles", profileTests}) }

// RunTokenStore checks storage.TokenStore.
func RunTokenStore(t *testing.T, f Factory) { run(t, f, group{"APITokens", tokenTests}) }

// group is one subtest of Run: the tests of one interface or ability.
type group struct {
	name  string
	tests []test
}

func run(t *testing.T, newStore Factory, groups ...group) {
	t.Helper()
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

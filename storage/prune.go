package storage

import (
	"context"
	"fmt"
)

// DeviceTracePruner is an optional ability of a Store (found by type
// assertion): trim the traces of one device. It exists because
// PruneTraces, which visits every trace of every device, costs time in
// proportion to the whole table (a sort of 200,000 rows took 250 ms on
// PostgreSQL); trimming the device that has just written traces
// reads only that device's newest entries of an index, so the server can do
// it with every session and keep the table at its retention without a
// table-wide sweep.
type DeviceTracePruner interface {
	// PruneDeviceTraces keeps only the newest keep traces of deviceID and
	// returns how many it deleted. keep < 0 is an error.
	PruneDeviceTraces(ctx context.Context, deviceID string, keep int) (int, error)
}

// PruneDeviceTraces trims one device's traces through s's
// DeviceTracePruner when it has one, and with PruneTraces (every device,
// same retention) otherwise; the count is -1 when it is unknown.
func PruneDeviceTraces(ctx context.Context, s Store, deviceID string, keep int) (int, error) {
	if keep < 0 {
		return 0, fmt.Errorf("storage: negative trace retention %d", keep)
	}
	if p, ok := s.(DeviceTracePruner); ok {
		return p.PruneDeviceTraces(ctx, deviceID, keep)
	}
	return -1, s.PruneTraces(ctx, keep)
}

// TraceDevices lists, once each and in order of first appearance, the
// devices whose traces e stores: the devices an Effects with TraceKeep > 0
// trims. Backends with their own EffectsWriter use it.
func TraceDevices(e *Effects) []string {
	var ids []string
	seen := map[string]bool{} // a write-behind batch holds thousands of traces
	for _, t := range e.Traces {
		if !seen[t.DeviceID] {
			seen[t.DeviceID] = true
			ids = append(ids, t.DeviceID)
		}
	}
	return ids
}

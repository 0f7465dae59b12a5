package storage

import "context"

// TraceStore keeps the wire traces: each DM message as it crossed the wire.
// Housekeeper, TraceByteKeeper and DeviceTracePruner bound what it holds.
type TraceStore interface {
	AddTrace(ctx context.Context, t *TraceEntry) error
	// ListTraces returns a device's most recent traces (sessionID "" = any), oldest first.
	ListTraces(ctx context.Context, deviceID, sessionID string, limit int) ([]*TraceEntry, error)
	// PruneTraces keeps only the newest keepPerDevice traces per device.
	PruneTraces(ctx context.Context, keepPerDevice int) error
}

package storage

import "context"

// DeviceIDQuerier is an optional ability of a DeviceQuerier: the IDs of
// one page of QueryDevices (same order, same cursors), without reading and
// decoding the devices' records. Snapshotting a campaign's targets needs
// nothing else, and at a million devices the records are most of its cost.
type DeviceIDQuerier interface {
	QueryDeviceIDs(ctx context.Context, q DeviceQuery) (ids []string, next string, err error)
}

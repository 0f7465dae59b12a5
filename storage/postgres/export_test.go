package postgres

import (
	"context"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/internal/sqlcommon"
)

// SetFacetRare changes the bound under which a DevInfo value is rare (the
// search then drives from device_devinfo) and returns the restore.
func SetFacetRare(n int) (restore func()) {
	old := facetRare
	facetRare = n
	return func() { facetRare = old }
}

// SetDriveMax changes the count from which a filter no longer drives a
// search of several filters (0: none drives, as before the store chose).
func SetDriveMax(n int) (restore func()) {
	old := driveMax
	driveMax = n
	return func() { driveMax = old }
}

// DeviceQuerySQL returns the statement and arguments QueryDevices runs for
// q (its plan chosen as QueryDevices chooses it).
func DeviceQuerySQL(s *Store, q storage.DeviceQuery) (string, []any, error) {
	after, err := q.Prepare()
	if err != nil {
		return "", nil, err
	}
	plan, err := s.devicePlan(context.Background(), &q)
	if err != nil {
		return "", nil, err
	}
	query, args := sqlcommon.DeviceQuery(dialect, deviceCols, &q, after, plan)
	return query, args, nil
}

package postgres

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

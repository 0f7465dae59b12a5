package postgres

// SetFacetRare changes the bound under which a DevInfo value is rare (the
// search then drives from device_devinfo) and returns the restore.
func SetFacetRare(n int) (restore func()) {
	old := facetRare
	facetRare = n
	return func() { facetRare = old }
}

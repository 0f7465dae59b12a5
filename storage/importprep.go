package storage

import (
	"context"
	"errors"
)

// ImportPreparer is an optional ability of a Store (found by type
// assertion): ImportDevices in two steps, so that an importer storing many
// units one after another prepares the next unit (checks, password hash,
// sealed server password, encoding: whatever needs no transaction) while
// the one before it is being written. Use it through PrepareImport and
// StoreImport, which fall back to ImportDevices.
type ImportPreparer interface {
	// PrepareImport does the part of ImportDevices(ctx, ds) that needs no
	// transaction and no lock. It changes nothing, ds included, and may run
	// at the same time as any other call, StoreImport of another unit
	// included.
	PrepareImport(ds []*Device) PreparedImport
	// StoreImport stores a unit prepared by the same store's PrepareImport
	// with the outcome of ImportDevices(ctx, ds) at this moment (errs, err,
	// the devices stored and the fields of ds filled in): a device whose ID
	// was taken after the unit was prepared is skipped with ErrExists. Units
	// stored in the order they were read give the outcome of importing them
	// in that order. A unit whose StoreImport failed as a whole (err) may be
	// stored again.
	StoreImport(ctx context.Context, p PreparedImport) (errs []error, err error)
}

// PreparedImport is a unit of devices made ready for the writer by
// PrepareImport.
type PreparedImport interface {
	// Devices are the devices given to PrepareImport; errs from StoreImport
	// are by index into them.
	Devices() []*Device
}

// ErrForeignImport reports a PreparedImport given to a store other than the
// one that prepared it.
var ErrForeignImport = errors.New("storage: import unit prepared by another store")

// PrepareImport prepares ds for StoreImport: with s's ImportPreparer when it
// has one, else as ds itself (StoreImport then calls ImportDevices).
func PrepareImport(s Inventory, ds []*Device) PreparedImport {
	if p, ok := s.(ImportPreparer); ok {
		return p.PrepareImport(ds)
	}
	return plainImport(ds)
}

// StoreImport stores a unit PrepareImport(s, …) returned: see
// ImportPreparer.StoreImport and Inventory.ImportDevices.
func StoreImport(ctx context.Context, s Inventory, p PreparedImport) (errs []error, err error) {
	if pi, ok := p.(plainImport); ok {
		return s.ImportDevices(ctx, pi)
	}
	if ip, ok := s.(ImportPreparer); ok {
		return ip.StoreImport(ctx, p)
	}
	return nil, ErrForeignImport
}

// plainImport is the prepared form of a store without ImportPreparer.
type plainImport []*Device

func (p plainImport) Devices() []*Device { return p }

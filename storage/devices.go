package storage

import "context"

// DeviceStore keeps the enrolled devices and their credentials (see Device
// for what is stored of the passwords).
type DeviceStore interface {
	CreateDevice(ctx context.Context, d *Device) error // ErrExists if the ID is taken
	GetDevice(ctx context.Context, id string) (*Device, error)
	// UpdateDevice overwrites all mutable fields of an existing device (ErrNotFound otherwise).
	UpdateDevice(ctx context.Context, d *Device) error
	// ListDevices returns devices ordered by ID with ID > afterID, at most limit (0 = 100).
	ListDevices(ctx context.Context, afterID string, limit int) ([]*Device, error)
	// DeleteDevice removes the device and everything that belongs to it.
	DeleteDevice(ctx context.Context, id string) error
	CountDevices(ctx context.Context) (int, error)
}

// DeviceContactWriter is an optional ability of a Store (found by type
// assertion): store what a DM message changes about its device, every
// mutable field but Labels, and DevInfo only when devInfo is set; the
// others stay as stored. Only the API changes labels, and the message's
// copy of the device may predate such a change, so writing them back would
// undo it. WriteEffects uses it for an Effects whose DeviceContact is set.
type DeviceContactWriter interface {
	UpdateDeviceContact(ctx context.Context, d *Device, devInfo bool) error // ErrNotFound if there is no such device
}

package sqlcommon

import "github.com/omadm/omadm/storage"

// The conversion of devices stored with plaintext credentials (a database
// from before migration 5) to the protected form: the password's hash and
// the server password sealed, the plaintext columns emptied.
const (
	// LegacyDevices selects the devices to convert, as LegacyDevice scans.
	LegacyDevices = `SELECT id, username, password, server_password, password_hash,
		server_password_sealed FROM devices WHERE password <> '' OR server_password <> ''`
	// ConvertLegacy stores a converted device: $1 the hash, $2 the sealed
	// server password, $3 the ID.
	ConvertLegacy = `UPDATE devices SET password_hash = $1, server_password_sealed = $2,
		password = '', server_password = '' WHERE id = $3`
)

// LegacyDevice is a row of LegacyDevices.
type LegacyDevice struct {
	ID, Username, Password, ServerPassword, PasswordHash string
	Sealed                                               []byte
}

// Dest is what a row of LegacyDevices scans into.
func (d *LegacyDevice) Dest() []any {
	return []any{&d.ID, &d.Username, &d.Password, &d.ServerPassword, &d.PasswordHash, &d.Sealed}
}

// Convert returns the password hash and sealed server password to store
// for d (the sealed value as it was when d has no plaintext server
// password).
func (d *LegacyDevice) Convert(k Sealer) (hash string, sealed []byte, err error) {
	hash = storage.HashPassword(&storage.Device{Username: d.Username, Password: d.Password, PasswordHash: d.PasswordHash})
	sealed = d.Sealed
	if d.ServerPassword != "" {
		if sealed, err = k.SealFor(d.ID, d.ServerPassword); err != nil {
			return "", nil, err
		}
	}
	return hash, sealed, nil
}

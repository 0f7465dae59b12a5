package sqlcommon

import (
	"fmt"

	"github.com/omadm/omadm/storage"
)

// Sealer seals a secret bound to a name and opens it again (storage/secret's
// Key, which the SQL backends hold).
type Sealer interface {
	SealFor(name, plain string) ([]byte, error)
	OpenFor(name string, sealed []byte) (string, error)
}

// profileAD binds a profile's sealed settings to its name.
func profileAD(name string) string { return "profile:" + name }

// SealProfile splits p's settings into the JSON of the plain ones and the
// secret ones sealed (bound to the profile's name): the settings and
// secrets columns of profiles.
func SealProfile(k Sealer, p *storage.Profile) (plain []byte, sealed []byte, err error) {
	pl, sec, err := storage.SplitProfileSettings(p.Settings)
	if err != nil {
		return nil, nil, err
	}
	if sealed, err = k.SealFor(profileAD(p.Name), sec); err != nil {
		return nil, nil, err
	}
	return pl, sealed, nil
}

// OpenProfile sets p.Settings from the settings and secrets columns of
// p.Name's row.
func OpenProfile(k Sealer, p *storage.Profile, plain string, sealed []byte) error {
	sec, err := k.OpenFor(profileAD(p.Name), sealed)
	if err != nil {
		return err
	}
	if p.Settings, err = storage.JoinProfileSettings([]byte(plain), sec); err != nil {
		return fmt.Errorf("storage: stored settings of profile %q are not valid JSON: %w", p.Name, err)
	}
	return nil
}

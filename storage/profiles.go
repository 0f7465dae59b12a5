package storage

import (
	"context"
	"encoding/json"
	"time"
)

// Profile is a named connectivity profile (an access point, optionally with
// a proxy) the server applies to devices; mo/connmo turns it into the nodes
// it provisions.
type Profile struct {
	Name string // unique; becomes the device's node name
	Kind string // "apn" or "wifi"
	// Settings by name (connmo.SettingNames); the secret ones (password,
	// passphrase) are sealed at rest.
	Settings  map[string]string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SecretSettings are the settings a store keeps sealed.
var SecretSettings = []string{"password", "passphrase"}

// ProfileStore keeps connectivity profiles.
type ProfileStore interface {
	// CreateProfile stores a new profile (ErrExists when the name is
	// taken); it sets CreatedAt and UpdatedAt.
	CreateProfile(ctx context.Context, p *Profile) error
	// GetProfile returns a profile (ErrNotFound).
	GetProfile(ctx context.Context, name string) (*Profile, error)
	// UpdateProfile replaces the kind and settings of an existing profile
	// (ErrNotFound) and sets UpdatedAt.
	UpdateProfile(ctx context.Context, p *Profile) error
	// ListProfiles returns profiles ordered by name with name > after, at
	// most limit (0 = 100).
	ListProfiles(ctx context.Context, after string, limit int) ([]*Profile, error)
	// DeleteProfile removes a profile (ErrNotFound).
	DeleteProfile(ctx context.Context, name string) error
}

// SplitProfileSettings separates a profile's settings into the JSON of the
// plain ones and the JSON of the secret ones ("" when there are none), the
// two parts a SQL store keeps.
func SplitProfileSettings(s map[string]string) (plain []byte, secret string, err error) {
	pl, sec := map[string]string{}, map[string]string{}
	for k, v := range s {
		if isSecretSetting(k) {
			sec[k] = v
		} else {
			pl[k] = v
		}
	}
	if plain, err = json.Marshal(pl); err != nil {
		return nil, "", err
	}
	if len(sec) > 0 {
		b, err := json.Marshal(sec)
		if err != nil {
			return nil, "", err
		}
		secret = string(b)
	}
	return plain, secret, nil
}

// JoinProfileSettings is the inverse of SplitProfileSettings.
func JoinProfileSettings(plain []byte, secret string) (map[string]string, error) {
	s := map[string]string{}
	if len(plain) > 0 {
		if err := json.Unmarshal(plain, &s); err != nil {
			return nil, err
		}
	}
	if secret != "" {
		sec := map[string]string{}
		if err := json.Unmarshal([]byte(secret), &sec); err != nil {
			return nil, err
		}
		for k, v := range sec {
			s[k] = v
		}
	}
	return s, nil
}

func isSecretSetting(k string) bool {
	for _, s := range SecretSettings {
		if s == k {
			return true
		}
	}
	return false
}

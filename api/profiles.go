package api

import (
	"errors"
	"time"

	"github.com/omadm/omadm/mo/connmo"
	"github.com/omadm/omadm/storage"
)

// ProfileRequest is the body of POST /profiles (Name required) and of PUT
// /profiles/{name} (Name omitted or equal): a connectivity profile the
// server applies to devices with an operation of mo "connmo" (POST
// /devices/{id}/operations {"mo":"connmo","params":{"profile":NAME}}).
type ProfileRequest struct {
	Name string `json:"name,omitempty"`
	// Kind is "apn" (an APN-like mobile data access point) or "wifi".
	Kind string `json:"kind"`
	// Settings: apn takes apn (required), display_name, auth_type (PAP or
	// CHAP), username, password, proxy_addr, proxy_port; wifi takes ssid
	// (required), display_name, security (open, wpa2-psk (default) or
	// wpa3-sae), passphrase (8 to 63 characters unless open), hidden
	// ("true"/"false"), proxy_addr, proxy_port.
	Settings map[string]string `json:"settings,omitempty"`
}

// Profile is a stored connectivity profile; its secret settings (password,
// passphrase) are shown as "********".
type Profile struct {
	Name      string            `json:"name"`
	Kind      string            `json:"kind"`
	Settings  map[string]string `json:"settings"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// ProfileList is one page of profiles by name; Next is the ?after= cursor.
type ProfileList struct {
	Profiles []Profile `json:"profiles"`
	Next     string    `json:"next,omitempty"`
}

// ValidateProfile checks a profile request; errors name the field.
func ValidateProfile(r *ProfileRequest) error {
	err := connmo.Validate(r.Name, r.Kind, r.Settings)
	var fe *connmo.FieldError
	if errors.As(err, &fe) {
		return invalid(fe.Field, "%s", fe.Msg)
	}
	return err
}

// ProfileFrom converts a stored profile to its API view.
func ProfileFrom(p *storage.Profile) Profile {
	return Profile{Name: p.Name, Kind: p.Kind, Settings: connmo.Redacted(p.Settings), CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

package api

import "time"

// Package is an update package of the server's catalogue (POST /packages):
// served to devices at /dl/<id> (Range supported) and described by the
// download descriptor /dl/<id>.dd.
type Package struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Version   string    `json:"version"`
	Type      string    `json:"type"`
	Size      int64     `json:"size"`
	SHA256    string    `json:"sha256"`
	CreatedAt time.Time `json:"created_at"`
	// URL and DescriptorURL are where devices fetch it (without a device:
	// such a descriptor has no installNotifyURI).
	URL           string `json:"url,omitempty"`
	DescriptorURL string `json:"descriptor_url,omitempty"`
}

// Release is a rule of the release policy: devices of Model (DevInfo/Mod)
// running FromVersion (DevDetail/FwV; "" = any other version) get Package
// when they ask for a firmware update.
type Release struct {
	Model       string `json:"model"`
	FromVersion string `json:"from_version,omitempty"`
	Package     string `json:"package"`
}

// ReleasePolicy is the body of GET and PUT /release-policy.
type ReleasePolicy struct {
	Rules []Release `json:"rules"`
}

// InstallNotifyKind is the event kind of a device's OMA DL status report
// (Type is the package ID, Source its /dl/ path, Data the status line).
const InstallNotifyKind = "install-notify"

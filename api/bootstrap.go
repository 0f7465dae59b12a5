package api

// BootstrapRequest is the body of POST /bootstrap: DM bootstrap profiles
// (the DMAcc account of this server) for one or more devices.
type BootstrapRequest struct {
	DeviceIDs []string `json:"device_ids"`
	// Format: tnds-wbxml (default: a WBXML DM message whose Add carries the
	// account as embedded TNDS), add (a WBXML DM message of plain Adds) or
	// tnds-xml (the TNDS document alone, for factory provisioning).
	Format string `json:"format,omitempty"`
	// ServerURL is the DM URL the account names (default: this server's
	// public URL + /dm).
	ServerURL string `json:"server_url,omitempty"`
	// Security protects WBXML profiles for delivery over the air:
	// NETWORKID (or NETWPIN), USERPIN, USERPIN_NETWORKID (or USERNETWPIN)
	// or USERPINMAC; "" = none (factory files).
	Security string `json:"security,omitempty"`
	// IMSI is the network secret of NETWORKID and USERPIN_NETWORKID (keyed
	// in its 3GPP semi-octet form); default: the device's "imsi" label.
	IMSI string `json:"imsi,omitempty"`
	// PIN is the user PIN of USERPIN, USERPIN_NETWORKID and USERPINMAC.
	PIN string `json:"pin,omitempty"`
	// Password is the client password the profile carries; "" makes a new
	// one per device and stores it (the old one stops working).
	Password string `json:"password,omitempty"`
	// Push sends each profile as a WAP push (WSP over UDP) to the device's
	// notify_addr (udp:// only).
	Push bool `json:"push,omitempty"`
}

// BootstrapProfile is one device's generated profile.
type BootstrapProfile struct {
	DeviceID    string `json:"device_id"`
	Format      string `json:"format"`
	ContentType string `json:"content_type"`
	// Document is the profile's bytes (base64 in JSON).
	Document []byte `json:"document"`
	Security string `json:"security,omitempty"`
	// MAC is hex(HMAC-SHA1(key, document)), the push's MAC parameter.
	MAC string `json:"mac,omitempty"`
	// UserPIN is what the user types for USERPINMAC.
	UserPIN         string `json:"user_pin,omitempty"`
	PasswordChanged bool   `json:"password_changed"`
	Pushed          bool   `json:"pushed,omitempty"`
	PushError       string `json:"push_error,omitempty"`
}

// BootstrapResult is the answer of POST /bootstrap.
type BootstrapResult struct {
	Profiles []BootstrapProfile `json:"profiles"`
}

package syncml

import "net/url"

// EscapeUIOption encodes one value of the options Item of a user-interaction
// Alert (1100–1104), whose name=value pairs are joined by "&" and encoded
// like URL query parameters (OMA-TS-DM_Protocol-V1_2 §10: MINDT, MAXDT, DR,
// MAXLEN, IT, ET). The engines share this DM-level syntax here so that
// neither needs a URL package.
func EscapeUIOption(v string) string { return url.QueryEscape(v) }

// UnescapeUIOption decodes a name or value of a user-interaction Alert's
// options Item (see EscapeUIOption); an invalid %-escape is an error.
func UnescapeUIOption(s string) (string, error) { return url.QueryUnescape(s) }

package api

import (
	"unicode/utf8"

	"github.com/omadm/omadm/syncml"
)

// DecodeTrace renders the exact wire bytes of a traced DM message (XML or
// WBXML, told apart by contentType and content) as indented XML for people.
//
// The engine stores only the raw body of each message, because decoding and
// indenting every message on the hot path costs more than reading traces ever
// does; the API decodes when traces are read (TraceFrom). A body that does
// not decode is shown as text when it is valid UTF-8 and as "" otherwise.
func DecodeTrace(body []byte, contentType string) string {
	if len(body) == 0 {
		return ""
	}
	// The message was accepted when it was traced: whatever its size, it
	// decodes within limits at least as large as the body.
	n := max(len(body), syncml.DefaultMaxStringLen)
	m, _, err := syncml.Decode(body, contentType, &syncml.Limits{MaxMessageSize: n, MaxStringLen: n})
	if err == nil {
		if b, err := syncml.EncodeXMLIndent(m); err == nil {
			return string(b)
		}
	}
	if utf8.Valid(body) {
		return string(body)
	}
	return ""
}

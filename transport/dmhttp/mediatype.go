package dmhttp

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"mime"
	"strings"

	"github.com/omadm/omadm/syncml"
)

// DS media types. The HTTP binding names the DM types
// (application/vnd.syncml.dm+xml, +wbxml), but several real device libraries
// post DM messages with the SyncML DS types below; the server accepts both
// families and answers in the one the device used.
const (
	ContentTypeDSXML   = "application/vnd.syncml+xml"
	ContentTypeDSWBXML = "application/vnd.syncml+wbxml"
)

// mediaFamily is which of the two media-type families a request used.
type mediaFamily uint8

const (
	familyDM mediaFamily = iota
	familyDS
)

// acceptedTypes lists the request media types, for 415 answers.
const acceptedTypes = syncml.ContentTypeXML + ", " + syncml.ContentTypeWBXML + ", " +
	ContentTypeDSXML + " or " + ContentTypeDSWBXML

// parseMediaType reports the family of a request Content-Type. Parameters
// (charset and others) are allowed; the type is compared case-insensitively
// (RFC 9110 §8.3.1).
func parseMediaType(ct string) (mediaFamily, bool) {
	mt, _, err := mime.ParseMediaType(ct) // lower-cases the type
	if err != nil {
		return 0, false
	}
	switch mt {
	case syncml.ContentTypeXML, syncml.ContentTypeWBXML:
		return familyDM, true
	case ContentTypeDSXML, ContentTypeDSWBXML:
		return familyDS, true
	}
	return 0, false
}

// reply maps the engine's reply type (always a DM type) into the family the
// request used, keeping its encoding.
func (f mediaFamily) reply(ct string) string {
	if f != familyDS {
		return ct
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct
	}
	switch {
	case mt == syncml.ContentTypeWBXML:
		return ContentTypeDSWBXML
	case mt == syncml.ContentTypeXML:
		return ContentTypeDSXML
	case strings.HasSuffix(mt, "+wbxml"):
		return ContentTypeDSWBXML
	}
	return ContentTypeDSXML
}

// ClientCertSHA256 returns the lower-case hex SHA-256 of the DER leaf
// certificate the TLS peer presented, or "" when there is none. The
// handshake proved the peer holds the certificate's key; whether the chain
// was also verified against a client CA is the tls.Config's choice (see
// ServerTLSConfig).
func ClientCertSHA256(cs *tls.ConnectionState) string {
	if cs == nil || !cs.HandshakeComplete || len(cs.PeerCertificates) == 0 {
		return ""
	}
	sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
	return hex.EncodeToString(sum[:])
}

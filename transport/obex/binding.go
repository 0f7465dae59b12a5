package obex

import (
	"bytes"
	"mime"
	"strings"

	"github.com/omadm/omadm/syncml"
)

// Target is the OBEX Target (and Who) of the DM service: ASCII, no
// terminating null. The SyncML OBEX binding text was not available; the value
// is the one DM implementations use (SyncML DS uses "SYNCML-SYNC").
const Target = "SYNCML-DM"

// DS media types, which several SyncML libraries use for DM messages too;
// the server accepts them and answers in kind, as the HTTP binding does.
const (
	contentTypeDSXML   = "application/vnd.syncml+xml"
	contentTypeDSWBXML = "application/vnd.syncml+wbxml"
)

// headerHMAC is the HTTP-style header carrying the DM HMAC proof
// (OMA-TS-DM_Security-V1_2 §5.5.1.2, "x-syncml-hmac"). Over OBEX it travels
// as a line of the HTTP header (IrOBEX 1.2 §2.2.8), the practice of SyncML
// OBEX implementations; the binding text was not available.
const headerHMAC = "x-syncml-hmac"

// dmType reports whether ct names a DM message type and whether it is of
// the DS family.
func dmType(ct string) (ok, ds bool) {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false, false
	}
	switch mt {
	case syncml.ContentTypeXML, syncml.ContentTypeWBXML:
		return true, false
	case contentTypeDSXML, contentTypeDSWBXML:
		return true, true
	}
	return false, false
}

// dsReply maps a DM reply type into the DS family, keeping its encoding.
func dsReply(ct string) string {
	if strings.HasSuffix(ct, "+wbxml") {
		return contentTypeDSWBXML
	}
	return contentTypeDSXML
}

// httpLines returns the value of name in an HTTP header block ("Name:
// value" lines, CRLF or LF separated), "" when absent.
func httpLines(block []byte, name string) string {
	for len(block) > 0 {
		line := block
		if i := bytes.IndexByte(block, '\n'); i >= 0 {
			line, block = block[:i], block[i+1:]
		} else {
			block = nil
		}
		k, v, ok := bytes.Cut(line, []byte{':'})
		if ok && strings.EqualFold(strings.TrimSpace(string(k)), name) {
			return strings.TrimSpace(string(bytes.TrimRight(v, "\r\x00")))
		}
	}
	return ""
}

// hmacHeader is the OBEX HTTP header carrying an HMAC proof.
func hmacHeader(v string) Header {
	return Bytes(HdrHTTP, []byte(headerHMAC+": "+v+"\r\n"))
}

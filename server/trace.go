package server

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// redactMin is the shortest credential blanked where it stands in the wire
// bytes; a shorter one could match unrelated bytes, so its message is
// re-encoded instead.
const redactMin = 8

// redactCred returns the wire bytes of m with the Data of its header Cred
// blanked: a basic credential is the password in base64, a digest can be
// attacked offline, and traces are kept in storage and shown by the API and
// the console. The Data is overwritten with '*' where it stands, so lengths
// (WBXML included) and everything else stay as they crossed the wire; when it
// cannot be found verbatim, the message is re-encoded with the Data blanked.
// body itself is never modified (it is the message sent or received).
func redactCred(body []byte, m *syncml.Message, enc syncml.Encoding) []byte {
	if m == nil || m.Header.Cred == nil || m.Header.Cred.Data == "" {
		return body
	}
	secret := []byte(m.Header.Cred.Data)
	if len(secret) >= redactMin && bytes.Contains(body, secret) {
		out := bytes.Clone(body)
		for i := 0; ; {
			j := bytes.Index(out[i:], secret)
			if j < 0 {
				break
			}
			for k := range secret {
				out[i+j+k] = '*'
			}
			i += j + len(secret)
		}
		return out
	}
	c := *m
	cred := *m.Header.Cred
	cred.Data = "***"
	c.Header.Cred = &cred
	b, err := syncml.Encode(&c, enc)
	if err != nil {
		return nil
	}
	return b
}

// traceEntry records one message as it crossed the wire. Only the raw bytes
// are stored: the decoded view is made when traces are read (api.TraceFrom),
// which is rare, instead of on every message.
//
// A trace is a view, not state: its text fields are made storable (valid
// UTF-8, no NUL) so that it can never fail the message it belongs to.
func (x *exchange) traceEntry(dir, msgID, ct string, body []byte) *storage.TraceEntry {
	if ct == "" || !cleanText(ct) {
		ct = x.enc.ContentType()
	}
	return &storage.TraceEntry{DeviceID: x.dev.ID, SessionID: storableText(x.msg.Header.SessionID), Direction: dir,
		MsgID: storableText(msgID), ContentType: ct, Body: body, CreatedAt: x.now}
}

// cleanText reports whether s is valid UTF-8 without NUL bytes (what every
// backend stores as text).
func cleanText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// storableText is s, or, when it is not clean text, s without NUL bytes and
// with invalid UTF-8 replaced by U+FFFD.
func storableText(s string) string {
	if cleanText(s) {
		return s
	}
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
}

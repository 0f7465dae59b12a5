package server

import (
	"bytes"

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

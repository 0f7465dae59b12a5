package handler

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/omadm/omadm/api"
)

// decodeRecord decodes one import record into req. The record shape nearly
// every import file has (one flat object of plain strings, labels an object
// of plain strings) is read by a scanner that only accepts input
// encoding/json would decode to the same value; anything else (an escape, a
// null, a number, an unknown or repeated member, bad UTF-8, malformed JSON)
// goes through encoding/json with unknown fields refused, so the result and
// the error messages are encoding/json's. FuzzDecodeRecord checks the two
// agree.
func decodeRecord(raw []byte, req *api.DeviceCreate) error {
	if scanRecord(raw, req) {
		return nil
	}
	*req = api.DeviceCreate{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(req)
}

// recordScanner reads the plain shape of an import record.
type recordScanner struct {
	b []byte
	i int
}

func (s *recordScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips white space and consumes c if it comes next.
func (s *recordScanner) next(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string without escapes or control characters whose bytes are
// valid UTF-8 (encoding/json would change invalid bytes to U+FFFD).
func (s *recordScanner) str() ([]byte, bool) {
	if !s.next('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			return v, utf8.Valid(v)
		case c == '\\' || c < 0x20:
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// Members of a record, one bit each, to refuse a repeated one.
const (
	mID = 1 << iota
	mUsername
	mPassword
	mServerPassword
	mAuth
	mNotifyAddr
	mLabels
	mServerAuth
	mCertSHA256
	mTransportAuth
)

// scanRecord fills req from a record of the plain shape and reports whether
// it could; req is left in an unspecified state when it could not.
func scanRecord(raw []byte, req *api.DeviceCreate) bool {
	s := recordScanner{b: raw}
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return true
	}
	seen := 0
	for {
		key, ok := s.str()
		if !ok || !s.next(':') {
			return false
		}
		var dst *string
		bit := 0
		switch string(key) {
		case "id":
			dst, bit = &req.ID, mID
		case "username":
			dst, bit = &req.Username, mUsername
		case "password":
			dst, bit = &req.Password, mPassword
		case "server_password":
			dst, bit = &req.ServerPassword, mServerPassword
		case "auth":
			dst, bit = &req.Auth, mAuth
		case "notify_addr":
			dst, bit = &req.NotifyAddr, mNotifyAddr
		case "server_auth":
			dst, bit = &req.ServerAuth, mServerAuth
		case "cert_sha256":
			dst, bit = &req.CertSHA256, mCertSHA256
		case "transport_auth":
			dst, bit = &req.TransportAuth, mTransportAuth
		case "labels":
			bit = mLabels
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		if dst != nil {
			v, ok := s.str()
			if !ok {
				return false
			}
			*dst = string(v)
		} else if !s.labels(req) {
			return false
		}
		if s.next('}') {
			return true // what follows the record is not read (as encoding/json's Decoder)
		}
		if !s.next(',') {
			return false
		}
	}
}

// labels reads the labels object: plain string keys and values.
func (s *recordScanner) labels(req *api.DeviceCreate) bool {
	if !s.next('{') {
		return false
	}
	req.Labels = make(map[string]string, 4)
	if s.next('}') {
		return true
	}
	for {
		k, ok := s.str()
		if !ok || !s.next(':') {
			return false
		}
		v, ok := s.str()
		if !ok {
			return false
		}
		req.Labels[string(k)] = string(v)
		if s.next('}') {
			return true
		}
		if !s.next(',') {
			return false
		}
	}
}

package handler_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/handler"
)

// decodeJSON is how encoding/json decodes an import record (unknown fields
// refused, what follows the first value not read).
func decodeJSON(raw []byte) (api.DeviceCreate, error) {
	var req api.DeviceCreate
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	return req, err
}

var recordSeeds = []string{
	`{"id":"IMEI:350000000007919","auth":"md5","username":"user1","password":"pw1","server_password":"srv1","notify_addr":"udp://10.0.0.1:2948","labels":{"env":"prod","ring":"1","site":"site-1"}}`,
	`{"id":"a","username":"u","password":"p","server_password":"sp","server_auth":"hmac","cert_sha256":"ab:cd","transport_auth":"cert"}`,
	` { "id" : "a" , "labels" : { } } trailing`,
	`{}`,
	`{"id":"a","id":"b"}`,
	`{"labels":{"a":"1"},"labels":{"b":"2"}}`,
	`{"labels":{"a":"1","a":"2"}}`,
	`{"ID":"a"}`,
	`{"id":"caf\u00e9"}`,
	`{"id":"café ☃"}`,
	"{\"id\":\"a\xffb\"}",
	`{"id":null}`,
	`{"labels":null}`,
	`{"id":"a",}`,
	`{"id":"a"`,
	`{"id":1}`,
	`{"colour":"red"}`,
	`{"labels":{"k":1}}`,
	`[]`,
	"{\"id\":\"a\tb\"}",
	"\xef\xbb\xbf{\"id\":\"a\"}",
}

// TestDecodeRecord_SameAsEncodingJSON: the import's record decoder gives
// the value and the error encoding/json gives, on the plain shape the
// scanner reads and on everything it leaves to encoding/json.
func TestDecodeRecord_SameAsEncodingJSON(t *testing.T) {
	scanned := 0
	for _, in := range recordSeeds {
		var fast api.DeviceCreate
		if handler.ScanRecord([]byte(in), &fast) {
			scanned++
		}
		sameAsJSON(t, []byte(in))
	}
	if scanned < 5 {
		t.Errorf("the scanner read %d of the seeds: the plain shape is not taken by the fast path", scanned)
	}
}

func sameAsJSON(t *testing.T, raw []byte) {
	t.Helper()
	want, werr := decodeJSON(raw)
	var got api.DeviceCreate
	gerr := handler.DecodeRecord(raw, &got)
	if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
		t.Fatalf("%q: error %v, encoding/json %v", raw, gerr, werr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: decoded %+v, encoding/json %+v", raw, got, want)
	}
}

// FuzzDecodeRecord: whatever the input, the import's record decoder and
// encoding/json agree (go test ./api/handler -fuzz FuzzDecodeRecord).
func FuzzDecodeRecord(f *testing.F) {
	for _, s := range recordSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { sameAsJSON(t, raw) })
}

func BenchmarkDecodeRecord(b *testing.B) {
	raw := []byte(recordSeeds[0])
	for _, bc := range []struct {
		name string
		fn   func() error
	}{
		{"scanner", func() error { var r api.DeviceCreate; return handler.DecodeRecord(raw, &r) }},
		{"encoding-json", func() error { _, err := decodeJSON(raw); return err }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

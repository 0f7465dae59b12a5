package api_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/storage"
)

func TestValidateURI_AcceptsDeviceURIsAndRejectsMalformedOnes(t *testing.T) {
	tests := []struct {
		name, uri string
		query     bool
		ok        bool
	}{
		{"root", ".", false, true},
		{"dot prefixed", "./DevInfo/Mod", false, true},
		{"bare relative", "DevInfo/Mod", false, true},
		{"dots inside names", "./Vendor/a.b", false, true},
		{"unicode name", "./Vendor/Größe", false, true},
		{"property on replace", "./DMAcc/x?prop=ACL", false, true},
		{"list on get", "./Vendor?list=Struct", true, true},
		{"list not on replace", "./Vendor?list=Struct", false, false},
		{"empty", "", false, false},
		{"absolute", "/DevInfo", false, false},
		{"root with slash", "./", false, false},
		{"trailing slash", "./A/", false, false},
		{"double slash", "./A//B", false, false},
		{"dot dot", "./A/../B", false, false},
		{"inner dot", "./A/./B", false, false},
		{"bare star", "./A/*", false, false},
		{"control char", "./A\x00", false, false},
		{"unknown property", "./A?prop=Colour", true, false},
		{"unknown query", "./A?x=1", true, false},
		{"too long", "./" + strings.Repeat("a", api.MaxURILen), false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := api.ValidateURI(tc.uri, tc.query)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidateURI(%q) = %v, want ok=%v", tc.uri, err, tc.ok)
			}
			var ve *api.ValidationError
			if err != nil && (!errors.As(err, &ve) || ve.Field != "uri") {
				t.Fatalf("error %v is not a ValidationError on uri", err)
			}
		})
	}
}

func TestValidateNotifyAddr(t *testing.T) {
	for addr, ok := range map[string]bool{
		"": true, "udp://127.0.0.1:2948": true, "udp://[::1]:9": true, "sms:+15551234": true, "sms:5551234": true,
		"udp://host": false, "udp://:9": false, "udp://h:70000": false, "sms:+12ab": false, "sms:+1": false,
		"http://x": false, "tel:+123": false,
		"obex://127.0.0.1:650": true, "obex://[::1]:6500": true, "obex://dev.example:650": true,
		"obex://127.0.0.1": false, "obex://:650": false, "obex://h:0": false, "obex://h:70000": false,
		"obex://u@h:650": false, "obex://h:650/x": false, "obex+serial:///dev/ttyS0": false,
	} {
		if err := api.ValidateNotifyAddr(addr); (err == nil) != ok {
			t.Errorf("ValidateNotifyAddr(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}

func TestValidateJobRequest_BuildsTheQueuedSpec(t *testing.T) {
	spec, err := api.ValidateJobRequest(&api.JobRequest{Command: "sequence", Children: []api.JobRequest{
		{Command: "alert", Alert: &api.UIAlert{Code: 1101, Text: "Go?"}},
		{Command: "REPLACE", Items: []api.JobItem{{URI: "./A", Data: ""}}},
		{Command: "Add", Items: []api.JobItem{{URI: "./D", Format: "node"}}},
		{Command: "Exec", Items: []api.JobItem{{URI: "./X/Run"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if spec.Command != "Sequence" || spec.Children[0].Command != "Alert" || spec.Children[0].Alert.Code != 1101 {
		t.Fatalf("spec = %+v", spec)
	}
	if !spec.Children[1].Items[0].HasData {
		t.Error("an empty Replace value must still be sent as <Data/>")
	}
	if spec.Children[2].Items[0].HasData || spec.Children[3].Items[0].HasData {
		t.Error("interior Add and Exec without data must carry no Data")
	}
}

func TestJobFrom_ShowsFirstURIAndNullTimesUntilKnown(t *testing.T) {
	j := api.JobFrom(&storage.Job{ID: 7, DeviceID: "d", State: storage.JobQueued,
		Spec: storage.JobSpec{Command: "Atomic", Children: []storage.JobSpec{{Command: "Delete", Items: []storage.JobItem{{URI: "./X"}}}}}})
	b, _ := json.Marshal(j)
	for _, want := range []string{`"uri":"./X"`, `"sent_at":null`, `"done_at":null`, `"results":[]`, `"child_statuses":[]`, `"status":0`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
}

// FuzzJobRequest feeds arbitrary JSON through decoding and validation: it must
// never panic, and whatever it accepts must be a spec the engine can queue.
func FuzzJobRequest(f *testing.F) {
	b, err := os.ReadFile("testdata/jobs.json")
	if err != nil {
		f.Fatal(err)
	}
	var seeds []json.RawMessage
	if err := json.Unmarshal(b, &seeds); err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"command":"Atomic","children":[{"command":"Atomic"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r api.JobRequest
		if json.Unmarshal(data, &r) != nil {
			return
		}
		spec, err := api.ValidateJobRequest(&r)
		if err != nil {
			var ve *api.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("non-validation error %T: %v", err, err)
			}
			return
		}
		if _, ok := api.CanonicalCommand(spec.Command); !ok {
			t.Fatalf("accepted unknown command %q", spec.Command)
		}
		var check func(s storage.JobSpec)
		check = func(s storage.JobSpec) {
			for _, it := range s.Items {
				if err := api.ValidateURI(it.URI, true); err != nil {
					t.Fatalf("accepted bad URI %q", it.URI)
				}
			}
			for _, c := range s.Children {
				check(c)
			}
		}
		check(spec)
	})
}

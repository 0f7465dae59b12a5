package client_test

import (
	"context"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/syncml"
)

func TestAgent_ListStructItemsCarryNoDataAndStructDataOnlyLeafData(t *testing.T) {
	tests := []struct {
		name string
		uri  string
		want map[string]string // Source → Data, "-" = no Data element
	}{
		{"Struct", "./Vendor?list=Struct", map[string]string{"./Vendor": "-", "./Vendor/Name": "-", "./Vendor/Color": "-"}},
		{"StructData", "./Vendor?list=StructData", map[string]string{"./Vendor": "-", "./Vendor/Name": "acme", "./Vendor/Color": "blue"}},
		{"plain interior Get keeps its child list", "./Vendor", map[string]string{"./Vendor": "Name/Color"}},
	}
	for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
		for _, tc := range tests {
			t.Run(enc.String()+"/"+tc.name, func(t *testing.T) {
				tr := newTree(t)
				srv := &scripted{t: t, enc: enc}
				srv.steps = []step{
					func(t *testing.T, got *syncml.Message) *syncml.Message {
						return srv.reply(got, true, 0, &syncml.Get{Items: []syncml.Item{target(tc.uri)}})
					},
					func(t *testing.T, got *syncml.Message) *syncml.Message { return srv.reply(got, true, syncml.StatusOK) },
				}
				c := newAgent(t, tr, srv, func(c *client.Config) { c.Encoding = enc })
				if _, err := c.Run(context.Background(), client.Trigger{}); err != nil {
					t.Fatalf("Run: %v", err)
				}
				rs := results(srv.got[1])
				if len(rs) != 1 {
					t.Fatalf("%d Results", len(rs))
				}
				got := map[string]string{}
				for _, it := range rs[0].Items {
					d := "-"
					if it.Data != nil {
						d = string(it.Data.Value)
					}
					got[it.Source.LocURI] = d
				}
				if len(got) != len(tc.want) {
					t.Fatalf("items %v, want %v", got, tc.want)
				}
				for k, v := range tc.want {
					if got[k] != v {
						t.Fatalf("item %s Data %q, want %q (all %v)", k, got[k], v, got)
					}
				}
			})
		}
	}
}

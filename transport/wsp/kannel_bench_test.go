package wsp_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/internal/kannel"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/wsp"
)

// BenchmarkKannelRoundTrip times one DM-sized Post and its Reply through a
// real Kannel wapbox to an echo backend, by body size and WTP group size.
// Run: go test ./transport/wsp -run '^$' -bench KannelRoundTrip -benchtime 20x
func BenchmarkKannelRoundTrip(b *testing.B) {
	be := startBackend(b)
	kannel.Start(b, kannel.Options{WAPBox: true, WAPBackend: be.URL})
	url := "http://" + kannel.WAPBackendHost + "/dm"
	for _, size := range []int{500, 10000, 60000} {
		for _, group := range []int{1, 3} {
			b.Run(fmt.Sprintf("body=%d/group=%d", size, group), func(b *testing.B) {
				tp, err := wsp.New(wsp.Options{Gateway: fmt.Sprintf("127.0.0.1:%d", kannel.WSPCOPort), GroupSize: group})
				if err != nil {
					b.Fatal(err)
				}
				defer tp.Close()
				body := bytes.Repeat([]byte{'Q'}, size)
				b.SetBytes(int64(2 * size))
				for b.Loop() {
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					resp, err := tp.RoundTrip(ctx, &client.Request{URL: url, ContentType: syncml.ContentTypeWBXML, Body: body})
					cancel()
					if err != nil {
						b.Fatal(err)
					}
					if len(resp.Body) != size {
						b.Fatalf("reply of %d octets, want %d", len(resp.Body), size)
					}
				}
			})
		}
	}
}

package obex_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/transport/obex"
)

// BenchmarkRoundTrip: one DM message PUT and its reply fetched by GET on a
// kept OBEX/TCP connection over loopback (echo engine), per message size
// and negotiated packet length.
func BenchmarkRoundTrip(b *testing.B) {
	for _, c := range []struct{ size, packet int }{{2 << 10, obex.MaxPacketSize}, {64 << 10, obex.MaxPacketSize}, {64 << 10, 4096}, {2 << 10, 255}} {
		b.Run(fmt.Sprintf("msg=%dB/packet=%d", c.size, c.packet), func(b *testing.B) {
			_, addr := startServerB(b, c.packet)
			tp, err := obex.DialURL("obex://"+addr, obex.ClientOptions{MaxPacket: c.packet})
			if err != nil {
				b.Fatal(err)
			}
			defer tp.Close()
			req := &client.Request{ContentType: typeWBXML, Body: make([]byte, c.size)}
			ctx := context.Background()
			b.SetBytes(int64(2 * c.size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tp.RoundTrip(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

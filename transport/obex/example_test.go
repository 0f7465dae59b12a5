package obex_test

import (
	"context"
	"fmt"
	"net"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/server/envelope"
	"github.com/omadm/omadm/transport/obex"
)

// upper is a stand-in for the DM engine (*server.Engine in omadm serve).
type upper struct{}

func (upper) Handle(_ context.Context, in *envelope.Inbound) (*envelope.Outbound, error) {
	return &envelope.Outbound{Body: []byte("<SyncML><!-- reply --></SyncML>"), ContentType: in.ContentType}, nil
}

// The DM server's OBEX side on a TCP listener, and a device sending one
// message through the client transport: CONNECT to SYNCML-DM, PUT, GET.
func Example() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := obex.NewServer(upper{}, &obex.ServerOptions{Logger: quietLog()})
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	tp, err := obex.DialURL("obex://"+ln.Addr().String(), obex.ClientOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tp.Close() // DISCONNECT
	resp, err := tp.RoundTrip(context.Background(), &client.Request{
		ContentType: "application/vnd.syncml.dm+xml", Body: []byte("<SyncML><!-- package 1 --></SyncML>")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.ContentType)
	fmt.Println(string(resp.Body))
	// Output:
	// application/vnd.syncml.dm+xml
	// <SyncML><!-- reply --></SyncML>
}

package envelope_test

import (
	"context"
	"fmt"

	"github.com/omadm/omadm/server/envelope"
)

// conn is the session state a connection-bound binding (OBEX over TCP or a
// serial line) keeps per connection: the token of the session it carries.
type conn struct {
	token  string
	secure bool // the link authenticates the session (a local link the operator trusts)
}

// Token returns the token the connection remembered from its last reply.
func (c *conn) Token() string { return c.token }

// RespURI returns "": the connection is the session's address, so no
// RespURI goes to the device.
func (c *conn) RespURI(string) string { return "" }

// handler is what the binding drives: (*server.Engine).Handle.
type handler func(ctx context.Context, in *envelope.Inbound) (*envelope.Outbound, error)

// deliver hands one received message to the engine and returns the reply to
// send; once the reply went out the connection keeps its token for the next
// message (or forgets it: "" when the session ended).
func (c *conn) deliver(ctx context.Context, engine handler, body []byte, contentType, mac string) (*envelope.Outbound, error) {
	out, err := engine(ctx, &envelope.Inbound{Body: body, ContentType: contentType, HMAC: mac,
		Addr: c, SecureSession: c.secure, RemoteAddr: "obex:tcp/127.0.0.1:650"})
	if err != nil {
		return nil, err // the binding maps the error to its transport's failure answer
	}
	// ... write out.Body (and out.HMAC as the x-syncml-hmac header) ...
	c.token = out.Token
	return out, nil
}

// A connection-bound binding carries the session token for the device: the
// engine writes no RespURI and names the token in Outbound.Token.
func Example_connectionBoundBinding() {
	// A stand-in for the engine: it starts a session on the first message
	// and ends it on the third.
	n := 0
	engine := func(_ context.Context, in *envelope.Inbound) (*envelope.Outbound, error) {
		n++
		fmt.Printf("message %d: token %q, RespURI %q\n", n, in.Token(), in.RespURI("tok-1"))
		out := &envelope.Outbound{Body: []byte("<SyncML/>"), ContentType: in.ContentType}
		if n < 3 {
			out.Token = "tok-1"
		}
		return out, nil
	}
	c := &conn{secure: true}
	for range 3 {
		if _, err := c.deliver(context.Background(), engine, []byte("<SyncML/>"), "application/vnd.syncml.dm+xml", ""); err != nil {
			fmt.Println(err)
		}
	}
	fmt.Printf("after the session: token %q\n", c.token)
	// Output:
	// message 1: token "", RespURI ""
	// message 2: token "tok-1", RespURI ""
	// message 3: token "tok-1", RespURI ""
	// after the session: token ""
}

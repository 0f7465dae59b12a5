package client_test

import (
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/syncml"
)

func TestTerminal_ReadsTheUsersAnswer(t *testing.T) {
	tests := []struct {
		name  string
		input string
		alert client.UIAlert
		want  client.UIReply
	}{
		{"confirm yes", "y\n", client.UIAlert{Code: syncml.AlertConfirmOrReject, Text: "Ok?"}, client.UIReply{Result: client.UIAccepted}},
		{"confirm no", "no\n", client.UIAlert{Code: syncml.AlertConfirmOrReject, Text: "Ok?"}, client.UIReply{Result: client.UIRejected}},
		{"confirm other cancels", "maybe\n", client.UIAlert{Code: syncml.AlertConfirmOrReject, Text: "Ok?"}, client.UIReply{Result: client.UICancelled}},
		{"text", "hello there\n", client.UIAlert{Code: syncml.AlertTextInput, Text: "Name?"}, client.UIReply{Result: client.UIAccepted, Text: "hello there"}},
		{"empty text cancels", "\n", client.UIAlert{Code: syncml.AlertTextInput, Text: "Name?"}, client.UIReply{Result: client.UICancelled}},
		{"choices", "2 3 9\n", client.UIAlert{Code: syncml.AlertMultipleChoice, Text: "Pick", Choices: []string{"a", "b", "c"}}, client.UIReply{Result: client.UIAccepted, Chosen: []int{2, 3}}},
		{"end of input cancels", "", client.UIAlert{Code: syncml.AlertSingleChoice, Text: "Pick", Choices: []string{"a"}}, client.UIReply{Result: client.UICancelled}},
		{"display needs no input", "", client.UIAlert{Code: syncml.AlertDisplay, Text: "Hi"}, client.UIReply{Result: client.UIAccepted}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			term := &client.Terminal{In: strings.NewReader(tc.input), Out: &out}
			got, err := term.Prompt(context.Background(), &tc.alert)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Fatalf("reply %+v, want %+v", *got, tc.want)
			}
			if !strings.Contains(out.String(), tc.alert.Text) {
				t.Fatalf("prompt %q does not show the text", out.String())
			}
		})
	}
}

func TestTerminal_TimesOutWithoutInput(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	term := &client.Terminal{In: r, Out: io.Discard}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := term.Prompt(ctx, &client.UIAlert{Code: syncml.AlertConfirmOrReject, Text: "?"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestAgent_InteractivePackage0AsksTheUserFirst(t *testing.T) {
	p := &notification.Package0{UIMode: notification.UIInteractive, Initiator: notification.InitiatorServer, SessionID: 5, ServerID: testServerID}
	raw, err := p.Encode("srvpw", []byte("n"))
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	tp := client.TransportFunc(func(context.Context, *client.Request) (*client.Response, error) {
		calls++
		return nil, errors.New("not reached")
	})
	c := newAgent(t, newTree(t), tp, func(c *client.Config) {
		c.Account.ServerSecret, c.Account.ServerNonce = "srvpw", []byte("n")
		c.UI = client.AutoAnswer{Reject: true}
	})
	if _, err := c.HandleNotification(context.Background(), raw); !errors.Is(err, client.ErrDeclined) || calls != 0 {
		t.Fatalf("err = %v, calls = %d", err, calls)
	}
}

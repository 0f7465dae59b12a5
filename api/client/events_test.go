package client_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/client"
)

func TestReadEvents_ParsesUpdatesSkipsCommentsAndStopsWhenLagged(t *testing.T) {
	b, err := os.ReadFile("testdata/stream.txt")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	err = client.ReadEvents(bytes.NewReader(b), func(u api.Update) error {
		kinds = append(kinds, u.Kind)
		return nil
	})
	if !errors.Is(err, client.ErrLagged) || strings.Join(kinds, ",") != "job,session" {
		t.Fatalf("kinds %v, err %v", kinds, err)
	}
}

func TestReadEvents_ReportsBrokenStreams(t *testing.T) {
	tests := []struct {
		name, in string
		want     string
	}{
		{"closed by server", ": hi\n\n", io.ErrUnexpectedEOF.Error()},
		{"bad json", "data: {\n\n", "decoding stream update"},
		{"line too long", "data: " + strings.Repeat("x", 17<<20) + "\n\n", "too long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := client.ReadEvents(strings.NewReader(tc.in), func(api.Update) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func FuzzReadEvents(f *testing.F) {
	b, err := os.ReadFile("testdata/stream.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("data: {}\ndata: x\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		n := 0
		err := client.ReadEvents(bytes.NewReader(in), func(api.Update) error { n++; return nil })
		if err == nil {
			t.Fatal("ReadEvents returned nil at the end of the input")
		}
		if n > len(in) {
			t.Fatalf("%d updates from %d bytes", n, len(in))
		}
	})
}

package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

func TestDemo_RunsTheScenarioAndReachesReady(t *testing.T) {
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	err := runDemo(ctx, demoConfig{data: t.TempDir(), listen: "127.0.0.1:0", devices: 3, logLevel: "error",
		stepTimeout: 20 * time.Second, noWait: true}, &out, io.Discard)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"enrolled 3 simulated devices", "./DevInfo/Man", "-> 200 OK (done)",
		"507 Atomic failed", "216 Atomic roll back OK", "(rolled back)",
		`alert 1101 "Install the security update tonight?"`, "Alert 1226", "API token:", "ctl device list", "ready",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestDemo_RejectsADeviceCountOutOfRange(t *testing.T) {
	err := runDemo(context.Background(), demoConfig{devices: 0, listen: "127.0.0.1:0"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--devices") {
		t.Fatalf("err = %v", err)
	}
}

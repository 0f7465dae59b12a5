package client_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/omadm/omadm/api"
)

// BenchmarkSQLiteCreateJob measures queueing a job through the Go client,
// the HTTP API and the SQLite store (durable write per job).
func BenchmarkSQLiteCreateJob(b *testing.B) {
	c, _, _ := newServer(b)
	ctx := context.Background()
	if _, err := c.CreateDevice(ctx, api.DeviceCreate{ID: "d", Username: "u", Password: "p"}); err != nil {
		b.Fatal(err)
	}
	req := api.JobRequest{Command: "Replace", Items: []api.JobItem{{URI: "./Vendor/Conf/Value", Format: "int", Data: "42"}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.CreateJob(ctx, "d", req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSQLiteListDevices100 measures one page of 100 devices from SQLite.
func BenchmarkSQLiteListDevices100(b *testing.B) {
	c, _, _ := newServer(b)
	ctx := context.Background()
	for i := range 1000 {
		if _, err := c.CreateDevice(ctx, api.DeviceCreate{ID: fmt.Sprintf("dev%04d", i), Username: "u", Password: "p"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ListDevices(ctx, "dev0500", 100); err != nil {
			b.Fatal(err)
		}
	}
}

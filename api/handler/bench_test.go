package handler_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/handler"
	"github.com/omadm/omadm/storage"
)

func benchServer(b *testing.B) (*httptest.Server, *memStore) {
	b.Helper()
	st := newMemStore()
	h, err := handler.New(handler.Options{Store: st, Token: testToken})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	for i := range 1000 {
		_ = st.CreateDevice(context.Background(), &storage.Device{ID: fmt.Sprintf("dev%04d", i), AuthScheme: "md5", Username: "u"})
	}
	return srv, st
}

func benchDo(b *testing.B, c *http.Client, method, url, body string, want int) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkCreateJob measures one POST /devices/{id}/jobs over loopback HTTP
// (decode, validate, store in memory, publish, encode).
func BenchmarkCreateJob(b *testing.B) {
	srv, _ := benchServer(b)
	c := srv.Client()
	url := srv.URL + "/api/v1/devices/dev0001/jobs"
	body := `{"command":"Replace","items":[{"uri":"./Vendor/Conf/Value","format":"int","data":"42"}]}`
	b.ReportAllocs()
	for b.Loop() {
		benchDo(b, c, "POST", url, body, 201)
	}
}

// BenchmarkGetJob measures GET /jobs/{id}.
func BenchmarkGetJob(b *testing.B) {
	srv, st := benchServer(b)
	j := &storage.Job{DeviceID: "dev0001", Spec: storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevInfo/Mod"}}}}
	_ = st.CreateJob(context.Background(), j)
	c := srv.Client()
	url := fmt.Sprintf("%s/api/v1/jobs/%d", srv.URL, j.ID)
	b.ReportAllocs()
	for b.Loop() {
		benchDo(b, c, "GET", url, "", 200)
	}
}

// BenchmarkListDevices100 measures one page of 100 devices.
func BenchmarkListDevices100(b *testing.B) {
	srv, _ := benchServer(b)
	c := srv.Client()
	url := srv.URL + "/api/v1/devices?limit=100&after=dev0500"
	b.ReportAllocs()
	for b.Loop() {
		benchDo(b, c, "GET", url, "", 200)
	}
}

// BenchmarkHubPublish10 measures fanning one update out to 10 streams and
// each stream receiving it.
func BenchmarkHubPublish10(b *testing.B) {
	h := handler.NewHub()
	var chans []<-chan api.Update
	for range 10 {
		ch, _, cancel := h.Subscribe()
		defer cancel()
		chans = append(chans, ch)
	}
	u := api.Update{Kind: api.UpdateJob, Job: &api.Job{ID: 1}}
	b.ReportAllocs()
	for b.Loop() {
		h.Publish(u)
		for _, ch := range chans {
			<-ch
		}
	}
	if h.Subscribers() != 10 {
		b.Fatalf("%d streams kept, want 10", h.Subscribers())
	}
}

package handler_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/handler"
	"github.com/omadm/omadm/storage/sqlite"
)

// BenchmarkImportEndpoint measures POST /api/v1/devices/import end to end
// over loopback HTTP into a new SQLite database: one NDJSON body of b.N
// device records (credentials and three labels each), so one op is one
// device (-benchtime 300000x imports 300000). cpu-us/device is the
// process's CPU time per device (client included), which other load on the
// machine does not inflate the way it does the wall-clock rate.
// OMADM_BENCH_IMPORT_UNIT sets the records per storage unit (default: the
// handler's).
func BenchmarkImportEndpoint(b *testing.B) {
	if n, err := strconv.Atoi(os.Getenv("OMADM_BENCH_IMPORT_UNIT")); err == nil && n > 0 {
		handler.SetImportBatch(b, n)
	}
	dir := b.TempDir()
	st, err := sqlite.OpenWith(filepath.Join(dir, "import.db"), &sqlite.Options{SecretKeyFile: filepath.Join(dir, "key")})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	h, err := handler.New(handler.Options{Store: st, Token: testToken})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	n := b.N
	var body bytes.Buffer
	for i := range n {
		fmt.Fprintf(&body, `{"id":"IMEI:%015d","auth":"md5","username":"user%d","password":"pw%d","server_password":"srv%d",`+
			`"notify_addr":"udp://10.0.0.1:2948","labels":{"env":%q,"ring":"%d","site":"site-%d"}}`+"\n",
			350000000000000+i*7919%1000000000, i, i, i, []string{"prod", "staging", "dev"}[i%3], i%10, i%100)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/devices/import", &body)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/x-ndjson")
	cpu0 := cpuTime()
	start := time.Now()
	b.ResetTimer()
	resp, err := srv.Client().Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %d", resp.StatusCode)
	}
	res := decodeBench[api.ImportResult](b, resp)
	b.StopTimer()
	if res.Imported != n {
		b.Fatalf("imported %d of %d: %+v", res.Imported, n, res.Errors)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "devices/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(n), "cpu-us/device")
}

func decodeBench[T any](b *testing.B, resp *http.Response) T {
	b.Helper()
	var v T
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		b.Fatal(err)
	}
	return v
}

// cpuTime is the user+system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

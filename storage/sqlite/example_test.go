package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/sqlite"
)

// Open a database in a data directory, enrol a device and queue a Get for it.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "omadm-example")
	defer os.RemoveAll(dir)
	s, err := sqlite.Open(filepath.Join(dir, "data", "omadm.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	ctx := context.Background()
	_ = s.CreateDevice(ctx, &storage.Device{ID: "IMEI:493005100592800", AuthScheme: "md5", Username: "dev", Password: "secret"})
	j := &storage.Job{DeviceID: "IMEI:493005100592800", Spec: storage.JobSpec{
		Command: "Get", Items: []storage.JobItem{{URI: "./DevInfo/Mod"}}}}
	_ = s.CreateJob(ctx, j)
	pending, _ := s.PendingJobs(ctx, "IMEI:493005100592800", "1")
	fmt.Println(len(pending), pending[0].State, pending[0].Spec.Items[0].URI)
	// Output: 1 queued ./DevInfo/Mod
}

package fleet_test

import (
	"context"
	"fmt"

	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
)

// An operation from an MO's descriptor: a LAWMO wipe of one wipe-list item
// is one Sequence job (the ToBeWiped Replace, then the Exec with the
// operation's correlator) that the server follows to the device's report.
func ExampleManager_Create() {
	ctx := context.Background()
	st := memstore.New()
	_ = st.CreateDevice(ctx, &storage.Device{ID: "IMEI:1", AuthScheme: "md5", Username: "u", Password: "p"})
	m, _ := fleet.New(fleet.Options{Store: st})
	op, job, err := m.Create(ctx, &fleet.Request{DeviceID: "IMEI:1", MO: "lawmo", Operation: "wipe",
		Params: map[string]any{"wipe_items": []string{"1"}}, Correlator: "wipe-42"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(op.MO, op.Name, op.State, op.Correlator)
	for _, c := range job.Spec.Children {
		fmt.Printf("%s %s %q\n", c.Command, c.Items[0].URI, c.Correlator)
	}
	_, _, err = m.Create(ctx, &fleet.Request{DeviceID: "IMEI:1", MO: "fumo"})
	fmt.Println(err)
	// Output:
	// lawmo Wipe queued wipe-42
	// Replace ./LAWMO/AvailableWipeList/1/ToBeWiped ""
	// Exec ./LAWMO/Operations/Wipe "wipe-42"
	// params.pkg_url: DownloadAndUpdate needs pkg_url
}

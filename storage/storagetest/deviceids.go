package storagetest

import (
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

var deviceIDTests = []test{
	{"QueryDeviceIDsPagesLikeQueryDevices", func(t *testing.T, s storage.Store) {
		iq, ok := s.(storage.DeviceIDQuerier)
		if !ok {
			t.Skip("the store has no QueryDeviceIDs")
		}
		seedFleet(t, s)
		for _, tc := range []struct {
			name string
			q    storage.DeviceQuery
		}{
			{"all by id", storage.DeviceQuery{}},
			{"label by id", storage.DeviceQuery{Labels: map[string]string{"env": "prod"}}},
			{"by last seen desc", storage.DeviceQuery{Sort: storage.SortLastSeen, Desc: true}},
			{"model by created", storage.DeviceQuery{DevInfo: map[string]string{"./DevInfo/Mod": "X200"}, Sort: storage.SortCreated}},
			{"seen after, by last seen", storage.DeviceQuery{SeenAfter: t0.Add(90 * time.Minute), Sort: storage.SortLastSeen}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				want := QueryAllIDs(t, s, tc.q, 2)
				// Pages of 2 by QueryDeviceIDs, each cursor also good for
				// QueryDevices (the next page read both ways must agree).
				q := tc.q
				q.Limit = 2
				var got []string
				for range 100 {
					ids, next, err := iq.QueryDeviceIDs(bg, q)
					check(t, "QueryDeviceIDs", err)
					got = append(got, ids...)
					if next == "" {
						break
					}
					q.Cursor = next
					ds, _, err := s.QueryDevices(bg, q)
					check(t, "QueryDevices with a QueryDeviceIDs cursor", err)
					ids2, _, err := iq.QueryDeviceIDs(bg, q)
					check(t, "QueryDeviceIDs", err)
					wantIDs(t, "page after "+next, deviceIDs(ds), ids2...)
				}
				wantIDs(t, tc.name, got, want...)
			})
		}
	}},
}

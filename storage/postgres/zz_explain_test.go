package postgres_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/postgres"
	"github.com/omadm/omadm/storage/secret"
)

func TestZZExplain(t *testing.T) {
	if os.Getenv("ZZ_EXPLAIN") == "" {
		t.Skip()
	}
	b := &testing.B{}
	_ = b
	ctx := context.Background()
	sch := os.Getenv("OMADM_BENCH_FLEET_SCHEMA")
	dsn := os.Getenv(envDSN) + "&search_path=" + sch
	k, _ := secret.FromBytes(make([]byte, 32))
	s, err := postgres.OpenWith(ctx, dsn, &postgres.Options{SecretKey: k})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := pgx.Connect(ctx, dsn)
	now := time.Now()
	compound := storage.DeviceQuery{Labels: map[string]string{"ring": "1"},
		DevInfo:   map[string]string{"./DevInfo/Mod": "X1", "./DevDetail/FwV": "2.1"},
		SeenAfter: now.Add(-7 * 24 * time.Hour), Group: "canary"}
	compoundSeen := compound
	compoundSeen.Sort, compoundSeen.Desc = storage.SortLastSeen, true
	for _, tc := range []struct {
		name string
		q    storage.DeviceQuery
	}{
		{"label+model+fwv/id", storage.DeviceQuery{Labels: map[string]string{"ring": "3"},
			DevInfo: map[string]string{"./DevInfo/Mod": "X3", "./DevDetail/FwV": "2.1"}}},
		{"label+man/created", storage.DeviceQuery{Labels: map[string]string{"env": "dev"},
			DevInfo: map[string]string{"./DevInfo/Man": "Maker2"}, Sort: storage.SortCreated}},
		{"site+env/last_seen", storage.DeviceQuery{Labels: map[string]string{"site": "site-42", "env": "prod"}, Sort: storage.SortLastSeen}},
		{"compound/id", compound},
		{"compound/last_seen-desc", compoundSeen},
	} {
		q := tc.q
		q.Limit = 100
		query, args, err := postgres.DeviceQuerySQL(s, q)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := c.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("=====", tc.name, "\n", query, args)
		for rows.Next() {
			var l string
			rows.Scan(&l)
			fmt.Println(l)
		}
	}
}

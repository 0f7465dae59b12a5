package migrations_test

import (
	"testing"

	"github.com/omadm/omadm/storage/migrations"
)

func TestList_DialectsShareNumbering(t *testing.T) {
	lite, err := migrations.List(migrations.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := migrations.List(migrations.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) != len(pg) {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].Version != pg[i].Version || lite[i].Name != pg[i].Name {
			t.Errorf("migration %d: sqlite %d_%s, postgres %d_%s", i, lite[i].Version, lite[i].Name, pg[i].Version, pg[i].Name)
		}
		if lite[i].SQL == "" || pg[i].SQL == "" {
			t.Errorf("migration %d is empty", lite[i].Version)
		}
	}
	if got := migrations.Latest(migrations.SQLite); got != lite[len(lite)-1].Version {
		t.Errorf("Latest = %d", got)
	}
}

func TestList_RejectsUnknownDialect(t *testing.T) {
	if _, err := migrations.List("oracle"); err == nil {
		t.Fatal("want an error for an unknown dialect")
	}
	if got := migrations.Latest("oracle"); got != 0 {
		t.Fatalf("Latest(oracle) = %d, want 0", got)
	}
}

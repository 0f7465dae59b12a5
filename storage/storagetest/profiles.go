package storagetest

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/omadm/omadm/storage"
)

var profileTests = []test{
	{"CreateGetUpdateListDelete", func(t *testing.T, s storage.Store) {
		ctx := context.Background()
		p := &storage.Profile{Name: "corp-apn", Kind: "apn", Settings: map[string]string{"apn": "corp.example", "username": "u", "password": "s3cret\\\"x"}}
		if err := s.CreateProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
		if p.CreatedAt.IsZero() || !p.UpdatedAt.Equal(p.CreatedAt) {
			t.Fatalf("times %v %v", p.CreatedAt, p.UpdatedAt)
		}
		if err := s.CreateProfile(ctx, &storage.Profile{Name: "corp-apn", Kind: "wifi"}); !errors.Is(err, storage.ErrExists) {
			t.Fatalf("second create: %v, want ErrExists", err)
		}
		got, err := s.GetProfile(ctx, "corp-apn")
		if err != nil {
			t.Fatal(err)
		}
		if got.Kind != "apn" || !maps.Equal(got.Settings, p.Settings) || !got.CreatedAt.Equal(p.CreatedAt) {
			t.Fatalf("got %+v, want %+v", got, p)
		}
		up := &storage.Profile{Name: "corp-apn", Kind: "wifi", Settings: map[string]string{"ssid": "Office", "passphrase": "correct horse"}}
		if err := s.UpdateProfile(ctx, up); err != nil {
			t.Fatal(err)
		}
		got, _ = s.GetProfile(ctx, "corp-apn")
		if got.Kind != "wifi" || !maps.Equal(got.Settings, up.Settings) || !got.CreatedAt.Equal(p.CreatedAt) || got.UpdatedAt.Before(p.UpdatedAt) {
			t.Fatalf("after update %+v", got)
		}
		if err := s.UpdateProfile(ctx, &storage.Profile{Name: "nope", Kind: "apn"}); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("update of a missing profile: %v", err)
		}
		for _, n := range []string{"b", "A", "a"} {
			if err := s.CreateProfile(ctx, &storage.Profile{Name: n, Kind: "apn", Settings: map[string]string{"apn": n}}); err != nil {
				t.Fatal(err)
			}
		}
		l, err := s.ListProfiles(ctx, "", 3)
		if err != nil || len(l) != 3 || l[0].Name != "A" || l[1].Name != "a" || l[2].Name != "b" {
			t.Fatalf("first page %v %v", names(l), err)
		}
		l, err = s.ListProfiles(ctx, "b", 0)
		if err != nil || len(l) != 1 || l[0].Name != "corp-apn" {
			t.Fatalf("second page %v %v", names(l), err)
		}
		if err := s.DeleteProfile(ctx, "corp-apn"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetProfile(ctx, "corp-apn"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("get after delete: %v", err)
		}
		if err := s.DeleteProfile(ctx, "corp-apn"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
	}},
}

func names(ps []*storage.Profile) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

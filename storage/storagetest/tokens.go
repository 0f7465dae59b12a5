package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/omadm/omadm/storage"
)

func tokenHash(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

var tokenTests = []test{
	{"CreateFindListRevoke", func(t *testing.T, s storage.Store) {
		ctx := context.Background()
		a := &storage.APIToken{Name: "ci", Prefix: "omadm_abc", Hash: tokenHash("a")}
		if err := s.CreateAPIToken(ctx, a); err != nil {
			t.Fatal(err)
		}
		if a.ID == 0 || a.CreatedAt.IsZero() || !a.LastUsedAt.IsZero() || a.Revoked() {
			t.Fatalf("created %+v", a)
		}
		got, err := s.APITokenByHash(ctx, tokenHash("a"))
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != a.ID || got.Name != "ci" || got.Prefix != "omadm_abc" || !bytes.Equal(got.Hash, a.Hash) || !got.CreatedAt.Equal(a.CreatedAt) || got.Revoked() {
			t.Fatalf("by hash %+v, want %+v", got, a)
		}
		if _, err := s.APITokenByHash(ctx, tokenHash("nope")); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("unknown hash: %v, want ErrNotFound", err)
		}
		b := &storage.APIToken{Name: "console", Prefix: "omadm_def", Hash: tokenHash("b")}
		if err := s.CreateAPIToken(ctx, b); err != nil || b.ID <= a.ID {
			t.Fatalf("second token: %v, id %d after %d", err, b.ID, a.ID)
		}
		l, err := s.ListAPITokens(ctx, false)
		if err != nil || len(l) != 2 || l[0].Name != "ci" || l[1].Name != "console" {
			t.Fatalf("list %v %v", tokenNames(l), err)
		}
		r, err := s.RevokeAPIToken(ctx, a.ID)
		if err != nil || !r.Revoked() || r.Name != "ci" {
			t.Fatalf("revoke: %+v %v", r, err)
		}
		// A revoked token is still found by its hash, marked revoked:
		// the caller refuses it.
		if got, err := s.APITokenByHash(ctx, tokenHash("a")); err != nil || !got.Revoked() {
			t.Fatalf("revoked by hash: %+v %v", got, err)
		}
		again, err := s.RevokeAPIToken(ctx, a.ID)
		if err != nil || !again.RevokedAt.Equal(r.RevokedAt) {
			t.Fatalf("revoking again: %+v %v (first %v)", again, err, r.RevokedAt)
		}
		if _, err := s.RevokeAPIToken(ctx, 999999); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("revoke of a missing token: %v", err)
		}
		if l, _ := s.ListAPITokens(ctx, false); len(l) != 1 || l[0].Name != "console" {
			t.Fatalf("active after revoke %v", tokenNames(l))
		}
		if l, _ := s.ListAPITokens(ctx, true); len(l) != 2 || !l[0].Revoked() || l[1].Revoked() {
			t.Fatalf("all after revoke %v", tokenNames(l))
		}
	}},
	{"NamesAreUniqueAmongActiveTokens", func(t *testing.T, s storage.Store) {
		ctx := context.Background()
		a := &storage.APIToken{Name: "ci", Prefix: "p1", Hash: tokenHash("1")}
		if err := s.CreateAPIToken(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAPIToken(ctx, &storage.APIToken{Name: "ci", Prefix: "p2", Hash: tokenHash("2")}); !errors.Is(err, storage.ErrExists) {
			t.Fatalf("same name: %v, want ErrExists", err)
		}
		if err := s.CreateAPIToken(ctx, &storage.APIToken{Name: "other", Prefix: "p1", Hash: tokenHash("1")}); !errors.Is(err, storage.ErrExists) {
			t.Fatalf("same hash: %v, want ErrExists", err)
		}
		if _, err := s.RevokeAPIToken(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		// The name of a revoked token may be given to a new one.
		if err := s.CreateAPIToken(ctx, &storage.APIToken{Name: "ci", Prefix: "p3", Hash: tokenHash("3")}); err != nil {
			t.Fatalf("reusing a revoked name: %v", err)
		}
	}},
	{"TouchMovesLastUseForwardOnly", func(t *testing.T, s storage.Store) {
		ctx := context.Background()
		a := &storage.APIToken{Name: "ci", Prefix: "p", Hash: tokenHash("a")}
		if err := s.CreateAPIToken(ctx, a); err != nil {
			t.Fatal(err)
		}
		t1 := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)
		if err := s.TouchAPIToken(ctx, a.ID, t1); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchAPIToken(ctx, a.ID, t1.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err := s.APITokenByHash(ctx, a.Hash)
		if err != nil || !got.LastUsedAt.Equal(t1) {
			t.Fatalf("last used %v %v, want %v", got.LastUsedAt, err, t1)
		}
		if err := s.TouchAPIToken(ctx, 999999, t1); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("touch of a missing token: %v", err)
		}
	}},
}

func tokenNames(l []*storage.APIToken) []string {
	var out []string
	for _, t := range l {
		out = append(out, t.Name)
	}
	return out
}

package handler_test

import (
	"context"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
)

// memStore is the shared in-memory store with a switch to make Ping fail, so
// the health check's failure path can be exercised.
type memStore struct {
	*memstore.Store
	pingErr error
}

var _ storage.Store = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{Store: memstore.New()} }

func (m *memStore) Ping(ctx context.Context) error {
	if m.pingErr != nil {
		return m.pingErr
	}
	return m.Store.Ping(ctx)
}

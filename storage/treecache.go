package storage

import "context"

// TreeCache keeps the server's last known view of each device's management
// tree (the values of Results).
type TreeCache interface {
	PutTreeNodes(ctx context.Context, nodes []TreeNode) error // upsert by (DeviceID, URI)
	// ListTreeNodes returns the device's cached nodes at or below prefix ("" = all), ordered by URI.
	ListTreeNodes(ctx context.Context, deviceID, prefix string) ([]TreeNode, error)
	DeleteTreeNodes(ctx context.Context, deviceID, prefix string) error
}

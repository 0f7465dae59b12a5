package storage

import (
	"context"
	"time"
)

// Group is a named set of devices. A static group lists its members
// (AddGroupMembers); a dynamic group has a Selector, a saved device filter
// (fleet.ParseSelector syntax) evaluated whenever the group is used, and no
// member list.
type Group struct {
	Name        string
	Description string
	Selector    string // "" for a static group
	CreatedAt   time.Time
}

// Dynamic reports whether the group's members come from its selector.
func (g *Group) Dynamic() bool { return g.Selector != "" }

// GroupStore keeps groups and the members of static groups. Deleting a
// device removes its memberships; deleting a group removes its member list.
// Members are read with QueryDevices (DeviceQuery.Group).
type GroupStore interface {
	// CreateGroup stores a new group (ErrExists when the name is taken);
	// CreatedAt defaults to now.
	CreateGroup(ctx context.Context, g *Group) error
	// GetGroup returns the group or ErrNotFound.
	GetGroup(ctx context.Context, name string) (*Group, error)
	// ListGroups returns groups ordered by name with name > after, at most
	// limit (0 = 100).
	ListGroups(ctx context.Context, after string, limit int) ([]*Group, error)
	// DeleteGroup removes the group and its member list (ErrNotFound when
	// there is no such group).
	DeleteGroup(ctx context.Context, name string) error
	// AddGroupMembers adds devices to a static group as one atomic unit:
	// ErrNotFound (naming the ID) when the group or one of the devices does
	// not exist, and then nothing is added; ErrDynamicGroup for a dynamic
	// group. Devices already members are left as they are. It returns how
	// many devices became members.
	AddGroupMembers(ctx context.Context, name string, deviceIDs []string) (int, error)
	// RemoveGroupMembers removes devices from a static group (IDs that are
	// not members are ignored) and returns how many were removed;
	// ErrNotFound when there is no such group, ErrDynamicGroup for a dynamic
	// one.
	RemoveGroupMembers(ctx context.Context, name string, deviceIDs []string) (int, error)
}

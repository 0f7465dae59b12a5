package storage

import (
	"context"
	"time"
)

// DeviceQuery selects, sorts and pages devices: the fleet's search, the
// members of a group and the targets of a campaign all go through it. Every
// set field must match (AND); zero fields match everything.
type DeviceQuery struct {
	// IDs matches exactly these device IDs (an explicit target list).
	IDs []string
	// IDPrefix matches device IDs that start with it ("IMEI:35").
	IDPrefix string
	// Labels matches devices carrying every key=value given; a value of ""
	// matches any value of that key (the label is present).
	Labels map[string]string
	// DevInfo matches the devices' last reported ./DevInfo and ./DevDetail
	// values, by URI ("./DevInfo/Mod" → "X200"), exactly.
	DevInfo map[string]string
	// Group matches the members of a static group.
	Group string
	// SeenAfter and SeenBefore bound LastSeen (zero: unbounded). A device
	// never seen has a zero LastSeen: SeenBefore matches it, SeenAfter not.
	SeenAfter, SeenBefore time.Time
	// Sort orders the result: "id" (default), "last_seen" or "created"; ties
	// are broken by ID. Desc reverses it.
	Sort string
	Desc bool
	// Cursor continues a previous query from where its page ended (the
	// cursor QueryDevices returned; "" = from the start). It is only valid
	// for the same query.
	Cursor string
	// Limit bounds the page (0 = 100).
	Limit int
}

// DeviceQuerier finds devices by a DeviceQuery.
type DeviceQuerier interface {
	// QueryDevices returns one page of the devices q selects, in q's order,
	// and the cursor of the next page ("" when this page is the last).
	QueryDevices(ctx context.Context, q DeviceQuery) (devices []*Device, next string, err error)
}

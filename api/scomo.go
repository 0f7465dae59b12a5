package api

import "time"

// SCOMOInventoryRequest is the body of POST /devices/{id}/scomo/inventory:
// read the device's software components again.
type SCOMOInventoryRequest struct {
	// Node is the SCOMO object (default ./SCOMO).
	Node string `json:"node,omitempty"`
	// Notify sends package 0 so the device connects now.
	Notify bool `json:"notify,omitempty"`
}

// SCOMOInventory answers GET /devices/{id}/scomo/inventory: the device's
// software components as the server last read them (./SCOMO/Inventory).
type SCOMOInventory struct {
	Device string `json:"device"`
	Node   string `json:"node"`
	// ReadAt is when the inventory was read; absent when it never was
	// (then the lists are empty: POST to this URL reads it).
	ReadAt    *time.Time          `json:"read_at,omitempty"`
	Deployed  []SCOMOComponent    `json:"deployed"`
	Delivered []SCOMODeliveredPkg `json:"delivered"`
}

// SCOMOComponent is an installed component (Inventory/Deployed/<x>).
type SCOMOComponent struct {
	Node    string `json:"node"`
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	PkgID   string `json:"pkg_id,omitempty"`
	// State is "active" or "inactive" (the node's 20 or 10).
	State  string `json:"state"`
	Status int    `json:"status"`
}

// SCOMODeliveredPkg is a downloaded package not removed
// (Inventory/Delivered/<x>).
type SCOMODeliveredPkg struct {
	Node  string `json:"node"`
	PkgID string `json:"pkg_id"`
	Name  string `json:"name,omitempty"`
	// State is "delivered" or "installed" (the node's 10 or 20).
	State  string `json:"state"`
	Status int    `json:"status"`
}

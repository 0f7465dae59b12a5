package scomo

import (
	"sort"
	"strconv"
	"strings"
)

// Inventory is what a server read of a device's components (a Get of
// InventoryURI).
type Inventory struct {
	Delivered []DeliveredPackage
	Deployed  []DeployedComponent
}

// DeliveredPackage is one Inventory/Delivered/<x>.
type DeliveredPackage struct {
	Node        string // its run-time name
	PkgID       string
	Name        string
	Description string
	State       DeliveredState
	Status      DeliveredStatus
}

// DeployedComponent is one Inventory/Deployed/<x>.
type DeployedComponent struct {
	Node        string // its run-time name
	ID          string
	PkgIDRef    string
	Name        string
	Description string
	Version     string
	State       DeployedState
	Status      DeployedStatus
}

// ParseInventory builds the inventory of the object at root from node
// values the server read (URI → value, URIs in canonical form), ignoring
// anything outside root's Inventory.
func ParseInventory(root string, values map[string]string) Inventory {
	type leaves = map[string]string
	branch := func(b Branch) map[string]leaves {
		prefix := root + "/" + string(b) + "/"
		out := map[string]leaves{}
		for uri, v := range values {
			rest, ok := strings.CutPrefix(uri, prefix)
			if !ok {
				continue
			}
			name, leaf, _ := strings.Cut(rest, "/")
			if out[name] == nil {
				out[name] = leaves{}
			}
			if leaf != "" && !strings.Contains(leaf, "/") {
				out[name][leaf] = v
			}
		}
		return out
	}
	num := func(s string) int { n, _ := strconv.Atoi(strings.TrimSpace(s)); return n }
	var inv Inventory
	for name, l := range branch(BranchDelivered) {
		inv.Delivered = append(inv.Delivered, DeliveredPackage{Node: name, PkgID: l["PkgID"], Name: l["Name"], Description: l["Description"],
			State: DeliveredState(num(l["State"])), Status: DeliveredStatus(num(l["Status"]))})
	}
	for name, l := range branch(BranchDeployed) {
		inv.Deployed = append(inv.Deployed, DeployedComponent{Node: name, ID: l["ID"], PkgIDRef: l["PkgIDRef"], Name: l["Name"],
			Description: l["Description"], Version: l["Version"], State: DeployedState(num(l["State"])), Status: DeployedStatus(num(l["Status"]))})
	}
	sort.Slice(inv.Delivered, func(i, j int) bool { return inv.Delivered[i].Node < inv.Delivered[j].Node })
	sort.Slice(inv.Deployed, func(i, j int) bool { return inv.Deployed[i].Node < inv.Deployed[j].Node })
	return inv
}

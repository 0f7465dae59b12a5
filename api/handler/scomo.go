package handler

import (
	"net/http"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/mo/moframe"
	"github.com/omadm/omadm/mo/scomo"
	"github.com/omadm/omadm/storage"
)

// scomoNode reads and checks the SCOMO object's node (default ./SCOMO).
func scomoNode(s string) (string, error) {
	if s == "" {
		return scomo.DefaultNode, nil
	}
	n, err := moframe.CanonicalNode(s)
	if err != nil || n != s || len(n) > storage.MaxURILen/2 {
		return "", &api.ValidationError{Field: "node", Msg: "want the object's absolute node, e.g. ./SCOMO"}
	}
	return n, nil
}

// scomoInventory is GET /devices/{id}/scomo/inventory: the components the
// server last read from the device. Only the nodes of the latest reading
// count (a component removed since an earlier one is gone from it).
func (h *Handler) scomoInventory(w http.ResponseWriter, r *http.Request) {
	d, ok := h.device(w, r)
	if !ok {
		return
	}
	node, err := scomoNode(r.URL.Query().Get("node"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	inv := node + "/Inventory"
	nodes, err := h.o.Store.ListTreeNodes(r.Context(), d.ID, inv)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := api.SCOMOInventory{Device: d.ID, Node: node, Deployed: []api.SCOMOComponent{}, Delivered: []api.SCOMODeliveredPkg{}}
	var readAt time.Time
	for _, n := range nodes {
		if n.URI == inv {
			readAt = n.UpdatedAt
		}
	}
	if readAt.IsZero() {
		writeJSON(w, http.StatusOK, out)
		return
	}
	out.ReadAt = &readAt
	values := map[string]string{}
	for _, n := range nodes {
		if !n.UpdatedAt.Before(readAt) {
			values[n.URI] = n.Value
		}
	}
	parsed := scomo.ParseInventory(node, values)
	for _, c := range parsed.Deployed {
		out.Deployed = append(out.Deployed, api.SCOMOComponent{Node: c.Node, ID: c.ID, Name: c.Name, Version: c.Version,
			PkgID: c.PkgIDRef, State: c.State.String(), Status: int(c.Status)})
	}
	for _, p := range parsed.Delivered {
		state := "delivered"
		if p.State == scomo.Installed {
			state = "installed"
		}
		out.Delivered = append(out.Delivered, api.SCOMODeliveredPkg{Node: p.Node, PkgID: p.PkgID, Name: p.Name, State: state, Status: int(p.Status)})
	}
	writeJSON(w, http.StatusOK, out)
}

// readSCOMOInventory is POST /devices/{id}/scomo/inventory: queue a Get of
// the object's Inventory with its values (OMA-TS-DM_Protocol-V1_2 §6.6.2,
// ?list=StructData), answered with the job; its Results become what GET
// shows.
func (h *Handler) readSCOMOInventory(w http.ResponseWriter, r *http.Request) {
	var req api.SCOMOInventoryRequest
	if err := h.decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	node, err := scomoNode(req.Node)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	spec := storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: scomo.InventoryURI(node)}}}
	if err := storage.ValidateJobSpec(spec); err != nil {
		h.fail(w, r, &api.ValidationError{Field: "node", Msg: err.Error()})
		return
	}
	h.queueJob(w, r, spec, req.Notify)
}

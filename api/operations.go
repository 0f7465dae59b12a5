package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/mo/lawmo"
	"github.com/omadm/omadm/storage"
)

// FUMORequest is the body of POST /devices/{id}/fumo: a firmware update over
// FUMO. The server queues one job: a Sequence of the Replace of
// <node>/<operation>/PkgURL and the Exec of <node>/<operation> (the Exec
// alone for Update, which installs the package the device holds). In a
// Sequence the device runs the Exec only when the Replace succeeded
// (OMA-TS-DM_Protocol-V1_2 §6); Atomic is not an option: it may not hold an
// Exec (OMA-TS-DM_RepPro-V1_2 Atomic).
type FUMORequest struct {
	Node       string `json:"node,omitempty"`      // the device's FUMO node; default ./FwUpdate/Default
	Operation  string `json:"operation,omitempty"` // DownloadAndUpdate (default), Download or Update
	PkgURL     string `json:"pkg_url,omitempty"`   // required except for Update
	Correlator string `json:"correlator,omitempty"`
	Notify     bool   `json:"notify,omitempty"`
}

// LAWMORequest is the body of POST /devices/{id}/lawmo: lock, unlock, wipe or
// reset a device over LAWMO. The server queues one job: a Sequence of the
// Replaces of its parameters (LAWMOConfig/NotifyUser,
// AvailableWipeList/<n>/ToBeWiped) and the Exec of
// <node>/Operations/<operation>, so that an item the device does not have
// stops the wipe instead of wiping without it.
type LAWMORequest struct {
	Node       string   `json:"node,omitempty"`       // the device's LAWMO node; default ./LAWMO
	Operation  string   `json:"operation"`            // FullyLock, PartiallyLock, UnLock, FactoryReset, Wipe (any case)
	WipeItems  []string `json:"wipe_items,omitempty"` // Wipe only: AvailableWipeList node names to erase
	NotifyUser *bool    `json:"notify_user,omitempty"`
	Correlator string   `json:"correlator,omitempty"`
	Notify     bool     `json:"notify,omitempty"`
}

// Default MO nodes of the operation requests.
const (
	DefaultFUMONode  = "./FwUpdate/Default"
	DefaultLAWMONode = "./LAWMO"
)

// maxWipeItems bounds a LAWMO request's item list.
const maxWipeItems = 64

// newCorrelator makes a correlator for an Exec the request gave none for.
func newCorrelator(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func validateNode(node, def string) (string, error) {
	if node == "" {
		return def, nil
	}
	node = strings.TrimSuffix(node, "/")
	if !strings.HasPrefix(node, "./") {
		return "", invalid("node", "%q: want an absolute URI such as %s", node, def)
	}
	if err := ValidateURI(node, false); err != nil {
		ve := err.(*ValidationError)
		ve.Field = "node"
		return "", ve
	}
	return node, nil
}

// execJob wraps the Exec of uri, preceded by pre (Replaces of its
// parameters), in a Sequence job when there are parameters.
func execJob(uri, correlator string, pre []JobItem) JobRequest {
	exec := JobRequest{Command: "Exec", Correlator: correlator, Items: []JobItem{{URI: uri}}}
	if len(pre) == 0 {
		return exec
	}
	return JobRequest{Command: "Sequence", Children: []JobRequest{{Command: "Replace", Items: pre}, exec}}
}

// ValidateFUMO checks r, fills its defaults (node, operation, correlator) and
// returns the job to queue.
func ValidateFUMO(r *FUMORequest) (storage.JobSpec, error) {
	node, err := validateNode(r.Node, DefaultFUMONode)
	if err != nil {
		return storage.JobSpec{}, err
	}
	r.Node = node
	if r.Operation == "" {
		r.Operation = string(fumo.OpDownloadAndUpdate)
	}
	op, err := fumo.ParseOp(r.Operation)
	if err != nil {
		return storage.JobSpec{}, invalid("operation", "%q: want DownloadAndUpdate, Download or Update", r.Operation)
	}
	r.Operation = string(op)
	switch {
	case op == fumo.OpUpdate && r.PkgURL != "":
		return storage.JobSpec{}, invalid("pkg_url", "Update installs the package the device holds: give no pkg_url")
	case op != fumo.OpUpdate && r.PkgURL == "":
		return storage.JobSpec{}, invalid("pkg_url", "%s needs the package URL", op)
	case len(r.PkgURL) > MaxURILen || !printable(r.PkgURL):
		return storage.JobSpec{}, invalid("pkg_url", "must be at most %d printable bytes", MaxURILen)
	}
	if r.Correlator == "" {
		r.Correlator = newCorrelator("fumo-")
	}
	var pre []JobItem
	if r.PkgURL != "" {
		pre = []JobItem{{URI: node + "/" + string(op) + "/PkgURL", Format: "chr", Data: r.PkgURL}}
	}
	jr := execJob(node+"/"+string(op), r.Correlator, pre)
	return ValidateJobRequest(&jr)
}

// lawmoWords are the short operation names `omadm ctl lawmo` takes.
var lawmoWords = map[string]lawmo.Op{
	"lock": lawmo.OpFullyLock, "partial-lock": lawmo.OpPartiallyLock, "unlock": lawmo.OpUnLock,
	"wipe": lawmo.OpWipe, "factory-reset": lawmo.OpFactoryReset,
}

// ValidateLAWMO checks r, fills its defaults (node, canonical operation,
// correlator) and returns the job to queue.
func ValidateLAWMO(r *LAWMORequest) (storage.JobSpec, error) {
	node, err := validateNode(r.Node, DefaultLAWMONode)
	if err != nil {
		return storage.JobSpec{}, err
	}
	r.Node = node
	op, ok := lawmoWords[strings.ToLower(r.Operation)]
	if !ok {
		if op, err = lawmo.ParseOp(r.Operation); err != nil {
			return storage.JobSpec{}, invalid("operation", "%q: want lock, partial-lock, unlock, wipe, factory-reset (or FullyLock, PartiallyLock, UnLock, Wipe, FactoryReset)", r.Operation)
		}
	}
	r.Operation = string(op)
	if len(r.WipeItems) > 0 && op != lawmo.OpWipe {
		return storage.JobSpec{}, invalid("wipe_items", "apply to Wipe, not %s", op)
	}
	if len(r.WipeItems) > maxWipeItems {
		return storage.JobSpec{}, invalid("wipe_items", "more than %d items", maxWipeItems)
	}
	if r.Correlator == "" {
		r.Correlator = newCorrelator("lawmo-")
	}
	var pre []JobItem
	if r.NotifyUser != nil {
		pre = append(pre, JobItem{URI: node + "/LAWMOConfig/NotifyUser", Format: "bool", Data: fmt.Sprint(*r.NotifyUser)})
	}
	for i, n := range r.WipeItems {
		if n == "" || strings.ContainsAny(n, "/?") || !printable(n) || len(n) > MaxIDLen {
			return storage.JobSpec{}, invalid(fmt.Sprintf("wipe_items[%d]", i), "%q is not a node name", n)
		}
		pre = append(pre, JobItem{URI: node + "/AvailableWipeList/" + n + "/ToBeWiped", Format: "bool", Data: "true"})
	}
	jr := execJob(node+"/Operations/"+string(op), r.Correlator, pre)
	return ValidateJobRequest(&jr)
}

// ExecStatus is what the device answered the Exec of an operation job (a
// lone Exec, or the last member of its Sequence); 0 while unknown.
func ExecStatus(j *Job) int {
	if j.Command != "Sequence" {
		return j.Status
	}
	if n := len(j.ChildStatuses); n > 0 && n == len(j.Spec.Children) {
		return j.ChildStatuses[n-1]
	}
	return 0
}

package scomo

import (
	"time"

	"github.com/omadm/omadm/mo"
)

// DefaultNode is the SCOMO instance a server addresses when told none.
const DefaultNode = "./SCOMO"

// id names the package or component: the run-time name of its Download,
// Delivered and Deployed node, and the package's PkgID.
var idParam = mo.Param{Name: "id", Required: true}

// downloadParams are what the server Adds under Download/{id}.
var downloadParams = []mo.Param{
	idParam,
	{Node: "Download/{id}/PkgID", Format: "chr", Value: "{id}"},
	{Name: "url", Node: "Download/{id}/PkgURL", Format: "chr", Required: true, PackageURL: true},
	{Name: "name", Node: "Download/{id}/Name", Format: "chr"},
	{Name: "description", Node: "Download/{id}/Description", Format: "chr"},
	{Name: "pkg_type", Node: "Download/{id}/PkgType", Format: "chr"},
}

// Descriptor declares SCOMO's server operations (OMA-TS-DM-SCOMO-V1_0 §5:
// the server Adds Download/<x> with PkgID and PkgURL and Execs one of its
// Operations; installed components are activated, deactivated and removed
// by an Exec of their Operations; the device answers 202 and reports in a
// 1226 OperationComplete alert, 12xx meaning success).
//
// Every operation takes "id", the package or component name. The install
// operations take "url" (required; or "package", a package of the server's
// catalogue whose device-bound download descriptor URL the server puts
// there), "name", "description" and "pkg_type"; PkgID is the id.
var Descriptor = &mo.Descriptor{
	Name:        "scomo",
	MOID:        MOID,
	DefaultNode: DefaultNode,
	Timeout:     24 * time.Hour,
	Success:     [][2]int{{1200, 1299}},
	// Retried: an attempt that timed out, the download server's errors
	// (1500 server error, 1501 unavailable, 1550–1599 vendor server errors;
	// OMA-TS-DM-SCOMO-V1_0 §8.7 result codes), and an Exec answered 503.
	// 1402 "download failed" is not: it also stands for a descriptor the
	// device cannot use, which fails the same way again. A failed install,
	// removal or (de)activation, a bad package or the user's refusal is
	// not retried either.
	Retry: mo.RetryPolicy{MaxAttempts: 3, Backoff: 5 * time.Minute, MaxBackoff: time.Hour, OnTimeout: true,
		OnResult:     [][2]int{{int(ResultDownloadServerError), int(ResultDownloadServerUnavail)}, {1550, 1599}},
		OnExecStatus: [][2]int{{503, 503}}},
	Operations: []mo.Operation{
		{Name: string(OpDownloadInstall), Aliases: []string{"install"}, Create: "Download/{id}",
			Exec: "Download/{id}/Operations/DownloadInstall", Params: downloadParams},
		{Name: string(OpDownloadInstallInactive), Aliases: []string{"install-inactive"}, Create: "Download/{id}",
			Exec: "Download/{id}/Operations/DownloadInstallInactive", Params: downloadParams},
		{Name: string(OpDownload), Aliases: []string{"download"}, Create: "Download/{id}",
			Exec: "Download/{id}/Operations/Download", Params: downloadParams},
		{Name: string(OpInstall), Aliases: []string{"install-delivered"},
			Exec: "Inventory/Delivered/{id}/Operations/Install", Params: []mo.Param{idParam}},
		{Name: string(OpInstallInactive), Aliases: []string{"install-delivered-inactive"},
			Exec: "Inventory/Delivered/{id}/Operations/InstallInactive", Params: []mo.Param{idParam}},
		{Name: "RemoveDelivered", Aliases: []string{"remove-delivered"},
			Exec: "Inventory/Delivered/{id}/Operations/Remove", Params: []mo.Param{idParam}},
		{Name: string(OpRemove), Aliases: []string{"remove"},
			Exec: "Inventory/Deployed/{id}/Operations/Remove", Params: []mo.Param{idParam}},
		{Name: string(OpActivate), Aliases: []string{"activate"},
			Exec: "Inventory/Deployed/{id}/Operations/Activate", Params: []mo.Param{idParam}},
		{Name: string(OpDeactivate), Aliases: []string{"deactivate"},
			Exec: "Inventory/Deployed/{id}/Operations/Deactivate", Params: []mo.Param{idParam}},
	},
	Meaning: func(code int) string { return Result(code).String() },
	// The inventory is read again after each operation, so the server's
	// view of the components follows it.
	Refresh: "Inventory?list=StructData",
	Report: func(typ, source, data string) (int, string, bool, error) {
		o, ok, err := ParseAlert(typ, source, data)
		if !ok {
			return 0, "", false, nil
		}
		return int(o.Result), o.Result.String(), true, err
	},
}

// InventoryURI is what a server Gets to read the inventory of the object
// at root: every delivered and deployed component with its nodes.
func InventoryURI(root string) string { return root + "/" + Descriptor.Refresh }

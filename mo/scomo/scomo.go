// Package scomo is the Software Component Management Object
// (urn:oma:mo:oma-scomo:1.0, OMA-TS-DM-SCOMO-V1_0): its DDF, the device
// side (a dmtree plug-in that downloads, installs, activates, deactivates
// and removes software components through an Installer, keeps their Status
// and State and reports each outcome with a 1226 generic alert) and the
// server side's reading of those alerts and of the inventory.
//
// The object is placed where the device chooses (for example ./SCOMO):
//
//	Download/<x>/PkgID, PkgURL, Name, Description, PkgType   added by the server
//	Download/<x>/Status                                      DownloadStatus
//	Download/<x>/Operations/{Download, DownloadInstall, DownloadInstallInactive}
//	Inventory/Delivered/<x>/PkgID, Name, State, Status
//	Inventory/Delivered/<x>/Operations/{Install, InstallInactive, Remove}
//	Inventory/Deployed/<x>/ID, PkgIDRef, Name, Version, State, Status
//	Inventory/Deployed/<x>/Operations/{Activate, Deactivate, Remove}
//
// Exec of an operation answers 202; the work runs after the session and its
// outcome goes out as Generic Alert 1226 of type AlertOperationComplete:
// Source the executed node, Target the delivered or deployed component it
// concerns, Format xml, Data <ResultCode>…</ResultCode><Identifier>…</Identifier>,
// with the Exec's Correlator.
package scomo

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// MOID is the management object identifier.
const MOID = "urn:oma:mo:oma-scomo:1.0"

// AlertOperationComplete is the Meta Type of the 1226 item reporting an
// operation (OMA-TS-DM-SCOMO-V1_0, the OperationComplete alert).
const AlertOperationComplete = "urn:oma:at:scomo:1.0:OperationComplete"

// Op is an operation: the name of its node under an Operations node.
type Op string

// The operations, by the branch whose Operations node holds them.
const (
	// Download/<x>/Operations.
	OpDownload                Op = "Download"
	OpDownloadInstall         Op = "DownloadInstall"
	OpDownloadInstallInactive Op = "DownloadInstallInactive"
	// Inventory/Delivered/<x>/Operations.
	OpInstall         Op = "Install"
	OpInstallInactive Op = "InstallInactive"
	// Inventory/Delivered/<x>/Operations and Inventory/Deployed/<x>/Operations.
	OpRemove Op = "Remove"
	// Inventory/Deployed/<x>/Operations.
	OpActivate   Op = "Activate"
	OpDeactivate Op = "Deactivate"
)

// Branch is where an object's run-time named node lives.
type Branch string

// The branches, relative to the object's root.
const (
	BranchDownload  Branch = "Download"
	BranchDelivered Branch = "Inventory/Delivered"
	BranchDeployed  Branch = "Inventory/Deployed"
)

// Ops lists the operations each branch offers.
var Ops = map[Branch][]Op{
	BranchDownload:  {OpDownload, OpDownloadInstall, OpDownloadInstallInactive},
	BranchDelivered: {OpInstall, OpInstallInactive, OpRemove},
	BranchDeployed:  {OpActivate, OpDeactivate, OpRemove},
}

// DownloadStatus is Download/<x>/Status.
type DownloadStatus int

// Download/<x>/Status values (OMA-TS-DM-SCOMO-V1_0 §5, Download/<x>/Status).
const (
	DownloadIdle                DownloadStatus = 10
	DownloadFailed              DownloadStatus = 20
	DownloadProgressing         DownloadStatus = 30
	DownloadComplete            DownloadStatus = 40
	DownloadInstallProgressing  DownloadStatus = 50
	DownloadInstallFailedData   DownloadStatus = 60
	DownloadInstallFailedNoData DownloadStatus = 70
)

// DeliveredState is Inventory/Delivered/<x>/State.
type DeliveredState int

// Delivered states.
const (
	Delivered DeliveredState = 10
	Installed DeliveredState = 20
)

// DeliveredStatus is Inventory/Delivered/<x>/Status.
type DeliveredStatus int

// Delivered statuses.
const (
	DeliveredIdle                DeliveredStatus = 10
	DeliveredRemoveFailed        DeliveredStatus = 20
	DeliveredRemoveProgressing   DeliveredStatus = 30
	DeliveredInstallProgressing  DeliveredStatus = 40
	DeliveredInstallFailedData   DeliveredStatus = 50
	DeliveredInstallFailedNoData DeliveredStatus = 60
)

// DeployedState is Inventory/Deployed/<x>/State.
type DeployedState int

// Deployed states.
const (
	Inactive DeployedState = 10
	Active   DeployedState = 20
)

func (s DeployedState) String() string {
	switch s {
	case Inactive:
		return "inactive"
	case Active:
		return "active"
	}
	return "state " + strconv.Itoa(int(s))
}

// DeployedStatus is Inventory/Deployed/<x>/Status.
type DeployedStatus int

// Deployed statuses.
const (
	DeployedIdle                  DeployedStatus = 10
	DeployedRemoveFailed          DeployedStatus = 20
	DeployedRemoveProgressing     DeployedStatus = 30
	DeployedActivateFailed        DeployedStatus = 40
	DeployedActivateProgressing   DeployedStatus = 50
	DeployedDeactivateFailed      DeployedStatus = 60
	DeployedDeactivateProgressing DeployedStatus = 70
)

// Result is the result code an OperationComplete alert carries.
type Result int

// Result codes (OMA-TS-DM-SCOMO-V1_0 §8.7). 1250–1299 are vendor successes,
// 1450–1499 vendor client errors and 1550–1599 vendor server errors.
const (
	ResultSuccessful            Result = 1200
	ResultClientError           Result = 1400
	ResultUserCancelled         Result = 1401
	ResultDownloadFailed        Result = 1402
	ResultDownloadAuthFailed    Result = 1403
	ResultDownloadOutOfMemory   Result = 1404
	ResultInstallFailed         Result = 1405
	ResultInstallOutOfMemory    Result = 1406
	ResultValidationFailed      Result = 1407
	ResultRemoveFailed          Result = 1408
	ResultActivateFailed        Result = 1409
	ResultDeactivateFailed      Result = 1410
	ResultNotImplemented        Result = 1411
	ResultUndefined             Result = 1412
	ResultUnsupportedEnv        Result = 1413
	ResultDownloadServerError   Result = 1500
	ResultDownloadServerUnavail Result = 1501
)

var resultNames = map[Result]string{
	ResultSuccessful: "successful", ResultClientError: "client error", ResultUserCancelled: "user cancelled",
	ResultDownloadFailed: "download failed", ResultDownloadAuthFailed: "download server refused the authentication",
	ResultDownloadOutOfMemory: "download failed: out of memory", ResultInstallFailed: "install failed",
	ResultInstallOutOfMemory: "install failed: out of memory", ResultValidationFailed: "package validation failed",
	ResultRemoveFailed: "remove failed", ResultActivateFailed: "activate failed", ResultDeactivateFailed: "deactivate failed",
	ResultNotImplemented: "not implemented", ResultUndefined: "undefined error",
	ResultUnsupportedEnv:      "operation rejected: unsupported environment",
	ResultDownloadServerError: "download server error", ResultDownloadServerUnavail: "download server unavailable",
}

func (r Result) String() string {
	if n, ok := resultNames[r]; ok {
		return n
	}
	switch {
	case r >= 1250 && r <= 1299:
		return "successful (vendor " + strconv.Itoa(int(r)) + ")"
	case r >= 1450 && r <= 1499:
		return "client error (vendor " + strconv.Itoa(int(r)) + ")"
	case r >= 1550 && r <= 1599:
		return "server error (vendor " + strconv.Itoa(int(r)) + ")"
	}
	return "result " + strconv.Itoa(int(r))
}

// Successful reports a 12xx result.
func (r Result) Successful() bool { return r >= 1200 && r <= 1299 }

// failure is the result an operation's failed hook reports.
func (op Op) failure() Result {
	switch op {
	case OpDownload:
		return ResultDownloadFailed
	case OpDownloadInstall, OpDownloadInstallInactive, OpInstall, OpInstallInactive:
		return ResultInstallFailed
	case OpRemove:
		return ResultRemoveFailed
	case OpActivate:
		return ResultActivateFailed
	case OpDeactivate:
		return ResultDeactivateFailed
	}
	return ResultUndefined
}

// alertData is the Data of an OperationComplete item: the result code and
// the identifier of the component concerned.
type alertData struct {
	ResultCode int    `xml:"ResultCode"`
	Identifier string `xml:"Identifier,omitempty"`
}

// AlertData renders the Data of an OperationComplete item.
func AlertData(r Result, id string) string {
	var b strings.Builder
	b.WriteString("<ResultCode>")
	b.WriteString(strconv.Itoa(int(r)))
	b.WriteString("</ResultCode>")
	if id != "" {
		b.WriteString("<Identifier>")
		xml.EscapeText(&b, []byte(id))
		b.WriteString("</Identifier>")
	}
	return b.String()
}

// Outcome is what an OperationComplete alert reports.
type Outcome struct {
	Op         Op     // from the alert's Source, "" when it names no operation
	Result     Result //
	Identifier string // the component's identifier, when the Data names one
}

// ParseAlert reads the Meta Type, Source and Data of a 1226 item as the
// server stores them. ok is false when the type is not SCOMO's; an error
// means it is, but Data carries no result code. Data is the
// <ResultCode>…</ResultCode><Identifier>…</Identifier> document, or a bare
// result code as some devices send.
func ParseAlert(typ, source, data string) (o Outcome, ok bool, err error) {
	if i := strings.LastIndexByte(typ, ' '); i >= 0 && strings.HasSuffix(typ[:i], ":") {
		typ = typ[i+1:]
	}
	if typ != AlertOperationComplete {
		return Outcome{}, false, nil
	}
	if i := strings.LastIndexByte(source, '/'); i >= 0 {
		for _, ops := range Ops {
			for _, op := range ops {
				if string(op) == source[i+1:] {
					o.Op = op
				}
			}
		}
	}
	s := strings.TrimSpace(data)
	if strings.HasPrefix(s, "<") {
		var d alertData
		if err := xml.Unmarshal([]byte("<d>"+s+"</d>"), &d); err != nil {
			return o, true, fmt.Errorf("scomo: operation result %q is not a ResultCode document: %v", data, err)
		}
		o.Identifier = d.Identifier
		s = strconv.Itoa(d.ResultCode)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1000 || n > 1999 {
		return o, true, fmt.Errorf("scomo: operation result %q, want a 4-digit code", data)
	}
	o.Result = Result(n)
	return o, true, nil
}

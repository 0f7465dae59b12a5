// Package fumo is the Firmware Update Management Object
// (urn:oma:mo:oma-fumo:1.0): its DDF, the device side (a dmtree plug-in that
// runs Download, Update and DownloadAndUpdate, keeps State and reports each
// outcome with a 1226 generic alert) and the server side's reading of those
// alerts.
//
// An update package is one <x> node, placed where the device chooses (for
// example ./FwUpdate/Default):
//
//	<x>/PkgName, <x>/PkgVersion          chr, set by the server
//	<x>/Download/PkgURL                  Exec Download fetches it
//	<x>/Update/PkgData                   a package pushed with DM Replace
//	<x>/DownloadAndUpdate/PkgURL         fetch, then install at once
//	<x>/State                            int, see State
//	<x>/Ext                              vendor extensions
//
// Exec on an operation answers 202 (accepted) and the work runs after the
// session. When it ends the device queues Generic Alert 1226 with the
// operation's alert type, Format int, the Result as Data and the Exec's
// Correlator, and sends it in its next session.
package fumo

import (
	"fmt"
	"strconv"
	"strings"
)

// MOID is the management object identifier (the DDFName of <x>).
const MOID = "urn:oma:mo:oma-fumo:1.0"

// Alert types (Meta Type of the 1226 item).
const (
	AlertDownload          = "org.openmobilealliance.dm.firmwareupdate.download"
	AlertUpdate            = "org.openmobilealliance.dm.firmwareupdate.update"
	AlertDownloadAndUpdate = "org.openmobilealliance.dm.firmwareupdate.downloadandupdate"
	// AlertDeviceRequest and AlertUserRequest are a device asking for an
	// update (client-initiated), not the outcome of an Exec.
	AlertDeviceRequest = "org.openmobilealliance.dm.firmwareupdate.devicerequest"
	AlertUserRequest   = "org.openmobilealliance.dm.firmwareupdate.userrequest"
)

// Op is an operation the server runs with Exec: the name of the node it
// executes under <x>.
type Op string

// The three operations.
const (
	OpDownload          Op = "Download"
	OpUpdate            Op = "Update"
	OpDownloadAndUpdate Op = "DownloadAndUpdate"
)

// ParseOp accepts an operation name in any letter case.
func ParseOp(s string) (Op, error) {
	for _, op := range []Op{OpDownload, OpUpdate, OpDownloadAndUpdate} {
		if strings.EqualFold(s, string(op)) {
			return op, nil
		}
	}
	return "", fmt.Errorf("fumo: unknown operation %q (want Download, Update or DownloadAndUpdate)", s)
}

// AlertType is the 1226 alert type that reports op's outcome.
func (op Op) AlertType() string {
	switch op {
	case OpDownload:
		return AlertDownload
	case OpUpdate:
		return AlertUpdate
	case OpDownloadAndUpdate:
		return AlertDownloadAndUpdate
	}
	return ""
}

// State is the value of <x>/State.
type State int

// The states of the FUMO state machine.
const (
	StateIdle                  State = 10
	StateDownloadFailed        State = 20
	StateDownloading           State = 30
	StateDownloadComplete      State = 40
	StateReadyToUpdate         State = 50
	StateUpdating              State = 60
	StateUpdateFailedHaveData  State = 70
	StateUpdateFailedNoData    State = 80
	StateUpdateSucceededData   State = 90
	StateUpdateSucceededNoData State = 100
)

var stateNames = map[State]string{
	StateIdle: "idle", StateDownloadFailed: "download failed", StateDownloading: "download progressing",
	StateDownloadComplete: "download complete", StateReadyToUpdate: "ready to update",
	StateUpdating: "update progressing", StateUpdateFailedHaveData: "update failed, have data",
	StateUpdateFailedNoData: "update failed, no data", StateUpdateSucceededData: "update successful, have data",
	StateUpdateSucceededNoData: "update successful, no data",
}

func (s State) String() string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return "state " + strconv.Itoa(int(s))
}

// Result is the outcome code a 1226 alert carries as Data.
type Result int

// Result codes. 250–299 are vendor successes, 450–499 vendor client errors
// and 550–599 vendor server errors.
const (
	ResultSuccessful          Result = 200
	ResultClientError         Result = 400
	ResultUserCancelled       Result = 401
	ResultCorruptedPackage    Result = 402
	ResultPackageMismatch     Result = 403
	ResultValidationFailed    Result = 404
	ResultNotAcceptable       Result = 405
	ResultDownloadAuthFailed  Result = 406
	ResultDownloadTimeout     Result = 407
	ResultNotImplemented      Result = 408
	ResultUndefined           Result = 409
	ResultUpdateFailed        Result = 410
	ResultBadURL              Result = 411
	ResultServerUnavailable   Result = 412
	ResultServerError         Result = 500
	ResultDownloadOutOfMemory Result = 501
	ResultUpdateOutOfMemory   Result = 502
	ResultDownloadNetwork     Result = 503
)

var resultNames = map[Result]string{
	ResultSuccessful: "successful", ResultClientError: "management client error",
	ResultUserCancelled: "user cancelled", ResultCorruptedPackage: "corrupted firmware update package",
	ResultPackageMismatch: "package does not match the device", ResultValidationFailed: "package validation failed",
	ResultNotAcceptable: "package not acceptable", ResultDownloadAuthFailed: "download server refused the authentication",
	ResultDownloadTimeout: "download timed out", ResultNotImplemented: "not implemented",
	ResultUndefined: "undefined error", ResultUpdateFailed: "firmware update failed",
	ResultBadURL: "malformed or bad URL", ResultServerUnavailable: "download server unavailable",
	ResultServerError: "download server error", ResultDownloadOutOfMemory: "download failed: out of memory",
	ResultUpdateOutOfMemory: "update failed: out of memory", ResultDownloadNetwork: "download failed: network",
}

func (r Result) String() string {
	if n, ok := resultNames[r]; ok {
		return n
	}
	switch {
	case r >= 250 && r <= 299:
		return "successful (vendor " + strconv.Itoa(int(r)) + ")"
	case r >= 450 && r <= 499:
		return "client error (vendor " + strconv.Itoa(int(r)) + ")"
	case r >= 550 && r <= 599:
		return "server error (vendor " + strconv.Itoa(int(r)) + ")"
	}
	return "result " + strconv.Itoa(int(r))
}

// Successful reports a 2xx result.
func (r Result) Successful() bool { return r >= 200 && r <= 299 }

// Outcome is what a 1226 FUMO alert reports.
type Outcome struct {
	Op     Op // "" for a device or user request
	Result Result
	// Request is set for AlertDeviceRequest/AlertUserRequest: the device asks
	// for an update (Data may be empty).
	Request bool
}

// ParseAlert reads the Meta Type and Data of a 1226 item, as the server
// stores them. ok is false when the type is not a FUMO one; an error means
// it is, but the Data is not a result code.
func ParseAlert(typ, data string) (o Outcome, ok bool, err error) {
	// Some devices prefix the type ("Reversed-Domain-Name: …").
	if i := strings.LastIndexByte(typ, ' '); i >= 0 && strings.HasSuffix(typ[:i], ":") {
		typ = typ[i+1:]
	}
	switch typ {
	case AlertDeviceRequest, AlertUserRequest:
		return Outcome{Request: true}, true, nil
	case AlertDownload:
		o.Op = OpDownload
	case AlertUpdate:
		o.Op = OpUpdate
	case AlertDownloadAndUpdate:
		o.Op = OpDownloadAndUpdate
	default:
		return Outcome{}, false, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(data))
	if err != nil || n < 100 || n > 999 {
		return o, true, fmt.Errorf("fumo: %s alert with result %q, want a 3-digit code", o.Op, data)
	}
	o.Result = Result(n)
	return o, true, nil
}

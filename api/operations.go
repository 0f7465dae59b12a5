package api

import (
	"time"

	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/storage"
)

// OperationRequest is the body of POST /devices/{id}/operations: a named MO
// action on the device. The server queues one job (a Sequence of the
// parameters' Replaces and the Exec, or the Exec alone) with a correlator,
// follows its state and attaches the device's report (the 1226 generic
// alert carrying the correlator) to the operation and its job.
type OperationRequest struct {
	// MO is "fumo", "lawmo", "diagmon" or "exec" (a generic Exec of Node).
	MO string `json:"mo"`
	// Operation is the MO's operation: FUMO DownloadAndUpdate (default),
	// Download, Update; LAWMO lock, partial-lock, unlock, wipe,
	// factory-reset (or FullyLock, PartiallyLock, UnLock, Wipe,
	// FactoryReset); DiagMon the function to run: memory, storage, load,
	// battery, log (or Memory, Storage, Load, Battery, LogTail). Ignored for
	// exec.
	Operation string `json:"operation,omitempty"`
	// Params by name: FUMO pkg_url; SCOMO id, url, name, description,
	// pkg_type (FUMO and SCOMO: "package", a package of the catalogue,
	// instead of the URL); LAWMO notify_user (bool) and, for
	// wipe, wipe_items (a list of AvailableWipeList node names); exec data.
	Params map[string]any `json:"params,omitempty"`
	// Node is the MO instance (default ./FwUpdate/Default, ./LAWMO); for
	// exec the node to execute (required).
	Node       string `json:"node,omitempty"`
	Correlator string `json:"correlator,omitempty"`
	// Timeout overrides the MO's default (FUMO 24h, LAWMO 1h, exec 1h): a
	// Go duration such as "90s" or "2h".
	Timeout string `json:"timeout,omitempty"`
	Notify  bool   `json:"notify,omitempty"`
	// Retry changes the MO's retry policy's attempts and pauses.
	Retry *RetryRequest `json:"retry,omitempty"`
}

// Operation is an operation's view: its job, state and the device's report.
type Operation struct {
	ID         int64             `json:"id"`
	Device     string            `json:"device"`
	MO         string            `json:"mo"`
	Operation  string            `json:"operation"`
	Node       string            `json:"node"`
	Params     map[string]string `json:"params,omitempty"`
	Correlator string            `json:"correlator"`
	Job        int64             `json:"job"`
	// State: queued, sent, accepted, retry_wait (an attempt failed or timed
	// out; the next starts at next_attempt_at), succeeded, failed,
	// timed_out, cancelled.
	State string `json:"state"`
	// Attempts is the number of the current attempt (1 for the first),
	// MaxAttempts how many the retry policy allows in all.
	Attempts    int `json:"attempts"`
	MaxAttempts int `json:"max_attempts"`
	// NextAttemptAt is when the next attempt starts (retry_wait only).
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	// History lists the attempts (GET /operations/{id} only).
	History []OperationAttempt `json:"history,omitempty"`
	// ExecStatus is the device's status for the Exec (202: accepted, the
	// result follows in a report).
	ExecStatus int `json:"exec_status,omitempty"`
	// Result and ResultData are the report's result code and data; Event
	// is the report's event.
	Result     int    `json:"result,omitempty"`
	ResultData string `json:"result_data,omitempty"`
	// Meaning names the result code (from the MO's descriptor).
	Meaning   string     `json:"meaning,omitempty"`
	Event     int64      `json:"event,omitempty"`
	Error     string     `json:"error,omitempty"`
	Deadline  *time.Time `json:"deadline,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	DoneAt    *time.Time `json:"done_at,omitempty"`
	// Warning reports a non-fatal problem (a notification that failed).
	Warning string `json:"warning,omitempty"`
}

// Terminal reports whether the operation ended.
func (o *Operation) Terminal() bool { return storage.OpState(o.State).Terminal() }

// OperationList is one page of operations; Next is the ?after= cursor.
type OperationList struct {
	Operations []Operation `json:"operations"`
	Next       string      `json:"next,omitempty"`
}

// JobOperation is, on a job, the operation it carries: its state and the
// device's report.
type JobOperation struct {
	ID         int64  `json:"id"`
	State      string `json:"state"`
	Result     int    `json:"result,omitempty"`
	ResultData string `json:"result_data,omitempty"`
	Event      int64  `json:"event,omitempty"`
}

// OperationFrom converts a storage record to its API view.
func OperationFrom(o *storage.Operation) Operation {
	out := Operation{ID: o.ID, Device: o.DeviceID, MO: o.MO, Operation: o.Name, Node: o.Node, Params: o.Params,
		Correlator: o.Correlator, Job: o.JobID, State: string(o.State), ExecStatus: o.ExecStatus, Result: o.Result,
		ResultData: o.ResultData, Event: o.EventID, Error: o.Error, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
		Attempts: max(o.Attempt, 1), MaxAttempts: max(o.MaxAttempts, 1)}
	if o.State == storage.OpRetryWait && !o.Deadline.IsZero() {
		t := o.Deadline
		out.NextAttemptAt = &t
	}
	if o.EventID != 0 {
		if d, ok := fleet.DescriptorOf(o.MO); ok && d.Meaning != nil {
			out.Meaning = d.Meaning(o.Result)
		}
	}
	if !o.Deadline.IsZero() {
		t := o.Deadline
		out.Deadline = &t
	}
	if !o.DoneAt.IsZero() {
		t := o.DoneAt
		out.DoneAt = &t
	}
	return out
}

// JobOperationFrom is the summary of an operation shown on its job.
func JobOperationFrom(o *storage.Operation) *JobOperation {
	return &JobOperation{ID: o.ID, State: string(o.State), Result: o.Result, ResultData: o.ResultData, Event: o.EventID}
}

// FUMORequest is the body of POST /devices/{id}/fumo: a firmware update over
// FUMO, the same as an OperationRequest with mo "fumo" (see ToOperation).
type FUMORequest struct {
	Node      string `json:"node,omitempty"`      // the device's FUMO node; default ./FwUpdate/Default
	Operation string `json:"operation,omitempty"` // DownloadAndUpdate (default), Download or Update
	PkgURL    string `json:"pkg_url,omitempty"`   // required except for Update (or give package)
	// Package is a package of the server's catalogue (POST /packages): the
	// server fills pkg_url with its download descriptor for this device.
	Package    string        `json:"package,omitempty"`
	Correlator string        `json:"correlator,omitempty"`
	Timeout    string        `json:"timeout,omitempty"`
	Notify     bool          `json:"notify,omitempty"`
	Retry      *RetryRequest `json:"retry,omitempty"`
}

// ToOperation is the operation request r stands for.
func (r *FUMORequest) ToOperation() OperationRequest {
	o := OperationRequest{MO: "fumo", Operation: r.Operation, Node: r.Node, Correlator: r.Correlator, Timeout: r.Timeout, Notify: r.Notify, Retry: r.Retry}
	if r.PkgURL != "" {
		o.Params = map[string]any{"pkg_url": r.PkgURL}
	}
	if r.Package != "" {
		if o.Params == nil {
			o.Params = map[string]any{}
		}
		o.Params["package"] = r.Package
	}
	return o
}

// LAWMORequest is the body of POST /devices/{id}/lawmo: lock, unlock, wipe or
// reset a device over LAWMO, the same as an OperationRequest with mo
// "lawmo" (see ToOperation).
type LAWMORequest struct {
	Node       string        `json:"node,omitempty"`       // the device's LAWMO node; default ./LAWMO
	Operation  string        `json:"operation"`            // FullyLock, PartiallyLock, UnLock, FactoryReset, Wipe (any case)
	WipeItems  []string      `json:"wipe_items,omitempty"` // Wipe only: AvailableWipeList node names to erase
	NotifyUser *bool         `json:"notify_user,omitempty"`
	Correlator string        `json:"correlator,omitempty"`
	Timeout    string        `json:"timeout,omitempty"`
	Notify     bool          `json:"notify,omitempty"`
	Retry      *RetryRequest `json:"retry,omitempty"`
}

// ToOperation is the operation request r stands for.
func (r *LAWMORequest) ToOperation() OperationRequest {
	o := OperationRequest{MO: "lawmo", Operation: r.Operation, Node: r.Node, Correlator: r.Correlator, Timeout: r.Timeout, Notify: r.Notify, Retry: r.Retry}
	p := map[string]any{}
	if r.NotifyUser != nil {
		p["notify_user"] = *r.NotifyUser
	}
	if r.WipeItems != nil {
		p["wipe_items"] = r.WipeItems
	}
	if len(p) > 0 {
		o.Params = p
	}
	return o
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

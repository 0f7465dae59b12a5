package api

import (
	"time"

	"github.com/omadm/omadm/mo/diagmon"
	"github.com/omadm/omadm/storage"
)

// Diagnostic is one DiagMon report a device sent (a 1226 generic alert of a
// urn:oma:at:diagmon:1.0 type): the result of a function the server ran,
// or a trap turning active or inactive.
type Diagnostic struct {
	// Event is the stored event the report came in.
	Event  int64  `json:"event"`
	Device string `json:"device"`
	// Kind is "report" (OperationComplete), "trap" (TrapNotification) or
	// "trap-inactive" (TrapInactiveNotification).
	Kind     string `json:"kind"`
	Function string `json:"function,omitempty"`
	// ResultCode of a report (1200 successful, 14xx failed), Meaning its
	// name and Successful whether it is a 12xx code.
	ResultCode int    `json:"result_code,omitempty"`
	Meaning    string `json:"meaning,omitempty"`
	Successful bool   `json:"successful"`
	// Message is the device's reason for a failure.
	Message string `json:"message,omitempty"`
	// Metric and Threshold of a trap.
	Metric    string `json:"metric,omitempty"`
	Threshold string `json:"threshold,omitempty"`
	// Readings are the function's values, in the device's order.
	Readings   []Reading `json:"readings,omitempty"`
	Source     string    `json:"source,omitempty"`
	Correlator string    `json:"correlator,omitempty"`
	// Error says why the report's data could not be read (its raw text is
	// then in Data).
	Error     string    `json:"error,omitempty"`
	Data      string    `json:"data,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Reading is one named value of a diagnostics function.
type Reading struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// DiagnosticList is one page of a device's reports, oldest first; Next is
// the ?after= cursor (an event id) when more may follow.
type DiagnosticList struct {
	Diagnostics []Diagnostic `json:"diagnostics"`
	Next        string       `json:"next,omitempty"`
}

// DiagnosticFrom reads a stored event as a DiagMon report; ok is false
// when the event is not one.
func DiagnosticFrom(e *storage.Event) (Diagnostic, bool) {
	if e.Kind != "generic-alert" || !diagmon.IsAlertType(e.Type) {
		return Diagnostic{}, false
	}
	out := Diagnostic{Event: e.ID, Device: e.DeviceID, Source: e.Source, Correlator: e.Correlator, CreatedAt: e.CreatedAt}
	r, _, err := diagmon.ParseAlert(e.Type, e.Data)
	if r != nil {
		out.Kind, out.Function, out.Message, out.Metric, out.Threshold = r.Kind, r.Identifier, r.Message, r.Metric, r.Threshold
		out.ResultCode = int(r.ResultCode)
		if r.Kind == "report" && r.ResultCode != 0 {
			out.Meaning, out.Successful = r.ResultCode.String(), r.ResultCode.Successful()
		}
		for _, rd := range r.Readings {
			out.Readings = append(out.Readings, Reading{Name: rd.Name, Value: rd.Value})
		}
	}
	if err != nil {
		out.Error, out.Data, out.Successful = err.Error(), e.Data, false
	}
	return out, true
}

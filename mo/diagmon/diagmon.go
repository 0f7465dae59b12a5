// Package diagmon is the Diagnostics and Monitoring object
// (urn:oma:mo:oma-diagmon:1.0): its DDF, the device side (a dmtree plug-in
// whose diagnostics functions read the machine, report on demand and raise
// traps when a threshold policy fires) and the server side's reading of the
// 1226 alerts it sends.
//
//	<x>/Policy/Interval                  int, seconds between trap collections (0: none)
//	<x>/Functions/<f>/Name               chr, what the function reads
//	<x>/Functions/<f>/Report             chr, a reading taken when read (name=value lines)
//	<x>/Functions/<f>/Result             int, result code of the last Start
//	<x>/Functions/<f>/Operations/Start   Exec: 202, then a 1226 OperationComplete report
//	<x>/Functions/<f>/Trap/{Metric, Direction, Enabled, Threshold, Active}
//	<x>/Ext
//
// The MO identifier and the alert types are OMA's (OMNA DM alert type
// registry, DiagMon: urn:oma:at:diagmon:1.0 with OperationComplete,
// TrapNotification and TrapInactiveNotification); the layout below the root
// is this implementation's own, described by its DDF (diagmon.ddf.xml).
package diagmon

import (
	"bytes"
	_ "embed"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"github.com/omadm/omadm/mo/moframe"
)

// MOID is the management object identifier.
const MOID = "urn:oma:mo:oma-diagmon:1.0"

// Alert types (OMNA DM alert types, DiagMon: alert root urn:oma:at:diagmon:1.0).
const (
	// AlertOperationComplete carries the result of a DiagMon operation
	// (OMA-TS-DiagMon-V1_0).
	AlertOperationComplete = "urn:oma:at:diagmon:1.0:OperationComplete"
	// AlertTrapNotification says a trap became active
	// (OMA-TS-DiagMonTrapMO-V1_0).
	AlertTrapNotification = "urn:oma:at:diagmon:1.0:TrapNotification"
	// AlertTrapInactive says a trap became inactive
	// (OMA-TS-DiagMonTrapMOFrame-V1_2).
	AlertTrapInactive = "urn:oma:at:diagmon:1.0:TrapInactiveNotification"
)

// IsAlertType reports whether typ (a 1226 item's Meta Type) is one of
// DiagMon's alert types.
func IsAlertType(typ string) bool {
	switch bareType(typ) {
	case AlertOperationComplete, AlertTrapNotification, AlertTrapInactive:
		return true
	}
	return false
}

// bareType drops a "Reversed-Domain-Name: " style prefix.
func bareType(typ string) string {
	if i := strings.LastIndexByte(typ, ' '); i >= 0 && strings.HasSuffix(typ[:i], ":") {
		return typ[i+1:]
	}
	return typ
}

// Result is the result code an OperationComplete report carries. The codes
// follow the OMA enabler convention LAWMO and SCOMO share (12xx success, 14xx
// client errors).
type Result int

// Result codes.
const (
	ResultSuccessful    Result = 1200
	ResultClientError   Result = 1400
	ResultUserCancelled Result = 1401
	ResultNotSupported  Result = 1405
)

func (r Result) String() string {
	switch r {
	case ResultSuccessful:
		return "successful"
	case ResultClientError:
		return "client error: the function failed"
	case ResultUserCancelled:
		return "user cancelled"
	case ResultNotSupported:
		return "function not supported"
	}
	return "result " + strconv.Itoa(int(r))
}

// Successful reports a 12xx result.
func (r Result) Successful() bool { return r >= 1200 && r <= 1299 }

// Reading is one named value a function read ("mem_available_kb" = "1024").
type Reading struct {
	Name  string `xml:"name,attr" json:"name"`
	Value string `xml:",chardata" json:"value"`
}

// Readings is a function's output, in its own order.
type Readings []Reading

// Get returns the value named name.
func (rs Readings) Get(name string) (string, bool) {
	for _, r := range rs {
		if r.Name == name {
			return r.Value, true
		}
	}
	return "", false
}

// Text is the name=value lines of the Report node.
func (rs Readings) Text() string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(r.Name)
		b.WriteByte('=')
		b.WriteString(strings.ReplaceAll(r.Value, "\n", `\n`))
	}
	return b.String()
}

// Report is what a DiagMon 1226 item carries (Meta Format xml): the result
// of an operation, or a trap's state change with the reading that caused it.
type Report struct {
	// Kind is "report", "trap" or "trap-inactive".
	Kind       string   `xml:"-" json:"kind"`
	ResultCode Result   `xml:"ResultCode,omitempty" json:"result_code,omitempty"`
	Identifier string   `xml:"Identifier" json:"function"`
	Message    string   `xml:"Message,omitempty" json:"message,omitempty"`
	Metric     string   `xml:"Metric,omitempty" json:"metric,omitempty"`
	Threshold  string   `xml:"Threshold,omitempty" json:"threshold,omitempty"`
	Readings   Readings `xml:"Reading" json:"readings,omitempty"`
}

// Marshal writes the report as the item's Data (a sequence of elements, no
// XML declaration).
func (r *Report) Marshal() []byte {
	var b bytes.Buffer
	el := func(name, v string) {
		b.WriteString("<" + name + ">")
		_ = xml.EscapeText(&b, []byte(v))
		b.WriteString("</" + name + ">")
	}
	if r.ResultCode != 0 {
		el("ResultCode", strconv.Itoa(int(r.ResultCode)))
	}
	el("Identifier", r.Identifier)
	if r.Message != "" {
		el("Message", r.Message)
	}
	if r.Metric != "" {
		el("Metric", r.Metric)
		el("Threshold", r.Threshold)
	}
	for _, rd := range r.Readings {
		b.WriteString(`<Reading name="`)
		_ = xml.EscapeText(&b, []byte(rd.Name))
		b.WriteString(`">`)
		_ = xml.EscapeText(&b, []byte(rd.Value))
		b.WriteString("</Reading>")
	}
	return b.Bytes()
}

// ParseAlert reads the Meta Type and Data of a 1226 item as the server
// stores them. ok is false when the type is not DiagMon's; an error means it
// is, but its Data cannot be read.
func ParseAlert(typ, data string) (r *Report, ok bool, err error) {
	r = &Report{}
	switch bareType(typ) {
	case AlertOperationComplete:
		r.Kind = "report"
	case AlertTrapNotification:
		r.Kind = "trap"
	case AlertTrapInactive:
		r.Kind = "trap-inactive"
	default:
		return nil, false, nil
	}
	if len(data) > 1<<20 {
		return r, true, fmt.Errorf("diagmon: report of %d bytes is too large", len(data))
	}
	d := xml.NewDecoder(strings.NewReader("<r>" + data + "</r>"))
	d.Strict = true
	if err := d.Decode(r); err != nil {
		return r, true, fmt.Errorf("diagmon: report data is not the expected XML: %v", err)
	}
	if r.Kind == "report" && (r.ResultCode < 1000 || r.ResultCode > 1999) {
		return r, true, fmt.Errorf("diagmon: report has result code %d, want a 4-digit code", r.ResultCode)
	}
	return r, true, nil
}

//go:embed diagmon.ddf.xml
var ddfXML []byte

// Model is the DiagMon DDF (diagmon.ddf.xml): the object's node is run-time
// named, the device chooses its place.
var Model = moframe.MustModel(ddfXML)

// DDFXML returns the DDF with the object's root node named name (for
// example "DiagMon" for ./DiagMon).
func DDFXML(name string) []byte { return Model.Bind(name).Marshal() }

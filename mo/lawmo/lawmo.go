// Package lawmo is the Lock And Wipe Management Object
// (urn:oma:mo:oma-lawmo:1.0): its DDF, the device side (a dmtree plug-in
// that runs FullyLock, PartiallyLock, UnLock, FactoryReset and Wipe through
// hooks, keeps State and reports each outcome with a 1226 alert) and the
// server side's reading of those alerts.
//
//	<x>/State                                   int: 10 fully locked, 20 partially locked, 30 unlocked
//	<x>/AvailableWipeList/<n>/ListItemName      chr, what Wipe can erase
//	<x>/AvailableWipeList/<n>/ToBeWiped         bool, set by the server
//	<x>/LAWMOConfig/NotifyUser                  bool, set by the server
//	<x>/Operations/{FullyLock, PartiallyLock, UnLock, FactoryReset, Wipe}
//	<x>/Ext
//
// Exec of an operation answers 202; the hook runs after the session and its
// outcome goes out as Generic Alert 1226 of type AlertOperationComplete,
// Source the operation node, Format int, Data the Result, with the Exec's
// Correlator. An operation without a hook answers 406.
package lawmo

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/moframe"
)

// MOID is the management object identifier.
const MOID = "urn:oma:mo:oma-lawmo:1.0"

// AlertOperationComplete is the Meta Type of the 1226 item reporting an
// operation.
const AlertOperationComplete = "urn:oma:at:lawmo:1.0:OperationComplete"

// State is the value of <x>/State.
type State int

// Lock states.
const (
	StateFullyLocked     State = 10
	StatePartiallyLocked State = 20
	StateUnlocked        State = 30
)

func (s State) String() string {
	switch s {
	case StateFullyLocked:
		return "fully locked"
	case StatePartiallyLocked:
		return "partially locked"
	case StateUnlocked:
		return "unlocked"
	}
	return "state " + strconv.Itoa(int(s))
}

// Op is an operation: the name of its node under <x>/Operations.
type Op string

// The operations.
const (
	OpFullyLock     Op = "FullyLock"
	OpPartiallyLock Op = "PartiallyLock"
	OpUnLock        Op = "UnLock"
	OpFactoryReset  Op = "FactoryReset"
	OpWipe          Op = "Wipe"
)

// Ops lists the operations in DDF order.
var Ops = []Op{OpFullyLock, OpPartiallyLock, OpUnLock, OpFactoryReset, OpWipe}

// ParseOp accepts an operation name in any letter case ("unlock" too).
func ParseOp(s string) (Op, error) {
	for _, op := range Ops {
		if strings.EqualFold(s, string(op)) {
			return op, nil
		}
	}
	return "", fmt.Errorf("lawmo: unknown operation %q (want FullyLock, PartiallyLock, UnLock, FactoryReset or Wipe)", s)
}

// Result is the outcome code a 1226 alert carries as Data.
type Result int

// Result codes.
const (
	ResultSuccessful          Result = 1200
	ResultWipeSuccessful      Result = 1201
	ResultWipeListSuccessful  Result = 1202
	ResultClientError         Result = 1400
	ResultUserCancelled       Result = 1401
	ResultFullyLockFailed     Result = 1402
	ResultPartiallyLockFailed Result = 1403
	ResultUnlockFailed        Result = 1404
	ResultWipeFailed          Result = 1405
	ResultWipeNotPerformed    Result = 1406
)

var resultNames = map[Result]string{
	ResultSuccessful: "operation successful", ResultWipeSuccessful: "wipe data successful",
	ResultWipeListSuccessful: "wipe data and list items successful", ResultClientError: "client error",
	ResultUserCancelled: "user cancelled", ResultFullyLockFailed: "fully lock failed",
	ResultPartiallyLockFailed: "partially lock failed", ResultUnlockFailed: "unlock failed",
	ResultWipeFailed: "wipe data failed", ResultWipeNotPerformed: "wipe not performed",
}

func (r Result) String() string {
	if n, ok := resultNames[r]; ok {
		return n
	}
	return "result " + strconv.Itoa(int(r))
}

// Successful reports a 12xx result.
func (r Result) Successful() bool { return r >= 1200 && r <= 1299 }

// failure is the result an operation's failed hook reports.
func (op Op) failure() Result {
	switch op {
	case OpFullyLock:
		return ResultFullyLockFailed
	case OpPartiallyLock:
		return ResultPartiallyLockFailed
	case OpUnLock:
		return ResultUnlockFailed
	case OpWipe:
		return ResultWipeFailed
	}
	return ResultClientError
}

// Outcome is what a LAWMO 1226 alert reports.
type Outcome struct {
	Op     Op // from the alert's Source, "" when it names no operation
	Result Result
}

// ParseAlert reads the Meta Type, Source and Data of a 1226 item as the
// server stores them. ok is false when the type is not LAWMO's; an error
// means it is, but Data is not a result code.
func ParseAlert(typ, source, data string) (o Outcome, ok bool, err error) {
	if i := strings.LastIndexByte(typ, ' '); i >= 0 && strings.HasSuffix(typ[:i], ":") {
		typ = typ[i+1:]
	}
	if typ != AlertOperationComplete {
		return Outcome{}, false, nil
	}
	if i := strings.LastIndexByte(source, '/'); i >= 0 {
		if op, err := ParseOp(source[i+1:]); err == nil {
			o.Op = op
		}
	}
	n, err := strconv.Atoi(strings.TrimSpace(data))
	if err != nil || n < 1000 || n > 1999 {
		return o, true, fmt.Errorf("lawmo: operation result %q, want a 4-digit code", data)
	}
	o.Result = Result(n)
	return o, true, nil
}

//go:embed lawmo.ddf.xml
var ddfXML []byte

// Model is the LAWMO DDF (lawmo.ddf.xml): the object's node is run-time
// named, so the device names it where it places it.
var Model = moframe.MustModel(ddfXML)

// DDFXML returns the DDF with the object's node named name (for example
// "LAWMO" for ./LAWMO).
func DDFXML(name string) []byte { return Model.Bind(name).Marshal() }

// DDF returns the DDF with the object's node named name.
func DDF(name string) (*dmtree.DDF, error) { return Model.Bind(name), nil }

package diagmon

import (
	"time"

	"github.com/omadm/omadm/mo"
)

// DefaultNode is the DiagMon instance a server addresses when told none.
const DefaultNode = "./DiagMon"

// FunctionNames are the functions this implementation's agent offers (a
// device lists the ones it has under <x>/Functions).
var FunctionNames = []string{"Memory", "Storage", "Load", "Battery", "LogTail"}

func start(name string, aliases ...string) mo.Operation {
	return mo.Operation{Name: name, Aliases: aliases, Exec: "Functions/" + name + "/Operations/Start"}
}

// Descriptor declares DiagMon's server operations: running one diagnostics
// function (Exec of <x>/Functions/<f>/Operations/Start); the device answers
// 202 and reports in a 1226 alert of type OperationComplete carrying the
// Exec's correlator, 12xx meaning success.
var Descriptor = &mo.Descriptor{
	Name:        "diagmon",
	MOID:        MOID,
	DefaultNode: DefaultNode,
	Timeout:     10 * time.Minute,
	Success:     [][2]int{{1200, 1299}},
	// Retried once on timeout: a diagnostics run is harmless to repeat.
	Retry: mo.RetryPolicy{MaxAttempts: 2, Backoff: time.Minute, MaxBackoff: 10 * time.Minute, OnTimeout: true},
	Operations: []mo.Operation{
		start("Memory", "memory", "mem"),
		start("Storage", "storage", "disk"),
		start("Load", "load", "processes"),
		start("Battery", "battery"),
		start("LogTail", "logtail", "log"),
	},
	Meaning: func(code int) string { return Result(code).String() },
	Report: func(typ, _, data string) (int, string, bool, error) {
		r, ok, err := ParseAlert(typ, data)
		if !ok || r.Kind != "report" {
			return 0, "", false, nil
		}
		meaning := r.ResultCode.String()
		if r.Message != "" {
			meaning += ": " + r.Message
		}
		return int(r.ResultCode), meaning, true, err
	},
}

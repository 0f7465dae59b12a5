package fumo

import (
	"time"

	"github.com/omadm/omadm/mo"
)

// DefaultNode is the FUMO instance a server addresses when told none.
const DefaultNode = "./FwUpdate/Default"

// Descriptor declares FUMO's server operations (OMA-TS-DM-FUMO-V1_0:
// Exec of Download, Update or DownloadAndUpdate, after a Replace of the
// operation's PkgURL; the device answers 202 and reports the result later in
// a 1226 alert whose Data is the result code, 2xx meaning success).
var Descriptor = &mo.Descriptor{
	Name:             "fumo",
	MOID:             MOID,
	DefaultNode:      DefaultNode,
	DefaultOperation: string(OpDownloadAndUpdate),
	Timeout:          24 * time.Hour,
	Success:          [][2]int{{200, 299}},
	// Retried: an attempt that timed out, and the result codes of a
	// download that failed for a reason outside the device and the package
	// (OMA-TS-DM-FUMO-V1_0 §10.2 result codes: 407 alternate download request
	// time-out, 412 alternate download server unavailable, 500 alternate
	// download server error, 503 download failed because of the network,
	// 550–599 vendor server errors), and an Exec the device answered 503
	// (service unavailable, OMA-TS-DM_RepPro-V1_2 status codes). A refused
	// or bad package (402–406, 411), a failed update (410) or the user's
	// refusal (401) ends the operation at once: the same package would fail
	// the same way. The device itself never retries (OMA-TS-DM-FUMO-V1_0:
	// no automatic retry), so the server does.
	Retry: mo.RetryPolicy{MaxAttempts: 3, Backoff: 5 * time.Minute, MaxBackoff: time.Hour, OnTimeout: true,
		OnResult:     [][2]int{{int(ResultDownloadTimeout), int(ResultDownloadTimeout)}, {int(ResultServerUnavailable), int(ResultServerUnavailable)}, {int(ResultServerError), int(ResultServerError)}, {int(ResultDownloadNetwork), int(ResultDownloadNetwork)}, {550, 599}},
		OnExecStatus: [][2]int{{503, 503}}},
	Operations: []mo.Operation{
		{Name: string(OpDownloadAndUpdate), Aliases: []string{"download-and-update"},
			Params: []mo.Param{{Name: "pkg_url", Node: string(OpDownloadAndUpdate) + "/PkgURL", Format: "chr", Required: true, PackageURL: true}}},
		{Name: string(OpDownload), Aliases: []string{"download"},
			Params: []mo.Param{{Name: "pkg_url", Node: string(OpDownload) + "/PkgURL", Format: "chr", Required: true, PackageURL: true}}},
		{Name: string(OpUpdate), Aliases: []string{"update"}},
	},
	Meaning: func(code int) string { return Result(code).String() },
	Report: func(typ, _, data string) (int, string, bool, error) {
		o, ok, err := ParseAlert(typ, data)
		if !ok || o.Request {
			return 0, "", false, nil
		}
		return int(o.Result), o.Result.String(), true, err
	},
}

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

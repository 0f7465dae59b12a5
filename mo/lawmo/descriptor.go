package lawmo

import (
	"time"

	"github.com/omadm/omadm/mo"
)

// DefaultNode is the LAWMO instance a server addresses when told none.
const DefaultNode = "./LAWMO"

// lawmoParams are the parameters every LAWMO operation takes.
var notifyUser = mo.Param{Name: "notify_user", Node: "LAWMOConfig/NotifyUser", Format: "bool"}

// Descriptor declares LAWMO's server operations (OMA-TS-LAWMO-V1_0:
// Exec of <x>/Operations/<op>, the Wipe after the ToBeWiped flags of the
// AvailableWipeList items to erase; the device reports the result in a 1226
// alert of type OperationComplete, 12xx meaning success).
var Descriptor = &mo.Descriptor{
	Name:        "lawmo",
	MOID:        MOID,
	DefaultNode: DefaultNode,
	Timeout:     time.Hour,
	Success:     [][2]int{{1200, 1299}},
	// Retried on timeout only: a lock or wipe the device never took (or
	// never reported) is sent again, but one the device reported failed
	// (14xx) or refused is not repeated blindly; the operator decides.
	Retry: mo.RetryPolicy{MaxAttempts: 3, Backoff: 5 * time.Minute, MaxBackoff: 30 * time.Minute, OnTimeout: true},
	Operations: []mo.Operation{
		{Name: string(OpFullyLock), Aliases: []string{"lock"}, Exec: "Operations/" + string(OpFullyLock), Params: []mo.Param{notifyUser}},
		{Name: string(OpPartiallyLock), Aliases: []string{"partial-lock"}, Exec: "Operations/" + string(OpPartiallyLock), Params: []mo.Param{notifyUser}},
		{Name: string(OpUnLock), Aliases: []string{"unlock"}, Exec: "Operations/" + string(OpUnLock), Params: []mo.Param{notifyUser}},
		{Name: string(OpFactoryReset), Aliases: []string{"factory-reset"}, Exec: "Operations/" + string(OpFactoryReset), Params: []mo.Param{notifyUser}},
		{Name: string(OpWipe), Aliases: []string{"wipe"}, Exec: "Operations/" + string(OpWipe), Params: []mo.Param{notifyUser,
			{Name: "wipe_items", Node: "AvailableWipeList/{}/ToBeWiped", Format: "bool", List: true, Value: "true"}}},
	},
	Meaning: func(code int) string { return Result(code).String() },
	Report: func(typ, source, data string) (int, string, bool, error) {
		o, ok, err := ParseAlert(typ, source, data)
		if !ok {
			return 0, "", false, nil
		}
		return int(o.Result), o.Result.String(), true, err
	},
}

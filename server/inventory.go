package server

import "github.com/omadm/omadm/storage"

// searchableDetail are the DevDetail nodes whose last value a device
// reported (in the Results of a Get) is kept with the device record, beside
// its DevInfo, so the fleet search can select by firmware, software or
// hardware version (OMA-TS-DM_StdObj-V1_2 §5.3, DevDetail: DevTyp, OEM,
// FwV, SwV, HwV). Package 1 carries DevInfo only.
var searchableDetail = map[string]bool{
	"./DevDetail/FwV": true, "./DevDetail/SwV": true, "./DevDetail/HwV": true,
	"./DevDetail/OEM": true, "./DevDetail/DevTyp": true,
}

// recordDetail keeps a reported searchable DevDetail value in the device
// record (within MaxDeviceValueLen), marking the device for saving when it
// changed.
func (x *exchange) recordDetail(ri *storage.ResultItem) {
	if !searchableDetail[ri.URI] || len(ri.Data) > MaxDeviceValueLen || x.dev.DevInfo[ri.URI] == ri.Data {
		return
	}
	if x.dev.DevInfo == nil {
		x.dev.DevInfo = map[string]string{}
	}
	x.dev.DevInfo[ri.URI] = ri.Data
	x.devDirty, x.infoDirty = true, true
}

package server

import (
	"context"
	"path"
	"strings"

	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// isFUMORequest reports whether a Generic Alert item type is a
// client-initiated firmware update request.
func isFUMORequest(typ string) bool {
	return typ == fumo.AlertDeviceRequest || typ == fumo.AlertUserRequest
}

// fumoRequestStatus answers a client-initiated firmware update request
// (Generic Alert 1226 of type …firmwareupdate.devicerequest or
// …userrequest; Source is the FUMO node it is about, absent for all
// firmware). OMA-TS-DM-FUMO-V1_0 "Client Initiated Firmware Update": the
// server answers 200 when it will update the device in this session and 202
// when it accepts the request for later (or has no update). This session
// updates the device when a firmware operation (Exec of Download, Update or
// DownloadAndUpdate under that node) is queued for it. A failed read answers
// 202: the request is still recorded as an event, for later.
func (x *exchange) fumoRequestStatus(ctx context.Context, source, data string) syncml.StatusCode {
	if code := x.fumoQueued(ctx, source); code == syncml.StatusOK || x.e.o.FirmwareRequest == nil {
		return code
	}
	if err := x.e.o.FirmwareRequest(ctx, x.dev, source, data); err != nil {
		x.log().Warn("answering a firmware update request", "err", err)
		return syncml.StatusAccepted
	}
	if x.rd != nil {
		x.rd.Pending = false // the queue read before the message misses what was just queued
	}
	return x.fumoQueued(ctx, source)
}

// fumoQueued is 200 when a firmware operation under source is queued for
// the device, else 202.
func (x *exchange) fumoQueued(ctx context.Context, source string) syncml.StatusCode {
	jobs, err := x.e.store.ListJobs(ctx, storage.JobFilter{DeviceID: x.dev.ID, States: []storage.JobState{storage.JobQueued}, Limit: 1000})
	if err != nil {
		x.log().Warn("reading queued jobs for a firmware update request", "err", err)
		return syncml.StatusAccepted
	}
	for _, j := range jobs {
		if updatesFirmware(&j.Spec, source) {
			return syncml.StatusOK
		}
	}
	return syncml.StatusAccepted
}

// updatesFirmware reports whether spec (or a member of it) executes a FUMO
// operation under the node source ("" = any FUMO node).
func updatesFirmware(spec *storage.JobSpec, source string) bool {
	for i := range spec.Children {
		if updatesFirmware(&spec.Children[i], source) {
			return true
		}
	}
	if spec.Command != "Exec" {
		return false
	}
	root := strings.TrimPrefix(strings.TrimSuffix(source, "/"), "./")
	for _, it := range spec.Items {
		uri := strings.TrimPrefix(strings.TrimSuffix(it.URI, "/"), "./")
		switch fumo.Op(path.Base(uri)) {
		case fumo.OpDownload, fumo.OpUpdate, fumo.OpDownloadAndUpdate:
		default:
			continue
		}
		if root == "" || uri[:max(strings.LastIndexByte(uri, '/'), 0)] == root {
			return true
		}
	}
	return false
}

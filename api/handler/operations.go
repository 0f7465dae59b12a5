package handler

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/storage"
)

// createOperation is POST /devices/{id}/operations.
func (h *Handler) createOperation(w http.ResponseWriter, r *http.Request) {
	var req api.OperationRequest
	if err := h.decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	op, j, ok := h.startOperation(w, r, req)
	if !ok {
		return
	}
	out := api.OperationFrom(op)
	out.Warning = j.Warning
	w.Header().Set("Location", api.Prefix+"/operations/"+strconv.FormatInt(op.ID, 10))
	writeJSON(w, http.StatusCreated, out)
}

// createFUMO is POST /devices/{id}/fumo: a FUMO operation, answered with
// its job (a Sequence of the PkgURL Replace and the Exec).
func (h *Handler) createFUMO(w http.ResponseWriter, r *http.Request) {
	var req api.FUMORequest
	if err := h.decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	h.operationJob(w, r, req.ToOperation())
}

// createLAWMO is POST /devices/{id}/lawmo: a LAWMO operation, answered with
// its job (a Sequence of the parameter Replaces and the Exec).
func (h *Handler) createLAWMO(w http.ResponseWriter, r *http.Request) {
	var req api.LAWMORequest
	if err := h.decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	h.operationJob(w, r, req.ToOperation())
}

// operationJob creates an operation and answers 201 with its job.
func (h *Handler) operationJob(w http.ResponseWriter, r *http.Request, req api.OperationRequest) {
	_, j, ok := h.startOperation(w, r, req)
	if !ok {
		return
	}
	w.Header().Set("Location", api.Prefix+"/jobs/"+strconv.FormatInt(j.ID, 10))
	writeJSON(w, http.StatusCreated, j)
}

// startOperation creates the operation req asks for on the request's
// device, publishes its job and sends package 0 when asked to.
func (h *Handler) startOperation(w http.ResponseWriter, r *http.Request, req api.OperationRequest) (*storage.Operation, *api.Job, bool) {
	d, ok := h.device(w, r)
	if !ok {
		return nil, nil, false
	}
	fr := fleet.Request{DeviceID: d.ID, MO: req.MO, Operation: req.Operation, Node: req.Node, Params: req.Params, Correlator: req.Correlator}
	if req.Timeout != "" {
		t, err := time.ParseDuration(req.Timeout)
		if err != nil || t <= 0 {
			h.fail(w, r, &api.ValidationError{Field: "timeout", Msg: fmt.Sprintf("%q: want a positive duration such as 90s or 24h", req.Timeout)})
			return nil, nil, false
		}
		fr.Timeout = t
	}
	retry, err := req.Retry.ToFleet("retry")
	if err != nil {
		h.fail(w, r, err)
		return nil, nil, false
	}
	fr.Retry = retry
	if req.Notify && d.NotifyAddr == "" {
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("device %q has no notify_addr: set one with PATCH /devices/{id} or queue the operation without notify", d.ID))
		return nil, nil, false
	}
	op, sj, err := h.o.Operations.Create(r.Context(), &fr)
	if err != nil {
		h.failOp(w, r, err)
		return nil, nil, false
	}
	j := api.JobFrom(sj)
	j.Operation = api.JobOperationFrom(op)
	h.o.Hub.Publish(api.Update{Kind: api.UpdateJob, Device: d.ID, Job: &j})
	h.o.Logger.Info("operation queued", "device", d.ID, "operation", op.ID, "mo", op.MO, "name", op.Name, "job", sj.ID, "correlator", op.Correlator)
	if req.Notify {
		if err := h.sendNotify(r.Context(), d.ID); err != nil {
			j.Warning = "operation queued, but the notification failed: " + err.Error()
		}
	}
	return op, &j, true
}

// failOp answers an operations error: a request field is a 400 naming it.
func (h *Handler) failOp(w http.ResponseWriter, r *http.Request, err error) {
	var fe *fleet.FieldError
	if errors.As(err, &fe) {
		h.fail(w, r, &api.ValidationError{Field: fe.Field, Msg: fe.Msg})
		return
	}
	h.fail(w, r, err)
}

// getOperation is GET /operations/{opid}.
func (h *Handler) getOperation(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "opid", "opid", "an operation id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	op, err := h.o.Operations.Refresh(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown operation %d", id))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	as, err := h.o.Store.OperationAttempts(r.Context(), op.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.WithHistory(api.OperationFrom(op), op, as))
}

// cancelOperation is POST /operations/{opid}/cancel.
func (h *Handler) cancelOperation(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "opid", "opid", "an operation id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	op, err := h.o.Operations.Cancel(r.Context(), id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown operation %d", id))
		return
	case errors.Is(err, fleet.ErrFinished):
		writeError(w, http.StatusConflict, fmt.Sprintf("operation %d is already %s", id, op.State))
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	h.o.Logger.Info("operation cancelled", "device", op.DeviceID, "operation", op.ID)
	writeJSON(w, http.StatusOK, api.OperationFrom(op))
}

// listOperations is GET /devices/{id}/operations (?state=, ?after=, ?limit=).
func (h *Handler) listOperations(w http.ResponseWriter, r *http.Request) {
	d, ok := h.device(w, r)
	if !ok {
		return
	}
	limit, err := limitParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	after, err := int64Param(r, "after")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f := storage.OperationFilter{DeviceID: d.ID, AfterID: after, Limit: limit + 1}
	if s := r.URL.Query().Get("state"); s != "" {
		for st := range strings.SplitSeq(s, ",") {
			os := storage.OpState(strings.TrimSpace(st))
			if !os.Valid() {
				h.fail(w, r, &api.ValidationError{Field: "state", Msg: fmt.Sprintf("unknown state %q (want queued, sent, accepted, succeeded, failed, timed_out or cancelled)", st)})
				return
			}
			f.States = append(f.States, os)
		}
	}
	ops, err := h.o.Operations.List(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := api.OperationList{Operations: make([]api.Operation, 0, min(len(ops), limit))}
	for i, op := range ops {
		if i == limit {
			out.Next = strconv.FormatInt(ops[limit-1].ID, 10)
			break
		}
		out.Operations = append(out.Operations, api.OperationFrom(op))
	}
	writeJSON(w, http.StatusOK, out)
}

// publishOperation is the Manager's OnChange of a handler that made its
// own Manager: the change goes to the event streams.
func (h *Handler) publishOperation(op *storage.Operation) {
	v := api.OperationFrom(op)
	h.o.Hub.Publish(api.Update{Kind: api.UpdateOperation, Device: op.DeviceID, Operation: &v})
}

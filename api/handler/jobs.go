package handler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/storage"
)

// notifyTimeout bounds how long an API request waits for package 0 to leave.
const notifyTimeout = 10 * time.Second

func (h *Handler) createJob(w http.ResponseWriter, r *http.Request) {
	var req api.JobRequest
	if err := h.decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	spec, err := api.ValidateJobRequest(&req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.queueJob(w, r, spec, req.Notify)
}

// queueJob stores spec as a job of the request's device, sends package 0
// when notify asks for it and answers 201 with the job.
func (h *Handler) queueJob(w http.ResponseWriter, r *http.Request, spec storage.JobSpec, notify bool) {
	d, ok := h.device(w, r)
	if !ok {
		return
	}
	if notify && d.NotifyAddr == "" {
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("device %q has no notify_addr: set one with PATCH /devices/{id} or queue the job without notify", d.ID))
		return
	}
	j := &storage.Job{DeviceID: d.ID, Spec: spec, State: storage.JobQueued}
	if err := h.o.Store.CreateJob(r.Context(), j); err != nil {
		h.fail(w, r, err)
		return
	}
	out := api.JobFrom(j)
	h.o.Hub.Publish(api.Update{Kind: api.UpdateJob, Device: d.ID, Job: &out})
	h.o.Logger.Info("job queued", "device", d.ID, "job", j.ID, "command", spec.Command, "uri", out.URI)
	if notify {
		if err := h.sendNotify(r.Context(), d.ID); err != nil {
			out.Warning = "job queued, but the notification failed: " + err.Error()
		}
	}
	w.Header().Set("Location", api.Prefix+"/jobs/"+strconv.FormatInt(j.ID, 10))
	writeJSON(w, http.StatusCreated, out)
}

func (h *Handler) sendNotify(ctx context.Context, deviceID string) error {
	if h.o.Notifier == nil {
		return errors.New("this server has no notification sender configured")
	}
	ctx, cancel := context.WithTimeout(ctx, notifyTimeout)
	defer cancel()
	if err := h.o.Notifier.Notify(ctx, deviceID); err != nil {
		h.o.Logger.Warn("notification failed", "device", deviceID, "err", err)
		return err
	}
	h.o.Logger.Info("notification sent", "device", deviceID)
	return nil
}

func (h *Handler) listJobs(w http.ResponseWriter, r *http.Request) {
	d, ok := h.device(w, r)
	if !ok {
		return
	}
	h.jobPage(w, r, d.ID)
}

// allJobs is GET /jobs: the jobs of every device (an operator's "what
// failed anywhere"), with the same filters and paging as a device's list.
func (h *Handler) allJobs(w http.ResponseWriter, r *http.Request) {
	h.jobPage(w, r, "")
}

// jobPage answers one page of jobs of deviceID ("" = every device).
func (h *Handler) jobPage(w http.ResponseWriter, r *http.Request, deviceID string) {
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
	f := storage.JobFilter{DeviceID: deviceID, AfterID: after, Limit: limit + 1}
	if s := r.URL.Query().Get("state"); s != "" {
		for st := range strings.SplitSeq(s, ",") {
			switch js := storage.JobState(strings.TrimSpace(st)); js {
			case storage.JobQueued, storage.JobSent, storage.JobDone, storage.JobFailed, storage.JobCancelled:
				f.States = append(f.States, js)
			default:
				h.fail(w, r, &api.ValidationError{Field: "state", Msg: fmt.Sprintf("unknown state %q (want queued, sent, done, failed or cancelled)", st)})
				return
			}
		}
	}
	js, err := h.o.Store.ListJobs(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := api.JobList{Jobs: make([]api.Job, 0, min(len(js), limit))}
	for i, j := range js {
		if i == limit {
			out.Next = strconv.FormatInt(js[limit-1].ID, 10)
			break
		}
		out.Jobs = append(out.Jobs, api.JobFrom(j))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getJob(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "jobid", "jobid", "a job id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	j, err := h.o.Store.GetJob(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown job %d", id))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := api.JobFrom(j)
	if op, err := h.o.Operations.OperationByJob(r.Context(), j.ID); err == nil {
		out.Operation = api.JobOperationFrom(op)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) cancelJob(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "jobid", "jobid", "a job id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	j, err := h.o.Store.CancelJob(r.Context(), id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown job %d", id))
		return
	case errors.Is(err, storage.ErrConflict):
		msg := fmt.Sprintf("job %d is already finished", id)
		if cur, gerr := h.o.Store.GetJob(r.Context(), id); gerr == nil {
			msg = fmt.Sprintf("job %d is already %s", id, cur.State)
		}
		writeError(w, http.StatusConflict, msg)
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	out := api.JobFrom(j)
	h.o.Hub.Publish(api.Update{Kind: api.UpdateJob, Device: j.DeviceID, Job: &out})
	h.o.Logger.Info("job cancelled", "device", j.DeviceID, "job", j.ID)
	if err := h.o.Operations.JobChanged(r.Context(), j.ID); err != nil {
		h.o.Logger.Warn("cancelling a job's operation", "job", j.ID, "err", err)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) notify(w http.ResponseWriter, r *http.Request) {
	d, ok := h.device(w, r)
	if !ok {
		return
	}
	if d.NotifyAddr == "" {
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("device %q has no notify_addr: set one with PATCH /devices/{id} (%s)", d.ID, notification.AddrForms()))
		return
	}
	if h.o.Notifier == nil {
		writeError(w, http.StatusServiceUnavailable, "this server has no notification sender configured")
		return
	}
	if err := h.sendNotify(r.Context(), d.ID); err != nil {
		writeError(w, http.StatusBadGateway, fmt.Sprintf("notification to %s failed: %v", d.NotifyAddr, err))
		return
	}
	writeJSON(w, http.StatusOK, api.NotifyResult{Device: d.ID, Addr: d.NotifyAddr, Sent: true})
}

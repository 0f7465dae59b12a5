package handler

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/storage"
)

// diagScanLimit bounds the events one diagnostics request reads; past it the
// page ends early with a cursor to continue from.
const diagScanLimit = 20000

// listDiagnostics is GET /devices/{id}/diagnostics: the device's DiagMon
// reports and traps (oldest first), optionally of one function
// (?function=Memory) or kind (?kind=report|trap|trap-inactive).
func (h *Handler) listDiagnostics(w http.ResponseWriter, r *http.Request) {
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
	q := r.URL.Query()
	function, kind := q.Get("function"), q.Get("kind")
	switch kind {
	case "", "report", "trap", "trap-inactive":
	default:
		h.fail(w, r, &api.ValidationError{Field: "kind", Msg: strconv.Quote(kind) + ": want report, trap or trap-inactive"})
		return
	}
	out := api.DiagnosticList{Diagnostics: []api.Diagnostic{}}
	scanned := 0
	for {
		es, err := h.o.Store.ListEvents(r.Context(), d.ID, after, 500)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, e := range es {
			after = e.ID
			scanned++
			dg, ok := api.DiagnosticFrom(e)
			if !ok || kind != "" && dg.Kind != kind || function != "" && !strings.EqualFold(dg.Function, function) {
				continue
			}
			out.Diagnostics = append(out.Diagnostics, dg)
			if len(out.Diagnostics) == limit {
				out.Next = strconv.FormatInt(e.ID, 10)
				writeJSON(w, http.StatusOK, out)
				return
			}
		}
		if len(es) < 500 {
			break
		}
		if scanned >= diagScanLimit {
			out.Next = strconv.FormatInt(after, 10)
			break
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// getDiagnostic is GET /devices/{id}/diagnostics/{event}: one report.
func (h *Handler) getDiagnostic(w http.ResponseWriter, r *http.Request) {
	d, ok := h.device(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("event"), 10, 64)
	if err != nil || id <= 0 {
		h.fail(w, r, &api.ValidationError{Field: "event", Msg: strconv.Quote(r.PathValue("event")) + ": want a positive event id"})
		return
	}
	es, err := h.o.Store.ListEvents(r.Context(), d.ID, id-1, 1)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(es) == 1 && es[0].ID == id {
		if dg, ok := api.DiagnosticFrom(es[0]); ok {
			writeJSON(w, http.StatusOK, dg)
			return
		}
	}
	h.fail(w, r, storageNotFound("device %s has no diagnostics report in event %d", d.ID, id))
}

func storageNotFound(format string, args ...any) error {
	return &notFound{msg: fmt.Sprintf(format, args...)}
}

type notFound struct{ msg string }

func (e *notFound) Error() string { return e.msg }
func (e *notFound) Unwrap() error { return storage.ErrNotFound }

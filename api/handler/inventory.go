package handler

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/storage"
)

// inventoryRoutes are the fleet inventory endpoints: device search, labels,
// groups and bulk import.
func (h *Handler) inventoryRoutes() []Route {
	p := api.Prefix
	return []Route{
		{Method: "GET", Pattern: p + "/devices", h: h.queryDevices},
		{Method: "PATCH", Pattern: p + "/devices/{id}/labels", h: h.patchLabels},
		{Method: "POST", Pattern: p + "/devices/labels", h: h.bulkLabels},
		{Method: "POST", Pattern: p + "/devices/import", h: h.importDevices},
		{Method: "POST", Pattern: p + "/groups", h: h.createGroup},
		{Method: "GET", Pattern: p + "/groups", h: h.listGroups},
		{Method: "GET", Pattern: p + "/groups/{name}", h: h.getGroup},
		{Method: "DELETE", Pattern: p + "/groups/{name}", h: h.deleteGroup},
		{Method: "PATCH", Pattern: p + "/groups/{name}/members", h: h.changeMembers},
		{Method: "GET", Pattern: p + "/groups/{name}/members", h: h.groupMembers},
	}
}

// selectorParams are the query parameters of GET /devices that are
// shortcuts for one selector term each (the value quoted into the term).
var selectorParams = map[string]string{
	"model":     "model=",
	"man":       "man=",
	"fwv":       "fwv=",
	"group":     "group=",
	"id_prefix": "id^=",
}

// deviceQuery reads the filter, order and paging parameters shared by the
// device list and a group's members: q (a selector), the shortcuts of
// selectorParams, label (repeatable: k=v or k), sort, order, cursor and
// limit. Errors are validation errors naming the parameter.
func deviceQuery(r *http.Request) (storage.DeviceQuery, error) {
	v := r.URL.Query()
	var terms []string
	if s := v.Get("q"); s != "" {
		terms = append(terms, s)
	}
	names := make([]string, 0, len(selectorParams))
	for k := range selectorParams {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if s := v.Get(k); s != "" {
			terms = append(terms, selectorParams[k]+strconv.Quote(s))
		}
	}
	for _, l := range v["label"] {
		k, val, ok := strings.Cut(l, "=")
		if !ok {
			terms = append(terms, "label."+k)
			continue
		}
		terms = append(terms, "label."+k+"="+strconv.Quote(val))
	}
	q, err := fleet.ParseSelector(strings.Join(terms, ","))
	if err != nil {
		return q, &api.ValidationError{Field: "q", Msg: err.Error()}
	}
	q.Sort = v.Get("sort")
	switch q.Sort {
	case "", storage.SortID, storage.SortLastSeen, storage.SortCreated:
	default:
		return q, &api.ValidationError{Field: "sort", Msg: fmt.Sprintf("%q: want id, last_seen or created", q.Sort)}
	}
	switch o := v.Get("order"); o {
	case "", "asc":
	case "desc":
		q.Desc = true
	default:
		return q, &api.ValidationError{Field: "order", Msg: fmt.Sprintf("%q: want asc or desc", o)}
	}
	q.Cursor = v.Get("cursor")
	if q.Limit, err = limitParam(r); err != nil {
		return q, err
	}
	return q, nil
}

// page runs q (after resolving its group) and answers one DeviceList.
func (h *Handler) page(w http.ResponseWriter, r *http.Request, q storage.DeviceQuery) {
	q, err := fleet.Resolve(r.Context(), h.o.Store, q)
	if err != nil {
		h.failQuery(w, r, err)
		return
	}
	ds, next, err := h.o.Store.QueryDevices(r.Context(), q)
	if err != nil {
		h.failQuery(w, r, err)
		return
	}
	out := api.DeviceList{Devices: make([]api.Device, 0, len(ds)), NextCursor: next}
	for _, d := range ds {
		out.Devices = append(out.Devices, api.DeviceFrom(d))
	}
	if next != "" && (q.Sort == "" || q.Sort == storage.SortID) && !q.Desc {
		out.Next = ds[len(ds)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}

// failQuery answers the errors of a device search: a bad cursor or a
// selector that cannot be resolved (unknown group, contradicting terms)
// are the client's (400), the rest goes through fail.
func (h *Handler) failQuery(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, storage.ErrBadCursor):
		h.fail(w, r, &api.ValidationError{Field: "cursor", Msg: err.Error()})
	case errors.Is(err, fleet.ErrUnknownGroup):
		h.fail(w, r, &api.ValidationError{Field: "group", Msg: err.Error()})
	default:
		var se *fleet.SelectorError
		if errors.As(err, &se) {
			h.fail(w, r, &api.ValidationError{Field: "q", Msg: err.Error()})
			return
		}
		h.fail(w, r, err)
	}
}

func (h *Handler) queryDevices(w http.ResponseWriter, r *http.Request) {
	q, err := deviceQuery(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// ?after=ID, the older cursor of the list by ID, is the cursor of the
	// same query positioned after that ID.
	if after := r.URL.Query().Get("after"); after != "" {
		if q.Cursor != "" || (q.Sort != "" && q.Sort != storage.SortID) || q.Desc {
			h.fail(w, r, &api.ValidationError{Field: "after", Msg: "after pages the list by ID in ascending order; with sort, order or cursor use cursor"})
			return
		}
		rq, err := fleet.Resolve(r.Context(), h.o.Store, q)
		if err != nil {
			h.failQuery(w, r, err)
			return
		}
		if _, err := rq.Prepare(); err != nil {
			h.failQuery(w, r, err)
			return
		}
		q.Cursor = rq.NextCursor(&storage.Device{ID: after})
	}
	h.page(w, r, q)
}

func (h *Handler) patchLabels(w http.ResponseWriter, r *http.Request) {
	var c api.LabelChange
	if err := h.decode(w, r, &c); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := api.ValidateLabelChange(&c); err != nil {
		h.fail(w, r, err)
		return
	}
	d, ok := h.device(w, r)
	if !ok {
		return
	}
	if n := mergedCount(d.Labels, &c); n > api.MaxLabels {
		h.fail(w, r, &api.ValidationError{Field: "set", Msg: fmt.Sprintf("device %s would have %d labels, more than %d", d.ID, n, api.MaxLabels)})
		return
	}
	if _, err := h.o.Store.UpdateLabels(r.Context(), []string{d.ID}, c.Set, c.Remove); err != nil {
		h.fail(w, r, err)
		return
	}
	if d, ok = h.device(w, r); ok {
		h.o.Logger.Info("device labels changed", "device", d.ID)
		writeJSON(w, http.StatusOK, api.DeviceFrom(d))
	}
}

// mergedCount is how many labels a device with labels has after c.
func mergedCount(labels map[string]string, c *api.LabelChange) int {
	n := len(labels)
	for k := range c.Set {
		if _, ok := labels[k]; !ok {
			n++
		}
	}
	for _, k := range c.Remove {
		if _, ok := labels[k]; ok {
			n--
		}
	}
	return n
}

// bulkPage is the page size of a change applied to every device a
// selector matches: one storage unit each.
const bulkPage = 1000

func (h *Handler) bulkLabels(w http.ResponseWriter, r *http.Request) {
	var req api.BulkLabelRequest
	if err := h.decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := api.ValidateLabelChange(&req.LabelChange); err != nil {
		h.fail(w, r, err)
		return
	}
	if strings.TrimSpace(req.Q) == "" && !req.All {
		h.fail(w, r, &api.ValidationError{Field: "q", Msg: "empty selector: set all to true to change every device"})
		return
	}
	q, err := fleet.ParseSelector(req.Q)
	if err != nil {
		h.fail(w, r, &api.ValidationError{Field: "q", Msg: err.Error()})
		return
	}
	q.Limit = bulkPage
	var res api.BulkLabelResult
	err = fleet.EachPage(r.Context(), h.o.Store, q, func(ds []*storage.Device) error {
		ids := make([]string, 0, len(ds))
		for _, d := range ds {
			if mergedCount(d.Labels, &req.LabelChange) > api.MaxLabels {
				res.Skipped++
				continue
			}
			ids = append(ids, d.ID)
		}
		res.Matched += len(ds)
		n, err := h.o.Store.UpdateLabels(r.Context(), ids, req.Set, req.Remove)
		res.Changed += n
		return err
	})
	if err != nil {
		h.failQuery(w, r, err)
		return
	}
	h.o.Logger.Info("labels changed by selector", "q", req.Q, "matched", res.Matched, "changed", res.Changed)
	writeJSON(w, http.StatusOK, res)
}

// ---- groups ----

func (h *Handler) createGroup(w http.ResponseWriter, r *http.Request) {
	var req api.GroupCreate
	if err := h.decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := fleet.ValidateGroupName(req.Name); err != nil {
		h.fail(w, r, &api.ValidationError{Field: "name", Msg: err.Error()})
		return
	}
	if len(req.Description) > 1024 || !storage.ValidIdentifier(req.Description) {
		h.fail(w, r, &api.ValidationError{Field: "description", Msg: "want at most 1024 bytes of printable text"})
		return
	}
	if req.Selector != "" {
		// The selector must parse and its groups exist now; it is
		// evaluated again each time the group is used.
		q, err := fleet.ParseSelector(req.Selector)
		if err == nil {
			if q.Group == req.Name {
				err = fmt.Errorf("the selector names the group itself")
			} else {
				_, err = fleet.Resolve(r.Context(), h.o.Store, q)
			}
		}
		if err != nil {
			h.fail(w, r, &api.ValidationError{Field: "selector", Msg: err.Error()})
			return
		}
	}
	g := &storage.Group{Name: req.Name, Description: req.Description, Selector: req.Selector}
	if err := h.o.Store.CreateGroup(r.Context(), g); err != nil {
		if errors.Is(err, storage.ErrExists) {
			writeError(w, http.StatusConflict, fmt.Sprintf("group %q already exists", req.Name))
			return
		}
		h.fail(w, r, err)
		return
	}
	h.o.Logger.Info("group created", "group", g.Name, "dynamic", g.Dynamic())
	w.Header().Set("Location", api.Prefix+"/groups/"+g.Name)
	writeJSON(w, http.StatusCreated, api.GroupFrom(g))
}

func (h *Handler) listGroups(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	gs, err := h.o.Store.ListGroups(r.Context(), r.URL.Query().Get("after"), limit+1)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := api.GroupList{Groups: make([]api.Group, 0, min(len(gs), limit))}
	for i, g := range gs {
		if i == limit {
			out.Next = gs[limit-1].Name
			break
		}
		out.Groups = append(out.Groups, api.GroupFrom(g))
	}
	writeJSON(w, http.StatusOK, out)
}

// group loads the {name} group, answering 404 itself when it is unknown.
func (h *Handler) group(w http.ResponseWriter, r *http.Request) (*storage.Group, bool) {
	name := r.PathValue("name")
	g, err := h.o.Store.GetGroup(r.Context(), name)
	if errors.Is(err, storage.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown group %q", name))
		return nil, false
	}
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	return g, true
}

func (h *Handler) getGroup(w http.ResponseWriter, r *http.Request) {
	if g, ok := h.group(w, r); ok {
		writeJSON(w, http.StatusOK, api.GroupFrom(g))
	}
}

func (h *Handler) deleteGroup(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := h.o.Store.DeleteGroup(r.Context(), name); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			writeError(w, http.StatusNotFound, fmt.Sprintf("unknown group %q", name))
			return
		}
		h.fail(w, r, err)
		return
	}
	h.o.Logger.Info("group deleted", "group", name)
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) changeMembers(w http.ResponseWriter, r *http.Request) {
	var req api.MembersChange
	if err := h.decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	switch {
	case len(req.Add) == 0 && len(req.Remove) == 0:
		h.fail(w, r, &api.ValidationError{Field: "add", Msg: "nothing to change: give add and/or remove"})
		return
	case len(req.Add)+len(req.Remove) > api.MaxIDList:
		h.fail(w, r, &api.ValidationError{Field: "add", Msg: fmt.Sprintf("more than %d device IDs in one request", api.MaxIDList)})
		return
	}
	for field, ids := range map[string][]string{"add": req.Add, "remove": req.Remove} {
		for _, id := range ids {
			if err := api.ValidateDeviceID(id); err != nil {
				h.fail(w, r, &api.ValidationError{Field: field, Msg: err.(*api.ValidationError).Msg})
				return
			}
		}
	}
	g, ok := h.group(w, r)
	if !ok {
		return
	}
	if g.Dynamic() {
		h.fail(w, r, &api.ValidationError{Field: "add", Msg: fmt.Sprintf("group %s is dynamic: its members are the devices its selector matches", g.Name)})
		return
	}
	var res api.MembersResult
	err := storage.InBatch(r.Context(), h.o.Store, func(s storage.Store) error {
		var err error
		if len(req.Add) > 0 {
			if res.Added, err = s.AddGroupMembers(r.Context(), g.Name, req.Add); err != nil {
				return err
			}
		}
		if len(req.Remove) > 0 {
			res.Removed, err = s.RemoveGroupMembers(r.Context(), g.Name, req.Remove)
		}
		return err
	})
	switch {
	case errors.Is(err, storage.ErrDynamicGroup):
		h.fail(w, r, &api.ValidationError{Field: "add", Msg: err.Error()})
		return
	case errors.Is(err, storage.ErrNotFound):
		// A device of the list (or the group, deleted meanwhile) is unknown.
		writeError(w, http.StatusNotFound, err.Error())
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	h.o.Logger.Info("group members changed", "group", g.Name, "added", res.Added, "removed", res.Removed)
	writeJSON(w, http.StatusOK, res)
}

func (h *Handler) groupMembers(w http.ResponseWriter, r *http.Request) {
	q, err := deviceQuery(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	g, ok := h.group(w, r)
	if !ok {
		return
	}
	if q.Group != "" && q.Group != g.Name {
		h.fail(w, r, &api.ValidationError{Field: "q", Msg: "the members of a group cannot be filtered by another group"})
		return
	}
	q.Group = g.Name
	h.page(w, r, q)
}

// ---- import ----

// importBatch is how many records go to storage in one unit (one
// transaction). Large units make an import of many devices cheaper per
// device: the random-order inserts of a unit into the device ID, label and
// DevInfo indexes land on fewer distinct pages per device, each written once
// per unit, and the commits and WAL checkpoints are fewer. The handler holds
// at most importInflight+1 units (one being stored, one being prepared, one
// being read), a few MB each.
var importBatch = 16384

// importInflight is how many units an import hands on to storage before it
// waits for the oldest: one being written and one being prepared.
const importInflight = 2

// importIdle is how long an import may go without storing a batch (reading
// its records, or storing them) before the connection's deadlines cut it.
const importIdle = time.Minute

func (h *Handler) importDevices(w http.ResponseWriter, r *http.Request) {
	// A large import outlasts the server's read and write timeouts, which
	// bound an ordinary request: each stored batch moves both deadlines on,
	// so only an import that stops making progress is cut.
	rc := http.NewResponseController(w)
	progress := func() {
		_ = rc.SetReadDeadline(time.Now().Add(importIdle))
		_ = rc.SetWriteDeadline(time.Now().Add(2 * importIdle))
	}
	progress()
	body := http.MaxBytesReader(w, r.Body, h.o.MaxImportBody)
	lr := &lineReader{r: bufio.NewReaderSize(body, 256<<10)}
	next, err := importRecords(lr)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var res api.ImportResult
	fail := func(line, rec int, id, msg string) {
		res.Failed++
		if len(res.Errors) < api.MaxImportErrors {
			res.Errors = append(res.Errors, api.ImportError{Line: line, Record: rec, ID: id, Error: msg})
		}
	}
	type pending struct{ line, rec int }
	// Pipeline of three stages, one unit in each: this goroutine reads and
	// checks the records of a unit while the unit before it is prepared for
	// storage (storage.PrepareImport: hashes, sealed passwords, encoded rows,
	// on every core) and the one before that is written
	// (storage.StoreImport), so the single writer of an embedded database
	// spends its time on the inserts only. Each unit's goroutine prepares
	// its unit and then waits for the unit before it: units are stored in
	// record order, and none after one that failed. At most importInflight
	// units are handed on, so the memory held is that many units and the
	// one being read.
	type unit struct {
		batch []*storage.Device
		where []pending
		errs  []error
		err   error
		done  chan struct{} // closed once stored, or refused
	}
	var inflight []*unit // in record order
	// collectOne waits for the oldest unit in flight and counts its results.
	collectOne := func() error {
		u := inflight[0]
		inflight = inflight[1:]
		<-u.done
		if u.err != nil {
			return u.err
		}
		for i, e := range u.errs {
			switch {
			case e == nil:
				res.Imported++
			case errors.Is(e, storage.ErrExists):
				fail(u.where[i].line, u.where[i].rec, u.batch[i].ID, fmt.Sprintf("device %q already exists", u.batch[i].ID))
			default:
				fail(u.where[i].line, u.where[i].rec, u.batch[i].ID, e.Error())
			}
		}
		progress()
		return nil
	}
	// collect waits for every unit in flight and counts their results.
	collect := func() error {
		for len(inflight) > 0 {
			if err := collectOne(); err != nil {
				return err
			}
		}
		return nil
	}
	per := importBatch
	batch := make([]*storage.Device, 0, min(per, 1024))
	where := make([]pending, 0, min(per, 1024))
	// send hands the batch on to be prepared and stored after the units
	// before it.
	send := func() error {
		if len(batch) == 0 {
			return nil
		}
		if len(inflight) == importInflight {
			if err := collectOne(); err != nil {
				return err
			}
		}
		u := &unit{batch: batch, where: where, done: make(chan struct{})}
		var prev *unit
		if n := len(inflight); n > 0 {
			prev = inflight[n-1]
		}
		inflight = append(inflight, u)
		go func() {
			defer close(u.done)
			p := storage.PrepareImport(h.o.Store, u.batch)
			if prev != nil {
				if <-prev.done; prev.err != nil {
					u.err = prev.err
					return
				}
			}
			u.errs, u.err = storage.StoreImport(r.Context(), h.o.Store, p)
		}()
		batch = make([]*storage.Device, 0, min(per, 1024))
		where = make([]pending, 0, min(per, 1024))
		return nil
	}
	// flush stores everything read so far.
	flush := func() error {
		if err := send(); err != nil {
			return err
		}
		return collect()
	}
	// Whatever way the handler ends, no unit is left running.
	defer func() {
		for _, u := range inflight {
			<-u.done
		}
	}()
	for rec := 1; ; rec++ {
		raw, line, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		var me *http.MaxBytesError
		if errors.As(err, &me) || errors.Is(err, errBadJSON) {
			if ferr := flush(); ferr != nil {
				err = ferr
			}
			h.failImport(w, r, err, &res, line)
			return
		}
		if err != nil {
			if cerr := collect(); cerr != nil {
				err = cerr
			}
			h.failImport(w, r, err, &res, line)
			return
		}
		var req api.DeviceCreate
		if err := decodeRecord(raw, &req); err != nil { // importdecode.go
			fail(line, rec, "", "not a device record: "+err.Error())
			continue
		}
		d, err := importDevice(&req)
		if err != nil {
			fail(line, rec, req.ID, err.Error())
			continue
		}
		batch = append(batch, d)
		where = append(where, pending{line, rec})
		if len(batch) == per {
			if err := send(); err != nil {
				h.failImport(w, r, err, &res, line)
				return
			}
		}
	}
	if err := flush(); err != nil {
		h.failImport(w, r, err, &res, 0)
		return
	}
	// Storage refusals are known when a batch is stored, after the
	// refusals of later records' checks: report in record order.
	sort.SliceStable(res.Errors, func(i, j int) bool { return res.Errors[i].Record < res.Errors[j].Record })
	h.o.Logger.Info("devices imported", "imported", res.Imported, "failed", res.Failed)
	writeJSON(w, http.StatusOK, res)
}

// failImport ends an import that cannot go on (a body that is not NDJSON or
// a JSON array, too large, or a storage failure): the records before it
// stay stored, and the message says how far the import got.
func (h *Handler) failImport(w http.ResponseWriter, r *http.Request, err error, res *api.ImportResult, line int) {
	where := fmt.Sprintf("import stopped at line %d after %d devices were stored", line, res.Imported)
	var me *http.MaxBytesError
	switch {
	case errors.As(err, &me):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("%s: body larger than %d bytes", where, me.Limit))
	case errors.Is(err, errBadJSON):
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: %v", where, err))
	default:
		h.o.Logger.Error("device import failed", "line", line, "imported", res.Imported, "err", err)
		writeError(w, http.StatusInternalServerError, where+": internal error")
	}
}

// importDevice checks one import record (the rules of POST /devices, and a
// server password, which an import cannot generate and hand back) and
// turns it into the device to store.
func importDevice(req *api.DeviceCreate) (*storage.Device, error) {
	if err := api.ValidateDeviceCreate(req); err != nil {
		return nil, err
	}
	if req.ServerPassword == "" {
		return nil, &api.ValidationError{Field: "server_password", Msg: "required in an import (the server cannot hand back generated passwords in bulk)"}
	}
	d := &storage.Device{
		ID: req.ID, AuthScheme: req.Auth, Username: req.Username, Password: req.Password,
		ServerPassword: req.ServerPassword, NotifyAddr: req.NotifyAddr, Labels: req.Labels,
	}
	if err := api.ApplyAccountCreate(d, req.AccountFields); err != nil {
		return nil, err
	}
	return d, nil
}

// lineReader reads bytes and counts the lines it has passed.
type lineReader struct {
	r    *bufio.Reader
	line int // lines fully read so far
}

// importRecords returns an iterator over the raw records of an import body:
// NDJSON (one JSON object per line; blank lines skipped) or one JSON array
// of objects, told apart by the first non-blank byte. Each record comes
// with the line it starts on; io.EOF ends the records.
func importRecords(lr *lineReader) (func() ([]byte, int, error), error) {
	first, err := skipSpace(lr)
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: empty body, want NDJSON or a JSON array of device records", errBadJSON)
	}
	if err != nil {
		return nil, err
	}
	if first != '[' {
		return func() ([]byte, int, error) {
			for {
				if _, err := skipSpace(lr); err != nil {
					return nil, lr.line + 1, err
				}
				start := lr.line + 1
				line, err := readLine(lr.r)
				if err != nil && !errors.Is(err, io.EOF) {
					return nil, start, err
				}
				if err == nil {
					lr.line++ // its newline
				}
				if len(bytes.TrimSpace(line)) > 0 {
					return line, start, nil
				}
				if err != nil {
					return nil, start, err
				}
			}
		}, nil
	}
	lr.r.ReadByte() // the '['
	done := false
	count := 0
	return func() ([]byte, int, error) {
		if done {
			return nil, lr.line + 1, io.EOF
		}
		c, err := skipSpace(lr)
		if err != nil {
			return nil, lr.line + 1, fmt.Errorf("%w: the JSON array is not closed", errBadJSON)
		}
		if count > 0 {
			if c == ']' {
				done = true
				return nil, lr.line + 1, trailing(lr)
			}
			if c != ',' {
				return nil, lr.line + 1, fmt.Errorf("%w: want , or ] between records, found %q", errBadJSON, c)
			}
			lr.r.ReadByte()
			if _, err := skipSpace(lr); err != nil {
				return nil, lr.line + 1, fmt.Errorf("%w: the JSON array is not closed", errBadJSON)
			}
		} else if c == ']' {
			done = true
			return nil, lr.line + 1, trailing(lr)
		}
		start := lr.line + 1
		raw, err := readValue(lr)
		if err != nil {
			return nil, start, err
		}
		count++
		return raw, start, nil
	}, nil
}

// trailing checks nothing but blanks follow the JSON array.
func trailing(lr *lineReader) error {
	lr.r.ReadByte() // the ']'
	if _, err := skipSpace(lr); !errors.Is(err, io.EOF) {
		if err != nil {
			return err
		}
		return fmt.Errorf("%w: data after the JSON array", errBadJSON)
	}
	return io.EOF
}

// skipSpace skips JSON white space, counting newlines, and returns the next
// byte without consuming it.
func skipSpace(lr *lineReader) (byte, error) {
	for {
		c, err := lr.r.ReadByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case '\n':
			lr.line++
		case ' ', '\t', '\r':
		default:
			lr.r.UnreadByte()
			return c, nil
		}
	}
}

// readLine reads one NDJSON line (without its newline), at most
// MaxImportRecordLen bytes.
func readLine(r *bufio.Reader) ([]byte, error) {
	var out []byte
	for {
		chunk, err := r.ReadSlice('\n')
		out = append(out, chunk...)
		if len(out) > api.MaxImportRecordLen {
			return nil, fmt.Errorf("%w: a record is longer than %d bytes", errBadJSON, api.MaxImportRecordLen)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(out, "\r\n"), err
	}
}

// readValue reads one JSON value of an array element (an object, or
// whatever else the record decoder will refuse), following strings and
// nesting so commas inside it do not end it; at most MaxImportRecordLen
// bytes.
func readValue(lr *lineReader) ([]byte, error) {
	var out []byte
	depth, inStr, esc := 0, false, false
	for {
		c, err := lr.r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%w: the JSON array ends inside a record", errBadJSON)
			}
			return nil, err
		}
		if !inStr && depth == 0 && (c == ',' || c == ']' || c == ' ' || c == '\n' || c == '\t' || c == '\r') && len(out) > 0 {
			lr.r.UnreadByte()
			return out, nil
		}
		out = append(out, c)
		if len(out) > api.MaxImportRecordLen {
			return nil, fmt.Errorf("%w: a record is longer than %d bytes", errBadJSON, api.MaxImportRecordLen)
		}
		switch {
		case c == '\n':
			lr.line++
		case inStr && esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return out, nil
			}
		}
	}
}

package handler

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/fleet/content"
	"github.com/omadm/omadm/mo/dlota"
	"github.com/omadm/omadm/storage"
)

// contentRoutes are the package catalogue, release policy and bootstrap
// routes.
func (h *Handler) contentRoutes() []Route {
	p := api.Prefix
	return []Route{
		{Method: "POST", Pattern: p + "/packages", h: h.uploadPackage},
		{Method: "GET", Pattern: p + "/packages", h: h.listPackages},
		{Method: "GET", Pattern: p + "/packages/{pkgid}", h: h.getPackage},
		{Method: "DELETE", Pattern: p + "/packages/{pkgid}", h: h.deletePackage},
		{Method: "GET", Pattern: p + "/release-policy", h: h.getPolicy},
		{Method: "PUT", Pattern: p + "/release-policy", h: h.putPolicy},
		{Method: "POST", Pattern: p + "/bootstrap", h: h.createBootstrap},
	}
}

// catalogue answers 503 when the server keeps no packages.
func (h *Handler) catalogue(w http.ResponseWriter) (*content.Catalogue, bool) {
	if h.o.Content == nil {
		writeError(w, http.StatusServiceUnavailable, "this server has no package catalogue")
		return nil, false
	}
	return h.o.Content, true
}

func (h *Handler) packageFrom(r *http.Request, p *content.Package) api.Package {
	base := h.baseURL(r)
	return api.Package{ID: p.ID, Name: p.Name, Version: p.Version, Type: p.Type, Size: p.Size, SHA256: p.SHA256,
		CreatedAt: p.CreatedAt, URL: base + content.DownloadPrefix + p.ID, DescriptorURL: base + content.DownloadPrefix + p.ID + ".dd"}
}

// baseURL is Options.PublicURL, else the URL the request came to.
func (h *Handler) baseURL(r *http.Request) string {
	if h.o.PublicURL != "" {
		return strings.TrimRight(h.o.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// uploadPackage is POST /packages?name=&version=&type=, the body being the
// package's bytes.
func (h *Handler) uploadPackage(w http.ResponseWriter, r *http.Request) {
	c, ok := h.catalogue(w)
	if !ok {
		return
	}
	q := r.URL.Query()
	// A package may take longer than the server's read timeout to arrive:
	// the deadline moves on while bytes come.
	body := &progressReader{r: r.Body, rc: http.NewResponseController(w)}
	p, err := c.Add(q.Get("name"), q.Get("version"), q.Get("type"), body)
	var me *http.MaxBytesError
	switch {
	case errors.Is(err, content.ErrTooLarge), errors.As(err, &me):
		writeError(w, http.StatusRequestEntityTooLarge, err.Error())
		return
	case err != nil && !strings.HasPrefix(err.Error(), "content:"):
		h.fail(w, r, &api.ValidationError{Field: "query", Msg: err.Error()})
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	h.o.Logger.Info("package uploaded", "package", p.ID, "name", p.Name, "version", p.Version, "size", p.Size, "sha256", p.SHA256)
	w.Header().Set("Location", api.Prefix+"/packages/"+p.ID)
	writeJSON(w, http.StatusCreated, h.packageFrom(r, p))
}

func (h *Handler) listPackages(w http.ResponseWriter, r *http.Request) {
	c, ok := h.catalogue(w)
	if !ok {
		return
	}
	ps, err := c.List()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := make([]api.Package, 0, len(ps))
	for _, p := range ps {
		out = append(out, h.packageFrom(r, p))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getPackage(w http.ResponseWriter, r *http.Request) {
	c, ok := h.catalogue(w)
	if !ok {
		return
	}
	p, err := c.Get(r.PathValue("pkgid"))
	if errors.Is(err, content.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown package %q", r.PathValue("pkgid")))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h.packageFrom(r, p))
}

func (h *Handler) deletePackage(w http.ResponseWriter, r *http.Request) {
	c, ok := h.catalogue(w)
	if !ok {
		return
	}
	err := c.Delete(r.PathValue("pkgid"))
	switch {
	case errors.Is(err, content.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown package %q", r.PathValue("pkgid")))
	case errors.Is(err, content.ErrInUse):
		writeError(w, http.StatusConflict, err.Error())
	case err != nil:
		h.fail(w, r, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (h *Handler) getPolicy(w http.ResponseWriter, r *http.Request) {
	c, ok := h.catalogue(w)
	if !ok {
		return
	}
	pol, err := c.Policy()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := api.ReleasePolicy{Rules: make([]api.Release, 0, len(pol))}
	for _, p := range pol {
		out.Rules = append(out.Rules, api.Release(p))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) putPolicy(w http.ResponseWriter, r *http.Request) {
	c, ok := h.catalogue(w)
	if !ok {
		return
	}
	var req api.ReleasePolicy
	if err := h.decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	rules := make([]content.Release, 0, len(req.Rules))
	for _, p := range req.Rules {
		rules = append(rules, content.Release(p))
	}
	if err := c.SetPolicy(rules); err != nil {
		h.fail(w, r, &api.ValidationError{Field: "rules", Msg: err.Error()})
		return
	}
	h.getPolicy(w, r)
}

// Downloads serves devices the catalogue's packages, without the API token
// (devices have none):
//
//	GET  /dl/<id>         the package (Range requests answered with 206)
//	GET  /dl/<id>.dd      its OMA DL 1.0 download descriptor; with the
//	                      device and tag query of a FUMO operation's
//	                      pkg_url, one bound to that device
//	POST /dl/<id>/notify  the device's status report (installNotifyURI),
//	                      stored as an event of kind install-notify
func Downloads(c *content.Catalogue, store storage.EventStore, h *Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dl/{file}", func(w http.ResponseWriter, r *http.Request) {
		file := r.PathValue("file")
		if id, ok := strings.CutSuffix(file, ".dd"); ok {
			p, err := c.Get(id)
			if err != nil {
				http.Error(w, "no such package", http.StatusNotFound)
				return
			}
			q := r.URL.Query()
			dev := q.Get("device")
			if dev != "" && !c.CheckNotifyMAC(id, dev, q.Get("tag")) {
				http.Error(w, "bad device tag", http.StatusForbidden)
				return
			}
			w.Header().Set("Content-Type", dlota.DDContentType)
			w.Header().Set("Cache-Control", "no-store")
			w.Write(c.Descriptor(p, h.baseURL(r), dev))
			return
		}
		f, p, err := c.Open(file)
		if err != nil {
			http.Error(w, "no such package", http.StatusNotFound)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", p.Type)
		w.Header().Set("ETag", `"`+p.SHA256+`"`)
		// A package may take longer than the server's write timeout to
		// send: the deadline moves on while bytes go out, so only a stalled
		// client is cut.
		http.ServeContent(&progressWriter{ResponseWriter: w, rc: http.NewResponseController(w)}, r, "", p.CreatedAt, f)
	})
	mux.HandleFunc("POST /dl/{id}/notify", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		q := r.URL.Query()
		dev := q.Get("device")
		if _, err := c.Get(id); err != nil {
			http.Error(w, "no such package", http.StatusNotFound)
			return
		}
		if dev == "" || !c.CheckNotifyMAC(id, dev, q.Get("tag")) {
			http.Error(w, "bad device tag", http.StatusForbidden)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1024))
		if err != nil {
			http.Error(w, "reading the report", http.StatusBadRequest)
			return
		}
		st, err := dlota.ParseStatus(string(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ev := &storage.Event{DeviceID: dev, Kind: api.InstallNotifyKind, Type: id, Source: content.DownloadPrefix + id, Format: "chr", Data: st.String()}
		if err := store.AddEvent(r.Context(), ev); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				http.Error(w, "unknown device", http.StatusNotFound)
				return
			}
			h.o.Logger.Error("storing an install-notify report", "package", id, "device", dev, "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		h.o.Logger.Info("download status report", "package", id, "device", dev, "status", st.String())
		ea := api.EventFrom(ev)
		h.o.Hub.Publish(api.Update{Kind: api.UpdateEvent, Device: dev, Event: &ea, EventID: ev.ID})
		w.WriteHeader(http.StatusOK)
	})
	return mux
}

// progressGrace is how long a package transfer may go without moving a
// byte before the connection's deadline cuts it.
const progressGrace = 60 * time.Second

// progressWriter extends the connection's write deadline before each write.
type progressWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func (w *progressWriter) Write(p []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(progressGrace))
	return w.ResponseWriter.Write(p)
}

// progressReader extends the connection's read deadline before each read.
type progressReader struct {
	r  io.Reader
	rc *http.ResponseController
}

func (p *progressReader) Read(b []byte) (int, error) {
	_ = p.rc.SetReadDeadline(time.Now().Add(progressGrace))
	return p.r.Read(b)
}

package handler

import (
	"net/http"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/storage"
)

// createProfile is POST /profiles.
func (h *Handler) createProfile(w http.ResponseWriter, r *http.Request) {
	var req api.ProfileRequest
	if err := h.decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := api.ValidateProfile(&req); err != nil {
		h.fail(w, r, err)
		return
	}
	p := &storage.Profile{Name: req.Name, Kind: req.Kind, Settings: req.Settings}
	if err := h.o.Store.CreateProfile(r.Context(), p); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", api.Prefix+"/profiles/"+p.Name)
	writeJSON(w, http.StatusCreated, api.ProfileFrom(p))
}

// listProfiles is GET /profiles.
func (h *Handler) listProfiles(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ps, err := h.o.Store.ListProfiles(r.Context(), r.URL.Query().Get("after"), limit+1)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := api.ProfileList{Profiles: make([]api.Profile, 0, min(len(ps), limit))}
	for i, p := range ps {
		if i == limit {
			out.Next = ps[limit-1].Name
			break
		}
		out.Profiles = append(out.Profiles, api.ProfileFrom(p))
	}
	writeJSON(w, http.StatusOK, out)
}

// getProfile is GET /profiles/{name}.
func (h *Handler) getProfile(w http.ResponseWriter, r *http.Request) {
	p, err := h.o.Store.GetProfile(r.Context(), r.PathValue("name"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.ProfileFrom(p))
}

// updateProfile is PUT /profiles/{name}: the kind and settings replaced as a
// whole (a secret setting given as "********" keeps its stored value, so a
// profile read from the API can be sent back).
func (h *Handler) updateProfile(w http.ResponseWriter, r *http.Request) {
	var req api.ProfileRequest
	if err := h.decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	name := r.PathValue("name")
	if req.Name != "" && req.Name != name {
		h.fail(w, r, &api.ValidationError{Field: "name", Msg: "a profile cannot be renamed (create one with the new name)"})
		return
	}
	req.Name = name
	cur, err := h.o.Store.GetProfile(r.Context(), name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, k := range storage.SecretSettings {
		if req.Settings[k] == "********" {
			req.Settings[k] = cur.Settings[k]
		}
	}
	if err := api.ValidateProfile(&req); err != nil {
		h.fail(w, r, err)
		return
	}
	p := &storage.Profile{Name: name, Kind: req.Kind, Settings: req.Settings}
	if err := h.o.Store.UpdateProfile(r.Context(), p); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.ProfileFrom(p))
}

// deleteProfile is DELETE /profiles/{name}.
func (h *Handler) deleteProfile(w http.ResponseWriter, r *http.Request) {
	if err := h.o.Store.DeleteProfile(r.Context(), r.PathValue("name")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

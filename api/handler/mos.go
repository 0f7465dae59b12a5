package handler

import (
	"net/http"

	"github.com/omadm/omadm/api"
)

// listMOs is GET /mos: the management objects operations can be run on,
// with their operations and parameters, from the MO descriptors.
func (h *Handler) listMOs(w http.ResponseWriter, _ *http.Request) {
	out := api.MOList{MOs: []api.MO{}}
	for _, name := range h.o.Operations.MONames() {
		if d, ok := h.o.Operations.Descriptor(name); ok {
			out.MOs = append(out.MOs, api.MOFrom(d))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

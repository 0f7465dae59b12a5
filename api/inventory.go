package api

import (
	"time"

	"github.com/omadm/omadm/storage"
)

// Fleet inventory request limits.
const (
	// MaxIDList bounds the device IDs of one group membership change.
	MaxIDList = 10000
	// MaxImportRecordLen bounds one NDJSON line of an import.
	MaxImportRecordLen = 64 << 10
	// MaxImportErrors bounds the per-record errors an import answer lists
	// (the count of failed records is always exact).
	MaxImportErrors = 1000
)

// LabelChange is the body of PATCH /devices/{id}/labels: labels to set
// (added or overwritten) and label keys to remove. A key may not be in both.
type LabelChange struct {
	Set    map[string]string `json:"set,omitempty"`
	Remove []string          `json:"remove,omitempty"`
}

// BulkLabelRequest is the body of POST /devices/labels: the change applies
// to every device the selector Q matches. An empty Q (the whole fleet)
// needs All set, so a forgotten filter does not relabel every device.
type BulkLabelRequest struct {
	Q   string `json:"q"`
	All bool   `json:"all,omitempty"`
	LabelChange
}

// BulkLabelResult answers POST /devices/labels: how many devices the
// selector matched, how many changed, and how many were left as they were
// because the change would give them more than MaxLabels labels.
type BulkLabelResult struct {
	Matched int `json:"matched"`
	Changed int `json:"changed"`
	Skipped int `json:"skipped,omitempty"`
}

// Group is a named set of devices: static (Selector empty, members added
// by ID) or dynamic (its members are the devices Selector matches when the
// group is read).
type Group struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Selector    string    `json:"selector,omitempty"`
	Dynamic     bool      `json:"dynamic"`
	CreatedAt   time.Time `json:"created_at"`
}

// GroupFrom is the API view of a stored group.
func GroupFrom(g *storage.Group) Group {
	return Group{Name: g.Name, Description: g.Description, Selector: g.Selector, Dynamic: g.Dynamic(), CreatedAt: g.CreatedAt}
}

// GroupCreate is the body of POST /groups.
type GroupCreate struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Selector    string `json:"selector,omitempty"`
}

// GroupList is one page of GET /groups; Next is the ?after= of the
// following page (empty on the last).
type GroupList struct {
	Groups []Group `json:"groups"`
	Next   string  `json:"next,omitempty"`
}

// MembersChange is the body of PATCH /groups/{name}/members.
type MembersChange struct {
	Add    []string `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
}

// MembersResult answers PATCH /groups/{name}/members.
type MembersResult struct {
	Added   int `json:"added"`
	Removed int `json:"removed"`
}

// ImportResult answers POST /devices/import: how many records were stored
// and how many were not, with the reason for each of the first
// MaxImportErrors of those.
type ImportResult struct {
	Imported int           `json:"imported"`
	Failed   int           `json:"failed"`
	Errors   []ImportError `json:"errors,omitempty"`
}

// ImportError is one record an import did not store. Line is the line of
// the NDJSON record (for a JSON array, the line where the record starts);
// Record counts records from 1.
type ImportError struct {
	Line   int    `json:"line"`
	Record int    `json:"record"`
	ID     string `json:"id,omitempty"`
	Error  string `json:"error"`
}

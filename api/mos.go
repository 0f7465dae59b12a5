package api

import "github.com/omadm/omadm/mo"

// MOParam is one parameter of an MO operation as GET /mos shows it: what a
// request's params map may carry under Name, and where the server writes it.
type MOParam struct {
	Name     string `json:"name"`
	Node     string `json:"node"`                // relative to the MO instance; "{}" stands for each list element
	Format   string `json:"format"`              // chr, bool or int
	Required bool   `json:"required"`            // the request must give it
	List     bool   `json:"list,omitempty"`      // takes a list of node names
	MaxItems int    `json:"max_items,omitempty"` // bound of a list parameter
}

// MOOperation is one operation of an MO: its canonical name, the other
// names requests may use, the node it executes and its parameters in the
// order they are written.
type MOOperation struct {
	Name    string   `json:"name"`
	Aliases []string `json:"aliases,omitempty"`
	Exec    string   `json:"exec"` // relative to the MO instance; "{p}" is parameter p's value
	// Create is the interior node the operation Adds (with the parameters
	// as its leaves) before the Exec; "" when the parameters are Replaced.
	Create string    `json:"create,omitempty"`
	Params []MOParam `json:"params"`
}

// MO describes a management object the server runs operations on (POST
// /devices/{id}/operations with its name), from its descriptor: enough for a
// client to build a form for each operation.
type MO struct {
	Name             string        `json:"name"`
	MOID             string        `json:"moid"`
	DefaultNode      string        `json:"default_node"`
	DefaultOperation string        `json:"default_operation,omitempty"`
	Timeout          string        `json:"timeout"` // default wait for the report, a Go duration
	Operations       []MOOperation `json:"operations"`
}

// MOList answers GET /mos.
type MOList struct {
	MOs []MO `json:"mos"`
}

// MOFrom is the API view of an MO descriptor.
func MOFrom(d *mo.Descriptor) MO {
	out := MO{Name: d.Name, MOID: d.MOID, DefaultNode: d.DefaultNode, DefaultOperation: d.DefaultOperation,
		Timeout: d.Timeout.String(), Operations: make([]MOOperation, 0, len(d.Operations))}
	for i := range d.Operations {
		op := &d.Operations[i]
		o := MOOperation{Name: op.Name, Aliases: op.Aliases, Exec: op.ExecNode(), Create: op.Create, Params: make([]MOParam, 0, len(op.Params))}
		for _, p := range op.Params {
			if p.Name == "" {
				continue // written from Value, never given by a request
			}
			mp := MOParam{Name: p.Name, Node: p.Node, Format: p.Format, Required: p.Required, List: p.List}
			if p.List {
				mp.MaxItems = p.MaxItems
				if mp.MaxItems == 0 {
					mp.MaxItems = 64
				}
			}
			o.Params = append(o.Params, mp)
		}
		out.Operations = append(out.Operations, o)
	}
	return out
}

package fleet

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/omadm/omadm/mo/connmo"
	"github.com/omadm/omadm/storage"
)

// ConnMO names the configuration change set of a connectivity profile: the
// operation "apply" writes a stored profile (storage.ProfileStore) into the
// device's ConnMO container as one Atomic (OMA-TS-DM_Protocol-V1_2 §6.6.3:
// all of it or nothing), with no Exec and no report: the Atomic's status
// ends it.
const ConnMO = "connmo"

// DefaultConnMOTimeout is how long an apply waits for the device to take it.
const DefaultConnMOTimeout = 24 * time.Hour

// connmoParams are what "apply" takes.
var connmoParams = []string{"profile", "replace"}

func (m *Manager) planConnMO(ctx context.Context, r *Request) (*storage.Operation, storage.JobSpec, error) {
	if r.Operation != "" && !strings.EqualFold(r.Operation, "apply") {
		return nil, storage.JobSpec{}, invalid("operation", "%q: connmo has one operation, apply", r.Operation)
	}
	node, err := validNode(r.Node, connmo.DefaultNode)
	if err != nil {
		return nil, storage.JobSpec{}, err
	}
	var name string
	replace := false
	for k, v := range r.Params {
		switch k {
		case "profile":
			s, ok := v.(string)
			if !ok {
				return nil, storage.JobSpec{}, invalid("params.profile", "want the profile's name")
			}
			name = s
		case "replace":
			switch x := v.(type) {
			case bool:
				replace = x
			case string:
				b, err := strconv.ParseBool(x)
				if err != nil {
					return nil, storage.JobSpec{}, invalid("params.replace", "%q: want true or false", x)
				}
				replace = b
			default:
				return nil, storage.JobSpec{}, invalid("params.replace", "want true or false")
			}
		default:
			return nil, storage.JobSpec{}, invalid("params."+k, "apply takes no parameter %s (it takes: %s)", k, strings.Join(connmoParams, ", "))
		}
	}
	if name == "" {
		return nil, storage.JobSpec{}, invalid("params.profile", "apply needs the profile to apply")
	}
	if err := connmo.ValidName(name); err != nil {
		return nil, storage.JobSpec{}, invalid("params.profile", "%v", err)
	}
	// Without a store (Validate) the request's form is all that is checked.
	var plan *connmo.Plan
	if m.o.Store != nil {
		p, err := m.o.Store.GetProfile(ctx, name)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, storage.JobSpec{}, invalid("params.profile", "no profile %q (create it with POST /api/v1/profiles)", name)
		}
		if err != nil {
			return nil, storage.JobSpec{}, err
		}
		if plan, err = connmo.Apply(node, p.Name, p.Kind, p.Settings, replace); err != nil {
			return nil, storage.JobSpec{}, invalid("params.profile", "profile %q: %v", name, err)
		}
	} else {
		plan = &connmo.Plan{Add: []connmo.Item{{URI: node + "/NAP/" + name, Format: "node"}}}
	}
	r.Node, r.Operation, r.MO = node, "apply", ConnMO
	if r.Correlator == "" {
		r.Correlator = newCorrelator("connmo-")
	}
	spec := ChangeSet(plan)
	if err := storage.ValidateJobSpec(spec); err != nil {
		return nil, storage.JobSpec{}, specError(err)
	}
	stored := map[string]string{"profile": name}
	if replace {
		stored["replace"] = "true"
	}
	op := &storage.Operation{DeviceID: r.DeviceID, MO: ConnMO, Name: "apply", Node: node, Params: stored,
		Correlator: r.Correlator, State: storage.OpQueued, Deadline: m.o.Now().Add(cmpDur(r.Timeout, DefaultConnMOTimeout))}
	return op, spec, nil
}

// ChangeSet is the job of a configuration change set: one Atomic holding
// the plan's Delete (when it has one) and its Add, in that order.
func ChangeSet(p *connmo.Plan) storage.JobSpec {
	var ch []storage.JobSpec
	if len(p.Delete) > 0 {
		del := storage.JobSpec{Command: "Delete"}
		for _, u := range p.Delete {
			del.Items = append(del.Items, storage.JobItem{URI: u})
		}
		ch = append(ch, del)
	}
	add := storage.JobSpec{Command: "Add"}
	for _, it := range p.Add {
		add.Items = append(add.Items, storage.JobItem{URI: it.URI, Format: it.Format, Type: it.Type, Data: it.Data, HasData: it.Format != "node"})
	}
	return storage.JobSpec{Command: "Atomic", Children: append(ch, add)}
}

// changeSetFailure says why a change set's Atomic failed.
func changeSetFailure(j *storage.Job) string {
	msg := fmt.Sprintf("the device refused the configuration change set (Atomic status %d, members %v): nothing was changed", j.Status, j.ChildStatus)
	if j.Error != "" {
		msg += ": " + j.Error
	}
	return msg
}

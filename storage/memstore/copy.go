package memstore

import (
	"maps"
	"slices"
	"time"

	"github.com/omadm/omadm/storage"
)

// The copies below stand for a database's round trip: nothing the caller
// holds aliases stored state, and times lose their monotonic reading as
// they do in a SQL column. They are written out per type because a
// reflective (JSON) copy cost more than the engine it was meant to serve
// in the server benchmarks, where memstore is the zero-storage baseline.

func wall(t time.Time) time.Time { return t.Round(0) }

func copyDevice(d *storage.Device) *storage.Device {
	c := *d
	c.ServerNonce = slices.Clone(d.ServerNonce)
	c.ClientNonce = slices.Clone(d.ClientNonce)
	c.DevInfo = maps.Clone(d.DevInfo)
	c.Labels = maps.Clone(d.Labels)
	c.CreatedAt, c.LastSeen = wall(d.CreatedAt), wall(d.LastSeen)
	return &c
}

func copySpec(s storage.JobSpec) storage.JobSpec {
	s.Items = slices.Clone(s.Items)
	if s.Children != nil {
		ch := make([]storage.JobSpec, len(s.Children))
		for i, c := range s.Children {
			ch[i] = copySpec(c)
		}
		s.Children = ch
	}
	if s.Alert != nil {
		a := *s.Alert
		a.Choices = slices.Clone(a.Choices)
		s.Alert = &a
	}
	return s
}

func copyJob(j *storage.Job) *storage.Job {
	c := *j
	c.Spec = copySpec(j.Spec)
	c.Results = slices.Clone(j.Results)
	c.ChildStatus = slices.Clone(j.ChildStatus)
	c.CreatedAt, c.SentAt, c.DoneAt = wall(j.CreatedAt), wall(j.SentAt), wall(j.DoneAt)
	return &c
}

func copySession(x *storage.Session) *storage.Session {
	c := *x
	c.State = slices.Clone(x.State)
	c.CreatedAt, c.UpdatedAt = wall(x.CreatedAt), wall(x.UpdatedAt)
	return &c
}

func copyEvent(e *storage.Event) *storage.Event {
	c := *e
	c.CreatedAt = wall(e.CreatedAt)
	return &c
}

func copyTrace(t *storage.TraceEntry) *storage.TraceEntry {
	c := *t
	c.Body = slices.Clone(t.Body)
	c.CreatedAt = wall(t.CreatedAt)
	return &c
}

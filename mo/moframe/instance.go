package moframe

import "github.com/omadm/omadm/dmtree"

// Instance is the part of an installed object that every object with
// operations has alike: its canonical URI and the Runner of its
// operations. Embedded in the object's type (set with NewInstance once the
// Runner exists), it gives the object URI, Wait, Busy, Close and Mounted
// (dmtree.Plugin); an object that stops more than its Runner defines its
// own Close and calls Instance.Close from it.
type Instance struct {
	uri string
	run *Runner
}

// NewInstance returns the Instance of the object at the canonical uri
// whose operations run runs.
func NewInstance(uri string, run *Runner) Instance { return Instance{uri: uri, run: run} }

// URI is the object's canonical URI.
func (in *Instance) URI() string { return in.uri }

// Wait blocks until no operation is running.
func (in *Instance) Wait() { in.run.Wait() }

// Busy reports whether an operation runs in the background now, or has
// just ended and is handing over its report (Runner.Active).
func (in *Instance) Busy() bool { return in.run.Active() }

// Close stops a running operation without reporting it and waits for it;
// its record stays saved (with RunnerConfig.Dir), so the next start resumes
// it.
func (in *Instance) Close() { in.run.Close() }

// Mounted implements dmtree.Plugin: an object needs nothing when mounted.
func (in *Instance) Mounted(string) error { return nil }

// Leaf returns the data of the leaf at uri, "" when it is missing or not a
// leaf (the device's own read, no ACL applies).
func Leaf(t *dmtree.Tree, uri string) string {
	rs, err := t.Get("", uri)
	if err != nil || len(rs) != 1 {
		return ""
	}
	return string(rs[0].Data)
}

// Package registry lists the management objects whose operations a server
// offers: the one list the operations layer, the REST API and the clients
// read, so that adding an object is adding its descriptor here.
package registry

import (
	"github.com/omadm/omadm/mo"
	"github.com/omadm/omadm/mo/diagmon"
	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/mo/lawmo"
	"github.com/omadm/omadm/mo/scomo"
)

// Descriptors returns the standard objects' descriptors, a new slice each
// call.
func Descriptors() []*mo.Descriptor {
	return []*mo.Descriptor{fumo.Descriptor, lawmo.Descriptor, diagmon.Descriptor, scomo.Descriptor}
}

package fumo

import (
	_ "embed"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/moframe"
)

//go:embed fumo.ddf.xml
var ddfXML []byte

// Model is the FUMO DDF (fumo.ddf.xml): the update package node is run-time
// named, so the device names it where it places it.
var Model = moframe.MustModel(ddfXML)

// DDFXML returns the DDF document with the update package node named name
// (for example "Default" for ./FwUpdate/Default).
func DDFXML(name string) []byte { return Model.Bind(name).Marshal() }

// DDF returns the DDF with the update package node named name.
func DDF(name string) (*dmtree.DDF, error) { return Model.Bind(name), nil }

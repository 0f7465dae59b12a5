package scomo

import (
	_ "embed"

	"github.com/omadm/omadm/mo/moframe"
)

//go:embed scomo.ddf.xml
var ddfXML []byte

// Model is the SCOMO DDF (scomo.ddf.xml): the object's node is run-time
// named, so the device names it where it places it.
var Model = moframe.MustModel(ddfXML)

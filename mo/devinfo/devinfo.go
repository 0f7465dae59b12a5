// Package devinfo is the DevInfo management object (./DevInfo,
// urn:oma:mo:oma-dm-devinfo:1.0): the device identity every package 1 carries.
package devinfo

import (
	_ "embed"
	"sync"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/syncml"
)

// MOID is the management object identifier (the interior node's Type).
const MOID = "urn:oma:mo:oma-dm-devinfo:1.0"

// Root is the fixed place of the object.
const Root = "./DevInfo"

//go:embed devinfo.ddf.xml
var ddfXML []byte

// DDFXML returns the object's DDF document.
func DDFXML() []byte { return ddfXML }

var parsed = sync.OnceValues(func() (*dmtree.DDF, error) { return dmtree.ParseDDF(ddfXML) })

// DDF returns the parsed DDF (shared, do not modify).
func DDF() (*dmtree.DDF, error) { return parsed() }

// Info is the device identity.
type Info struct {
	DevID string // unique URN, e.g. "IMEI:493005100592800"
	Man   string
	Mod   string
	DmV   string // client version string
	Lang  string // RFC 1766 tag; "" = en-US
}

// Install creates ./DevInfo (or binds the DDF to an existing one) and writes
// info's values as the device. Call it at every start: values that did not
// change keep their TStamp and VerNo.
func Install(t *dmtree.Tree, info Info) error {
	if info.DevID == "" {
		return syncml.Errorf(syncml.StatusBadRequest, "DevInfo needs a DevId")
	}
	d, err := DDF()
	if err != nil {
		return err
	}
	if err := t.Install(".", d); err != nil {
		return err
	}
	lang := info.Lang
	if lang == "" {
		lang = "en-US"
	}
	for _, kv := range [][2]string{{"DevId", info.DevID}, {"Man", info.Man}, {"Mod", info.Mod}, {"DmV", info.DmV}, {"Lang", lang}} {
		if _, err := t.Ensure(Root+"/"+kv[0], dmtree.Value{Format: dmtree.FormatChr, Type: "text/plain", Data: []byte(kv[1])}); err != nil {
			return err
		}
	}
	return nil
}

// Nodes lists the leaf URIs a client sends in package 1 (Replace, Item Source = URI).
func Nodes() []string {
	return []string{Root + "/DevId", Root + "/Man", Root + "/Mod", Root + "/DmV", Root + "/Lang"}
}

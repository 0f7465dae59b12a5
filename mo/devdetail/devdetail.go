// Package devdetail is the DevDetail management object (./DevDetail,
// urn:oma:mo:oma-dm-devdetail:1.0): build identification and the URI limits
// the device's tree enforces.
package devdetail

import (
	_ "embed"
	"strconv"
	"strings"
	"sync"

	"github.com/omadm/omadm/dmtree"
)

// MOID is the management object identifier.
const MOID = "urn:oma:mo:oma-dm-devdetail:1.0"

// Root is the fixed place of the object.
const Root = "./DevDetail"

//go:embed devdetail.ddf.xml
var ddfXML []byte

// DDFXML returns the object's DDF document.
func DDFXML() []byte { return ddfXML }

var parsed = sync.OnceValues(func() (*dmtree.DDF, error) { return dmtree.ParseDDF(ddfXML) })

// DDF returns the parsed DDF (shared, do not modify).
func DDF() (*dmtree.DDF, error) { return parsed() }

// Detail is the build identification (Man+Mod+OEM+FwV+SwV+HwV name a build).
type Detail struct {
	DevTyp, OEM, FwV, SwV, HwV string
	LrgObj                     bool // large objects supported
}

// Install creates ./DevDetail with d's values and mounts a plug-in so that
// URI/MaxDepth, MaxTotLen and MaxSegLen always report t.Limits(). Call it at
// every start: values that did not change keep their TStamp and VerNo.
func Install(t *dmtree.Tree, d Detail) error {
	def, err := DDF()
	if err != nil {
		return err
	}
	if err := t.Install(".", def); err != nil {
		return err
	}
	if err := t.Add("", Root+"/URI", dmtree.Value{Format: dmtree.FormatNode}); err != nil && dmtreeStatus(err) != 418 {
		return err
	}
	if err := t.Install(".", def); err != nil { // binds the URI leaves
		return err
	}
	for _, kv := range [][2]string{{"DevTyp", d.DevTyp}, {"OEM", d.OEM}, {"FwV", d.FwV}, {"SwV", d.SwV}, {"HwV", d.HwV}, {"LrgObj", strconv.FormatBool(d.LrgObj)}} {
		f := dmtree.FormatChr
		if kv[0] == "LrgObj" {
			f = dmtree.FormatBool
		}
		if _, err := t.Ensure(Root+"/"+kv[0], dmtree.Value{Format: f, Type: "text/plain", Data: []byte(kv[1])}); err != nil {
			return err
		}
	}
	return t.Mount(Root+"/URI", dmtree.GetFunc(func(uri string) (dmtree.Value, error) {
		lim := t.Limits()
		var n int
		switch uri[strings.LastIndexByte(uri, '/')+1:] {
		case "MaxDepth":
			n = lim.MaxDepth
		case "MaxTotLen":
			n = lim.MaxTotLen
		case "MaxSegLen":
			n = lim.MaxSegLen
		default:
			return dmtree.Value{}, dmtree.ErrUseStored
		}
		return dmtree.Value{Format: dmtree.FormatChr, Type: "text/plain", Data: []byte(strconv.Itoa(n))}, nil
	}))
}

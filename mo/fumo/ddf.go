package fumo

import (
	"bytes"
	"encoding/xml"
	"strings"

	"github.com/omadm/omadm/dmtree"
)

// ddfTemplate is the FUMO DDF with its <x> node named @NAME@: the object has
// no fixed place, so the device names its update package node and the DDF
// is bound there. Download, Update and DownloadAndUpdate carry Format node:
// they have children (the FUMO text lists them as chr, which cannot be).
const ddfTemplate = `<?xml version="1.0" encoding="UTF-8"?>
<MgmtTree xmlns="syncml:dmddf1.2">
<VerDTD>1.2</VerDTD>
<Node><NodeName>@NAME@</NodeName><DFProperties><AccessType><Get/></AccessType><DFFormat><node/></DFFormat><Occurrence><ZeroOrMore/></Occurrence><Scope><Permanent/></Scope><DFType><DDFName>` + MOID + `</DDFName></DFType></DFProperties>
<Node><NodeName>PkgName</NodeName><DFProperties><AccessType><Get/><Replace/></AccessType><DFFormat><chr/></DFFormat><Occurrence><ZeroOrOne/></Occurrence><Scope><Permanent/></Scope><DFType><MIME>text/plain</MIME></DFType></DFProperties></Node>
<Node><NodeName>PkgVersion</NodeName><DFProperties><AccessType><Get/><Replace/></AccessType><DFFormat><chr/></DFFormat><Occurrence><ZeroOrOne/></Occurrence><Scope><Permanent/></Scope><DFType><MIME>text/plain</MIME></DFType></DFProperties></Node>
<Node><NodeName>Download</NodeName><DFProperties><AccessType><Exec/><Get/></AccessType><DFFormat><node/></DFFormat><Occurrence><ZeroOrOne/></Occurrence><Scope><Permanent/></Scope><DFType><DDFName></DDFName></DFType></DFProperties>
<Node><NodeName>PkgURL</NodeName><DFProperties><AccessType><Get/><Replace/></AccessType><DFFormat><chr/></DFFormat><Occurrence><One/></Occurrence><Scope><Permanent/></Scope><DFType><MIME>text/plain</MIME></DFType></DFProperties></Node>
</Node>
<Node><NodeName>Update</NodeName><DFProperties><AccessType><Exec/><Get/></AccessType><DFFormat><node/></DFFormat><Occurrence><ZeroOrOne/></Occurrence><Scope><Permanent/></Scope><DFType><DDFName></DDFName></DFType></DFProperties>
<Node><NodeName>PkgData</NodeName><DFProperties><AccessType><Replace/></AccessType><DFFormat><bin/></DFFormat><Occurrence><ZeroOrOne/></Occurrence><Scope><Permanent/></Scope><DFType><MIME>application/octet-stream</MIME></DFType></DFProperties></Node>
</Node>
<Node><NodeName>DownloadAndUpdate</NodeName><DFProperties><AccessType><Exec/><Get/></AccessType><DFFormat><node/></DFFormat><Occurrence><ZeroOrOne/></Occurrence><Scope><Permanent/></Scope><DFType><DDFName></DDFName></DFType></DFProperties>
<Node><NodeName>PkgURL</NodeName><DFProperties><AccessType><Get/><Replace/></AccessType><DFFormat><chr/></DFFormat><Occurrence><One/></Occurrence><Scope><Permanent/></Scope><DFType><MIME>text/plain</MIME></DFType></DFProperties></Node>
</Node>
<Node><NodeName>State</NodeName><DFProperties><AccessType><Get/></AccessType><DefaultValue>10</DefaultValue><DFFormat><int/></DFFormat><Occurrence><One/></Occurrence><Scope><Permanent/></Scope><DFType><MIME>text/plain</MIME></DFType></DFProperties></Node>
<Node><NodeName>Ext</NodeName><DFProperties><AccessType><Get/></AccessType><DFFormat><node/></DFFormat><Occurrence><ZeroOrOne/></Occurrence><Scope><Permanent/></Scope><DFType><DDFName></DDFName></DFType></DFProperties></Node>
</Node>
</MgmtTree>
`

// DDFXML returns the DDF document with the update package node named name
// (for example "Default" for ./FwUpdate/Default).
func DDFXML(name string) []byte {
	var esc bytes.Buffer
	xml.EscapeText(&esc, []byte(name))
	return []byte(strings.Replace(ddfTemplate, "@NAME@", esc.String(), 1))
}

// DDF parses DDFXML(name).
func DDF(name string) (*dmtree.DDF, error) { return dmtree.ParseDDF(DDFXML(name)) }

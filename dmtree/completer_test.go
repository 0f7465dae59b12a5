package dmtree_test

import (
	"strings"
	"testing"

	"github.com/omadm/omadm/dmtree"
)

// completer asks for completion of nodes whose name starts with "yes".
type completer struct{}

func (completer) Mounted(string) error { return nil }
func (completer) Complete(uri string) bool {
	return strings.HasPrefix(uri[strings.LastIndexByte(uri, '/')+1:], "yes")
}

const completerDDF = `<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>
<Node><NodeName>Obj</NodeName><DFProperties><AccessType><Get/></AccessType><DFFormat><node/></DFFormat><Occurrence><One/></Occurrence><Scope><Permanent/></Scope><DFType><DDFName>x:obj</DDFName></DFType></DFProperties>
<Node><NodeName></NodeName><DFProperties><AccessType><Add/><Get/></AccessType><DFFormat><node/></DFFormat><Occurrence><ZeroOrMore/></Occurrence><Scope><Dynamic/></Scope><DFType><DDFName></DDFName></DFType></DFProperties>
<Node><NodeName>ServerLeaf</NodeName><DFProperties><AccessType><Add/><Get/></AccessType><DFFormat><chr/></DFFormat><Occurrence><One/></Occurrence><Scope><Dynamic/></Scope><DFType><MIME>text/plain</MIME></DFType></DFProperties></Node>
<Node><NodeName>Status</NodeName><DFProperties><AccessType><Get/></AccessType><DefaultValue>10</DefaultValue><DFFormat><int/></DFFormat><Occurrence><One/></Occurrence><Scope><Dynamic/></Scope><DFType><MIME>text/plain</MIME></DFType></DFProperties></Node>
<Node><NodeName>Optional</NodeName><DFProperties><AccessType><Get/></AccessType><DFFormat><chr/></DFFormat><Occurrence><ZeroOrOne/></Occurrence><Scope><Dynamic/></Scope><DFType><MIME>text/plain</MIME></DFType></DFProperties></Node>
<Node><NodeName>Ops</NodeName><DFProperties><AccessType><Get/></AccessType><DFFormat><node/></DFFormat><Occurrence><One/></Occurrence><Scope><Dynamic/></Scope><DFType><DDFName></DDFName></DFType></DFProperties>
<Node><NodeName>Run</NodeName><DFProperties><AccessType><Exec/><Get/></AccessType><DFFormat><node/></DFFormat><Occurrence><One/></Occurrence><Scope><Dynamic/></Scope><DFType><DDFName></DDFName></DFType></DFProperties></Node>
</Node></Node></Node></MgmtTree>`

// A server that adds an instance leaves to the device the required nodes it
// may not Add itself (OMA-TS-DM_TND-V1_2 §7: AccessType); with a Completer
// the tree creates them, with their defaults, in the same command, and the
// leaves the server may Add are left for it.
func TestAdd_CompleterCreatesTheRequiredNodesAServerMayNotAdd(t *testing.T) {
	tree := dmtree.New(nil)
	d, err := dmtree.ParseDDF([]byte(completerDDF))
	if err != nil {
		t.Fatal(err)
	}
	if err := tree.Install(".", d); err != nil {
		t.Fatal(err)
	}
	if err := tree.Mount("./Obj", completer{}); err != nil {
		t.Fatal(err)
	}
	acl, _ := dmtree.NewACL(map[dmtree.Cmd][]string{dmtree.CmdAdd: {"s"}, dmtree.CmdGet: {"s"}, dmtree.CmdReplace: {"s"}})
	if err := tree.Replace("", "./Obj?prop=ACL", dmtree.Value{Data: []byte(acl.String())}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, list, status string
	}{
		{"yes1", "Status/Ops", "10"},
		{"no1", "", ""},
	} {
		if err := tree.Add("s", "./Obj/"+tc.name, dmtree.Value{Format: "node"}); err != nil {
			t.Fatal(err)
		}
		rs, err := tree.Get("s", "./Obj/"+tc.name)
		if err != nil {
			t.Fatalf("Get %s: %v", tc.name, err)
		}
		if string(rs[0].Data) != tc.list {
			t.Errorf("%s children %q (%v), want %q", tc.name, rs[0].Data, err, tc.list)
		}
		if tc.status == "" {
			continue
		}
		if rs, err := tree.Get("s", "./Obj/"+tc.name+"/Status"); err != nil || string(rs[0].Data) != tc.status {
			t.Errorf("%s Status %v %v", tc.name, rs, err)
		}
		if rs, err := tree.Get("s", "./Obj/"+tc.name+"/Ops"); err != nil || string(rs[0].Data) != "Run" {
			t.Errorf("%s Ops %v %v", tc.name, rs, err)
		}
		if err := tree.Add("s", "./Obj/"+tc.name+"/ServerLeaf", dmtree.Value{Format: "chr", Data: []byte("v")}); err != nil {
			t.Errorf("server Add of its leaf: %v", err)
		}
	}
}

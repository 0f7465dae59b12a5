package moframe_test

import (
	"context"
	"fmt"

	"github.com/omadm/omadm/dmtree"
	"github.com/omadm/omadm/mo/moframe"
	"github.com/omadm/omadm/syncml"
)

// A tiny object declared by its DDF: one Exec-able node whose work runs
// after the session and is reported in a 1226 alert with the correlator.
func Example() {
	model := moframe.MustModel([]byte(`<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD>
<Node><NodeName></NodeName><DFProperties><AccessType><Get/></AccessType><DFFormat><node/></DFFormat><Scope><Permanent/></Scope><DFType><DDFName>urn:example:mo:beep:1.0</DDFName></DFType></DFProperties>
<Node><NodeName>Beep</NodeName><DFProperties><AccessType><Exec/><Get/></AccessType><DFFormat><node/></DFFormat><Scope><Permanent/></Scope><DFType><DDFName></DDFName></DFType></DFProperties></Node>
</Node></MgmtTree>`))

	tree := dmtree.New(nil)
	uri, err := model.Install(tree, "./Vendor/Beeper", []string{"srv"})
	if err != nil {
		panic(err)
	}
	run, _ := moframe.NewRunner(moframe.RunnerConfig{Name: "beeper", Report: func(a *syncml.Alert) {
		it := a.Items[0]
		fmt.Printf("alert %d correlator %s: %s %s = %s\n", a.Data, a.Correlator, it.Meta.Type, it.Source.LocURI, it.Data.String())
	}})
	answered := make(chan struct{}) // the work runs once the Exec is answered, as after a session
	tree.Mount(uri+"/Beep", dmtree.ExecFunc(func(_ context.Context, node string, _ []byte, corr string) (syncml.StatusCode, error) {
		err := run.Begin(nil, moframe.Record{Op: "Beep", Correlator: corr}, func(context.Context) *moframe.Outcome {
			<-answered
			return &moframe.Outcome{Report: moframe.ResultReport("urn:example:at:beep", node, 1200, true)}
		})
		if err != nil {
			return 0, err
		}
		return syncml.StatusAccepted, nil
	}))

	code, _ := tree.Exec(context.Background(), "srv", uri+"/Beep", nil, "c-42")
	fmt.Println("Exec:", int(code))
	close(answered)
	run.Wait()
	// Output:
	// Exec: 202
	// alert 1226 correlator c-42: urn:example:at:beep ./Vendor/Beeper/Beep = 1200
}

package wbxml_test

import (
	"fmt"

	"github.com/omadm/omadm/wbxml"
)

// Write a tiny SyncML document and read it back token by token.
func Example() {
	w := wbxml.NewWriter(nil)
	w.WriteHeader(&wbxml.Header{PublicID: wbxml.SyncML12.PublicID})
	w.StartElement(0, wbxml.SyncMLSyncML, true)
	w.StartElement(1, wbxml.MetInfMaxMsgSize, true) // switches to code page 1
	w.String("5000")
	w.EndElement()
	w.StartElement(0, wbxml.SyncMLFinal, false) // switches back, empty element
	w.EndElement()
	fmt.Printf("% x\n", w.Bytes())

	r, err := wbxml.NewReader(w.Bytes(), nil)
	if err != nil {
		panic(err)
	}
	lang := r.Header().Language()
	for {
		t, err := r.Next()
		if err != nil || t.Kind == wbxml.KindEOF {
			break
		}
		switch t.Kind {
		case wbxml.KindStart:
			fmt.Println("start", lang.Page(t.Page).Name(t.Tag))
		case wbxml.KindText:
			fmt.Println("text", string(t.Data))
		}
	}
	x, _ := wbxml.ToXML(nil, w.Bytes(), nil, nil)
	fmt.Println(string(x))
	// Output:
	// 03 a4 01 6a 00 6d 00 01 4c 03 35 30 30 30 00 01 00 00 12 01
	// start SyncML
	// start MaxMsgSize
	// text 5000
	// start Final
	// <SyncML xmlns="SYNCML:SYNCML1.2"><MaxMsgSize xmlns="syncml:metinf">5000</MaxMsgSize><Final/></SyncML>
}

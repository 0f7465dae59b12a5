package syncml_test

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"testing"

	"github.com/omadm/omadm/syncml"
)

func benchFixture(b *testing.B, name string) []byte {
	b.Helper()
	in, err := os.ReadFile(filepath.Join("testdata", "messages", name))
	if err != nil {
		b.Fatal(err)
	}
	return in
}

var benchFiles = []struct{ name, file string }{
	{"2k", "bench-2k.xml"},
	{"100k", "bench-100k.xml"},
}

func BenchmarkDecodeXML(b *testing.B) {
	for _, f := range benchFiles {
		in := benchFixture(b, f.file)
		b.Run(f.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := syncml.DecodeXML(in, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeXML(b *testing.B) {
	for _, f := range benchFiles {
		in := benchFixture(b, f.file)
		m, err := syncml.DecodeXML(in, nil)
		if err != nil {
			b.Fatal(err)
		}
		out, err := syncml.EncodeXML(m)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(f.name, func(b *testing.B) {
			b.SetBytes(int64(len(out)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := syncml.EncodeXML(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The structs below are what a straightforward encoding/xml implementation
// would unmarshal a DM message into (commands kept in order through ",any").
// They exist only for the baseline benchmark.
type stdLoc struct {
	LocURI  string `xml:"LocURI"`
	LocName string `xml:"LocName"`
}

type stdMeta struct {
	Format     string   `xml:"Format"`
	Type       string   `xml:"Type"`
	Mark       string   `xml:"Mark"`
	Size       string   `xml:"Size"`
	NextNonce  string   `xml:"NextNonce"`
	Version    string   `xml:"Version"`
	MaxMsgSize string   `xml:"MaxMsgSize"`
	MaxObjSize string   `xml:"MaxObjSize"`
	EMI        []string `xml:"EMI"`
}

type stdCred struct {
	Meta *stdMeta `xml:"Meta"`
	Data string   `xml:"Data"`
}

type stdItem struct {
	Target *stdLoc   `xml:"Target"`
	Source *stdLoc   `xml:"Source"`
	Meta   *stdMeta  `xml:"Meta"`
	Data   *struct { // inner XML kept like the DataXML kind
		Inner string `xml:",innerxml"`
	} `xml:"Data"`
	MoreData *struct{} `xml:"MoreData"`
}

type stdCmd struct {
	XMLName   xml.Name
	CmdID     string    `xml:"CmdID"`
	NoResp    *struct{} `xml:"NoResp"`
	MsgRef    string    `xml:"MsgRef"`
	CmdRef    string    `xml:"CmdRef"`
	Cmd       string    `xml:"Cmd"`
	TargetRef []string  `xml:"TargetRef"`
	SourceRef []string  `xml:"SourceRef"`
	Cred      *stdCred  `xml:"Cred"`
	Chal      *struct {
		Meta *stdMeta `xml:"Meta"`
	} `xml:"Chal"`
	Meta       *stdMeta  `xml:"Meta"`
	Correlator string    `xml:"Correlator"`
	Data       string    `xml:"Data"`
	Items      []stdItem `xml:"Item"`
	Commands   []stdCmd  `xml:",any"`
}

type stdMessage struct {
	XMLName xml.Name `xml:"SyncML"`
	Hdr     struct {
		VerDTD    string    `xml:"VerDTD"`
		VerProto  string    `xml:"VerProto"`
		SessionID string    `xml:"SessionID"`
		MsgID     string    `xml:"MsgID"`
		Target    stdLoc    `xml:"Target"`
		Source    stdLoc    `xml:"Source"`
		RespURI   string    `xml:"RespURI"`
		NoResp    *struct{} `xml:"NoResp"`
		Cred      *stdCred  `xml:"Cred"`
		Meta      *stdMeta  `xml:"Meta"`
	} `xml:"SyncHdr"`
	Body struct {
		Commands []stdCmd `xml:",any"`
	} `xml:"SyncBody"`
}

// BenchmarkEncodingXMLUnmarshal is the baseline: encoding/xml into structs.
func BenchmarkEncodingXMLUnmarshal(b *testing.B) {
	for _, f := range benchFiles {
		in := benchFixture(b, f.file)
		b.Run(f.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				var m stdMessage
				if err := xml.Unmarshal(in, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

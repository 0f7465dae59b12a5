// Command gen writes the benchmark fixtures bench-2k.xml and bench-100k.xml
// into ../messages. They are committed; rerun with `go run .` from this
// directory after changing the generator.
package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
)

const header = `<?xml version="1.0" encoding="UTF-8"?>
<SyncML xmlns="SYNCML:SYNCML1.2">
  <SyncHdr>
    <VerDTD>1.2</VerDTD>
    <VerProto>DM/1.2</VerProto>
    <SessionID>%s</SessionID>
    <MsgID>%d</MsgID>
    <Target><LocURI>%s</LocURI></Target>
    <Source><LocURI>%s</LocURI><LocName>dmuser</LocName></Source>
    <Meta>
      <MaxMsgSize xmlns="syncml:metinf">131072</MaxMsgSize>
      <MaxObjSize xmlns="syncml:metinf">4194304</MaxObjSize>
    </Meta>
  </SyncHdr>
  <SyncBody>
`

const footer = `    <Final/>
  </SyncBody>
</SyncML>
`

const (
	server = "https://dm.example.com/dm"
	device = "IMEI:493005100592800"
)

func status(b *strings.Builder, id, msgRef, cmdRef int, cmd, target string, code int) {
	fmt.Fprintf(b, "    <Status>\n      <CmdID>%d</CmdID>\n      <MsgRef>%d</MsgRef>\n      <CmdRef>%d</CmdRef>\n      <Cmd>%s</Cmd>\n", id, msgRef, cmdRef, cmd)
	if target != "" {
		fmt.Fprintf(b, "      <TargetRef>%s</TargetRef>\n", target)
	}
	fmt.Fprintf(b, "      <Data>%d</Data>\n    </Status>\n", code)
}

// small is a server message of about 2 KB: header status, a Get and a Replace.
func small() string {
	var b strings.Builder
	fmt.Fprintf(&b, header, "1A2B", 2, device, server)
	fmt.Fprintf(&b, "    <Status>\n      <CmdID>1</CmdID>\n      <MsgRef>1</MsgRef>\n      <CmdRef>0</CmdRef>\n      <Cmd>SyncHdr</Cmd>\n      <TargetRef>%s</TargetRef>\n      <SourceRef>%s</SourceRef>\n      <Data>212</Data>\n    </Status>\n", server, device)
	status(&b, 2, 1, 1, "Alert", "", 200)
	status(&b, 3, 1, 2, "Replace", "", 200)
	b.WriteString("    <Get>\n      <CmdID>4</CmdID>\n")
	for _, u := range []string{"./DevDetail/SwV", "./DevDetail/FwV", "./DevDetail/HwV", "./DevDetail/LrgObj"} {
		fmt.Fprintf(&b, "      <Item><Target><LocURI>%s</LocURI></Target></Item>\n", u)
	}
	b.WriteString("    </Get>\n    <Replace>\n      <CmdID>5</CmdID>\n")
	for i, v := range []string{"3600", "true", "https://dm.example.com/dm", "omadm &amp; co"} {
		fmt.Fprintf(&b, "      <Item>\n        <Target><LocURI>./Vendor/Conf/Setting%d</LocURI></Target>\n        <Meta><Format xmlns=\"syncml:metinf\">chr</Format><Type xmlns=\"syncml:metinf\">text/plain</Type></Meta>\n        <Data>%s</Data>\n      </Item>\n", i+1, v)
	}
	b.WriteString("    </Replace>\n    <Exec>\n      <CmdID>6</CmdID>\n      <Correlator>job-0001</Correlator>\n      <Item><Target><LocURI>./FUMO/Pkg1/Download</LocURI></Target></Item>\n    </Exec>\n")
	b.WriteString(footer)
	return b.String()
}

// large is a client message of about 100 KB: statuses and Results of a
// ?list=StructData walk over a big vendor subtree.
func large() string {
	var b strings.Builder
	fmt.Fprintf(&b, header, "1A2B", 3, server, device)
	fmt.Fprintf(&b, "    <Status>\n      <CmdID>1</CmdID>\n      <MsgRef>2</MsgRef>\n      <CmdRef>0</CmdRef>\n      <Cmd>SyncHdr</Cmd>\n      <TargetRef>%s</TargetRef>\n      <SourceRef>%s</SourceRef>\n      <Data>200</Data>\n    </Status>\n", device, server)
	status(&b, 2, 2, 4, "Get", "./Vendor/Apps?list=StructData", 200)
	b.WriteString("    <Results>\n      <CmdID>3</CmdID>\n      <MsgRef>2</MsgRef>\n      <CmdRef>4</CmdRef>\n")
	for i := 0; b.Len() < 100*1024-400; i++ {
		app := i / 4
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "      <Item>\n        <Source><LocURI>./Vendor/Apps/App%04d</LocURI></Source>\n        <Meta><Format xmlns=\"syncml:metinf\">node</Format></Meta>\n        <Data>Name/Version/Enabled</Data>\n      </Item>\n", app)
		case 1:
			fmt.Fprintf(&b, "      <Item>\n        <Source><LocURI>./Vendor/Apps/App%04d/Name</LocURI></Source>\n        <Meta><Format xmlns=\"syncml:metinf\">chr</Format><Type xmlns=\"syncml:metinf\">text/plain</Type></Meta>\n        <Data>com.example.app%04d &amp; helper</Data>\n      </Item>\n", app, app)
		case 2:
			fmt.Fprintf(&b, "      <Item>\n        <Source><LocURI>./Vendor/Apps/App%04d/Version</LocURI></Source>\n        <Meta><Format xmlns=\"syncml:metinf\">chr</Format></Meta>\n        <Data>%d.%d.%d</Data>\n      </Item>\n", app, app%7, app%13, app)
		case 3:
			fmt.Fprintf(&b, "      <Item>\n        <Source><LocURI>./Vendor/Apps/App%04d/Enabled</LocURI></Source>\n        <Meta><Format xmlns=\"syncml:metinf\">bool</Format></Meta>\n        <Data>%t</Data>\n      </Item>\n", app, app%2 == 0)
		}
	}
	b.WriteString("    </Results>\n")
	b.WriteString(footer)
	return b.String()
}

func main() {
	dir := filepath.Join("..", "messages")
	for name, body := range map[string]string{"bench-2k.xml": small(), "bench-100k.xml": large()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

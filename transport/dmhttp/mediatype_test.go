package dmhttp_test

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"

	"github.com/omadm/omadm/server"
	"github.com/omadm/omadm/syncml"
	"github.com/omadm/omadm/transport/dmhttp"
)

// encodingEngine answers in the DM type of the request's encoding, as the
// server engine does.
type encodingEngine struct{ gotType string }

func (e *encodingEngine) Handle(_ context.Context, in *server.Inbound) (*server.Outbound, error) {
	e.gotType = in.ContentType
	enc, _ := syncml.Detect(in.ContentType, in.Body)
	return &server.Outbound{Body: []byte("<SyncML/>"), ContentType: enc.ContentType()}, nil
}

// Real device libraries post DM messages with the SyncML DS media types;
// the server takes both families, parameters and any case (RFC 9110 §8.3.1),
// and answers in the family the device used.
func TestHandler_AcceptsDMAndDSMediaTypesAndAnswersInTheirFamily(t *testing.T) {
	tests := []struct {
		name, sent, reply string
	}{
		{"DM XML", syncml.ContentTypeXML, syncml.ContentTypeXML},
		{"DM WBXML", syncml.ContentTypeWBXML, syncml.ContentTypeWBXML},
		{"DM XML with charset", syncml.ContentTypeXML + "; charset=UTF-8", syncml.ContentTypeXML},
		{"DS XML", "application/vnd.syncml+xml", dmhttp.ContentTypeDSXML},
		{"DS WBXML", "application/vnd.syncml+wbxml", dmhttp.ContentTypeDSWBXML},
		{"DS XML with charset", "application/vnd.syncml+xml; charset=UTF-8", dmhttp.ContentTypeDSXML},
		{"DS XML other case", "Application/Vnd.SyncML+XML;Charset=utf-8", dmhttp.ContentTypeDSXML},
		{"DS WBXML other case", "APPLICATION/VND.SYNCML+WBXML", dmhttp.ContentTypeDSWBXML},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eng := &encodingEngine{}
			base := serve(t, dmhttp.NewHandler(eng, &dmhttp.HandlerOptions{Logger: quiet()}))
			req, _ := http.NewRequest(http.MethodPost, base+"/dm", strings.NewReader("<SyncML/>"))
			req.Header.Set("Content-Type", tc.sent)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got := resp.Header.Get("Content-Type"); got != tc.reply {
				t.Errorf("reply Content-Type %q, want %q", got, tc.reply)
			}
			if eng.gotType != tc.sent {
				t.Errorf("engine saw %q, want the request's %q", eng.gotType, tc.sent)
			}
		})
	}
}

func TestHandler_UnknownMediaTypeIs415NamingTheAcceptedOnes(t *testing.T) {
	for _, ct := range []string{"", "text/plain", "application/xml", "application/json", "application/vnd.syncml.ds+xml", "application/vnd.syncml+xml; =bad"} {
		t.Run(ct, func(t *testing.T) {
			base := serve(t, dmhttp.NewHandler(&encodingEngine{}, &dmhttp.HandlerOptions{Logger: quiet()}))
			req, _ := http.NewRequest(http.MethodPost, base+"/dm", strings.NewReader("<SyncML/>"))
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnsupportedMediaType {
				t.Fatalf("status %d, want 415", resp.StatusCode)
			}
			for _, want := range []string{syncml.ContentTypeXML, syncml.ContentTypeWBXML, dmhttp.ContentTypeDSXML, dmhttp.ContentTypeDSWBXML} {
				if !strings.Contains(string(body), want) {
					t.Errorf("415 body %q does not name %s", body, want)
				}
			}
			if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/plain" {
				t.Errorf("415 Content-Type %q", resp.Header.Get("Content-Type"))
			}
		})
	}
}

package auth_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/syncml"
)

// vectors reads testdata/vectors.txt, produced by testdata/vectors.sh with
// openssl and base64 (an independent implementation).
func vectors(t testing.TB) map[string]string {
	t.Helper()
	f, err := os.Open("testdata/vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if ok {
			m[name] = val
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

func vec(t testing.TB, m map[string]string, name string) string {
	t.Helper()
	v, ok := m[name]
	if !ok {
		t.Fatalf("vector %q missing from testdata/vectors.txt", name)
	}
	return v
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const user, pass = "Bruce2", "OhBehave"

func TestCredentials_MatchSpecExamplesAndIndependentVectors(t *testing.T) {
	v := vectors(t)
	binNonce := unhex(t, "ff00803ac3280a7f")
	wbxml := unhex(t, "02a4016a00")
	tests := []struct {
		name, vector, got string
	}{
		{"basic spec example", "basic.Bruce2.OhBehave", auth.BasicCredential(user, pass)},
		{"stored user hash", "userhash.Bruce2.OhBehave", auth.UserHash(user, pass)},
		{"md5 spec example nonce Nonce", "md5.Bruce2.OhBehave.text", auth.MD5Credential(user, pass, []byte("Nonce"))},
		{"md5 binary nonce hashed as bytes", "md5.Bruce2.OhBehave.bin", auth.MD5Credential(user, pass, binNonce)},
		{"md5 empty nonce", "md5.Bruce2.OhBehave.empty", auth.MD5Credential(user, pass, nil)},
		{"md5 from stored hash", "md5.Bruce2.OhBehave.bin", auth.MD5CredentialHash(auth.UserHash(user, pass), binNonce)},
		{"mac xml body", "mac.Bruce2.OhBehave.text.xml", auth.HMACMAC(user, pass, []byte("Nonce"), []byte("<SyncML/>"))},
		{"mac binary nonce", "mac.Bruce2.OhBehave.bin.xml", auth.HMACMAC(user, pass, binNonce, []byte("<SyncML/>"))},
		{"mac wbxml body", "mac.Bruce2.OhBehave.bin.wbxml", auth.HMACMAC(user, pass, binNonce, wbxml)},
		{"mac from stored hash", "mac.Bruce2.OhBehave.bin.wbxml", auth.HMACMACHash(auth.UserHash(user, pass), binNonce, wbxml)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if want := vec(t, v, tt.vector); tt.got != want {
				t.Errorf("got %s, want %s", tt.got, want)
			}
		})
	}
	// The spec's own worked examples, independent of the file.
	if got := auth.BasicCredential(user, pass); got != "QnJ1Y2UyOk9oQmVoYXZl" {
		t.Errorf("basic = %s", got)
	}
	if got := auth.MD5Credential(user, pass, []byte("Nonce")); got != "Zz6EivR3yeaaENcRN6lpAQ==" {
		t.Errorf("md5 = %s", got)
	}
}

func TestVerify_AcceptsGoodAndRejectsTamperedCredentials(t *testing.T) {
	v := vectors(t)
	binNonce := unhex(t, "ff00803ac3280a7f")
	md5 := vec(t, v, "md5.Bruce2.OhBehave.bin")
	basic := vec(t, v, "basic.Bruce2.OhBehave")
	uh := auth.UserHash(user, pass)
	tests := []struct {
		name string
		ok   bool
		want bool
	}{
		{"basic good", auth.VerifyBasic(basic, user, pass), true},
		{"basic wrong password", auth.VerifyBasic(basic, user, "x"), false},
		{"basic hash good", auth.VerifyBasicHash(basic, user, uh), true},
		{"basic hash wrong user", auth.VerifyBasicHash(basic, "Bruce", uh), false},
		{"basic hash not base64", auth.VerifyBasicHash("!!", user, uh), false},
		{"md5 good", auth.VerifyMD5(md5, user, pass, binNonce), true},
		{"md5 nonce as text is wrong", auth.VerifyMD5(md5, user, pass, []byte(hex.EncodeToString(binNonce))), false},
		{"md5 stale nonce", auth.VerifyMD5(md5, user, pass, []byte("Nonce")), false},
		{"md5 tampered", auth.VerifyMD5("A"+md5[1:], user, pass, binNonce), false},
		{"md5 hash good", auth.VerifyMD5Hash(md5, uh, binNonce), true},
		{"md5 empty data", auth.VerifyMD5("", user, pass, binNonce), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.ok != tt.want {
				t.Errorf("got %v, want %v", tt.ok, tt.want)
			}
		})
	}
}

func TestVerifyHMAC_ChecksExactBodyBytesUserAndAlgorithm(t *testing.T) {
	nonce := unhex(t, "ff00803ac3280a7f")
	body := []byte("<SyncML>\r\n</SyncML>")
	h := auth.NewHMACHeader(user, pass, nonce, body)
	parsed, err := auth.ParseHMACHeader(h.String())
	if err != nil {
		t.Fatal(err)
	}
	uh := auth.UserHash(user, pass)
	tests := []struct {
		name string
		ok   bool
		want bool
	}{
		{"good", auth.VerifyHMAC(parsed, user, pass, nonce, body), true},
		{"good from hash", auth.VerifyHMACHash(parsed, user, uh, nonce, body), true},
		{"body with one byte changed", auth.VerifyHMAC(parsed, user, pass, nonce, []byte("<SyncML>\n</SyncML>")), false},
		{"other user", auth.VerifyHMAC(parsed, "Bruce3", pass, nonce, body), false},
		{"other nonce", auth.VerifyHMAC(parsed, user, pass, []byte("Nonce"), body), false},
		{"non-MD5 algorithm", auth.VerifyHMAC(auth.HMACHeader{Algorithm: "SHA1", Username: user, MAC: h.MAC}, user, pass, nonce, body), false},
		{"absent algorithm means MD5", auth.VerifyHMAC(auth.HMACHeader{Username: user, MAC: h.MAC}, user, pass, nonce, body), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.ok != tt.want {
				t.Errorf("got %v, want %v", tt.ok, tt.want)
			}
		})
	}
}

func TestParseHMACHeader_ToleratesSpacingOrderCaseAndQuoting(t *testing.T) {
	want := auth.HMACHeader{Algorithm: "MD5", Username: "Bruce2", MAC: "urdCeS3JUmjFgi8SX3webw=="}
	tests := []struct {
		name, in string
		want     auth.HMACHeader
	}{
		{"spec layout", `algorithm=MD5, username="Bruce2", mac=urdCeS3JUmjFgi8SX3webw==`, want},
		{"no spaces", `algorithm=MD5,username="Bruce2",mac=urdCeS3JUmjFgi8SX3webw==`, want},
		{"extra spaces around =", ` algorithm = MD5 ,  username = "Bruce2" , mac = urdCeS3JUmjFgi8SX3webw== `, want},
		{"other order", `mac=urdCeS3JUmjFgi8SX3webw==, username="Bruce2", algorithm=MD5`, want},
		{"upper-case names", `ALGORITHM=MD5, UserName="Bruce2", MAC=urdCeS3JUmjFgi8SX3webw==`, want},
		{"all quoted", `algorithm="MD5", username="Bruce2", mac="urdCeS3JUmjFgi8SX3webw=="`, want},
		{"unquoted username", `algorithm=MD5, username=Bruce2, mac=urdCeS3JUmjFgi8SX3webw==`, want},
		{"space separated", `algorithm=MD5 username="Bruce2" mac=urdCeS3JUmjFgi8SX3webw==`, want},
		{"tabs and trailing comma", "algorithm=MD5,\tusername=\"Bruce2\",\tmac=urdCeS3JUmjFgi8SX3webw==,", want},
		{"algorithm absent", `username="Bruce2", mac=urdCeS3JUmjFgi8SX3webw==`, auth.HMACHeader{Username: "Bruce2", MAC: want.MAC}},
		{"lower-case md5", `algorithm=md5, username="Bruce2", mac=urdCeS3JUmjFgi8SX3webw==`, auth.HMACHeader{Algorithm: "md5", Username: "Bruce2", MAC: want.MAC}},
		{"unknown parameter ignored", `realm="x", username="Bruce2", mac=urdCeS3JUmjFgi8SX3webw==, algorithm=MD5`, want},
		{"quoted user with comma, quote and backslash", `username="a,\"b\\c", mac=m`, auth.HMACHeader{Username: `a,"b\c`, MAC: "m"}},
		{"empty user name", `username="", mac=m`, auth.HMACHeader{MAC: "m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.ParseHMACHeader(tt.in)
			if err != nil {
				t.Fatalf("ParseHMACHeader: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseHMACHeader_RejectsMalformedWithClearError(t *testing.T) {
	tests := []struct{ name, in, msg string }{
		{"empty", ``, "missing username"},
		{"no mac", `algorithm=MD5, username="u"`, "missing mac"},
		{"empty mac", `username="u", mac=`, "missing mac"},
		{"no username", `algorithm=MD5, mac=abc`, "missing username"},
		{"repeated mac", `username=u, mac=a, mac=b`, "repeated"},
		{"sha1", `algorithm=SHA1, username=u, mac=a`, "unsupported algorithm"},
		{"unterminated quote", `username="u, mac=a`, "unterminated"},
		{"name without value", `username, mac=a`, "has no value"},
		{"too long", `username=u, mac=` + strings.Repeat("A", auth.MaxHMACHeaderLen), "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth.ParseHMACHeader(tt.in)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, auth.ErrHMACHeader) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q, want one wrapping ErrHMACHeader mentioning %q", err, tt.msg)
			}
		})
	}
}

func TestHMACHeader_StringRoundTripsThroughParse(t *testing.T) {
	for _, h := range []auth.HMACHeader{
		{Algorithm: "MD5", Username: "Bruce2", MAC: "urdCeS3JUmjFgi8SX3webw=="},
		{Algorithm: "MD5", Username: `we"ird\user, name`, MAC: "x=="},
	} {
		got, err := auth.ParseHMACHeader(h.String())
		if err != nil || got != h {
			t.Errorf("round trip of %+v: got %+v, %v (text %s)", h, got, err, h.String())
		}
	}
	if s := (auth.HMACHeader{Username: "u", MAC: "m"}).String(); s != `algorithm=MD5, username="u", mac=m` {
		t.Errorf("String = %s", s)
	}
}

func TestNewNonce_IsSixteenFreshBytes(t *testing.T) {
	a, b := auth.NewNonce(), auth.NewNonce()
	if len(a) != 16 || len(b) != 16 {
		t.Fatalf("lengths %d, %d", len(a), len(b))
	}
	if bytes.Equal(a, b) {
		t.Error("two nonces are equal")
	}
}

func TestMakeCred_BuildsB64CredsThatCheckCredAccepts(t *testing.T) {
	nonce := []byte{0, 0xff, ':', 0x80}
	for _, scheme := range []string{syncml.AuthBasic, syncml.AuthMD5} {
		c := auth.MakeCred(scheme, user, pass, nonce)
		if c == nil || c.Meta.Type != scheme || c.Meta.Format != "b64" {
			t.Fatalf("%s: MakeCred = %+v", scheme, c)
		}
		if err := auth.CheckCred(c, scheme, user, pass, nonce); err != nil {
			t.Errorf("%s: CheckCred: %v", scheme, err)
		}
		if err := auth.CheckCredHash(c, scheme, user, auth.UserHash(user, pass), nonce); err != nil {
			t.Errorf("%s: CheckCredHash: %v", scheme, err)
		}
	}
	if c := auth.MakeCred(syncml.AuthMAC, user, pass, nonce); c != nil {
		t.Errorf("MAC cred = %+v, want nil (MAC travels in a header)", c)
	}
}

func TestCheckCred_Answers407ForMissingAnd401ForWrong(t *testing.T) {
	nonce := []byte("Nonce")
	md5 := auth.MakeCred(syncml.AuthMD5, user, pass, nonce)
	basic := auth.MakeCred(syncml.AuthBasic, user, pass, nil)
	untyped := &syncml.Cred{Data: basic.Data}
	tests := []struct {
		name   string
		cred   *syncml.Cred
		scheme string
		nonce  []byte
		want   syncml.StatusCode
	}{
		{"md5 good", md5, syncml.AuthMD5, nonce, syncml.StatusOK},
		{"no cred", nil, syncml.AuthMD5, nonce, syncml.StatusMissingCredentials},
		{"empty data", &syncml.Cred{Meta: &syncml.Meta{Type: syncml.AuthMD5}}, syncml.AuthMD5, nonce, syncml.StatusMissingCredentials},
		{"basic sent, md5 wanted", basic, syncml.AuthMD5, nonce, syncml.StatusInvalidCredentials},
		{"stale nonce", md5, syncml.AuthMD5, []byte("old"), syncml.StatusInvalidCredentials},
		{"untyped cred is basic", untyped, syncml.AuthBasic, nil, syncml.StatusOK},
		{"bad format", &syncml.Cred{Meta: &syncml.Meta{Type: syncml.AuthBasic, Format: "chr"}, Data: basic.Data}, syncml.AuthBasic, nil, syncml.StatusInvalidCredentials},
		{"MAC is not a Cred scheme", md5, syncml.AuthMAC, nonce, syncml.StatusInvalidCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := auth.CheckCred(tt.cred, tt.scheme, user, pass, tt.nonce)
			if got := syncml.StatusOf(err); got != tt.want {
				t.Errorf("status %d (%v), want %d", got, err, tt.want)
			}
			var se *syncml.StatusError
			if err != nil && !errors.As(err, &se) {
				t.Errorf("error %T is not a *syncml.StatusError", err)
			}
		})
	}
}

func TestBasicUser_FindsTheAccountName(t *testing.T) {
	if u, err := auth.BasicUser(auth.BasicCredential("dev:1", "p:w")); err != nil || u != "dev" {
		t.Errorf("got %q, %v", u, err)
	}
	for _, bad := range []string{"***", "bm9jb2xvbg=="} { // not base64; "nocolon"
		if _, err := auth.BasicUser(bad); err == nil {
			t.Errorf("BasicUser(%q): no error", bad)
		}
	}
}

func TestChalNonce_DecodesB64AndKeepsRawBytes(t *testing.T) {
	bin := []byte{0xff, 0x00, 0x80, ':'}
	tests := []struct {
		name    string
		chal    *syncml.Chal
		want    []byte
		wantErr bool
	}{
		{"made by MakeChal", auth.MakeChal(syncml.AuthMD5, bin), bin, false},
		{"b64 with line break", &syncml.Chal{Meta: &syncml.Meta{Format: "b64", NextNonce: "Tm9u\r\nY2U="}}, []byte("Nonce"), false},
		{"b64 without padding", &syncml.Chal{Meta: &syncml.Meta{Format: "b64", NextNonce: "Tm9uY2U"}}, []byte("Nonce"), false},
		{"b64 invalid", &syncml.Chal{Meta: &syncml.Meta{Format: "b64", NextNonce: "Nonce!"}}, nil, true},
		{"format absent, base64", &syncml.Chal{Meta: &syncml.Meta{NextNonce: "Tm9uY2U="}}, []byte("Nonce"), false},
		{"format absent, raw", &syncml.Chal{Meta: &syncml.Meta{NextNonce: "Nonce"}}, []byte("Nonce"), false},
		{"format bin (WBXML opaque)", &syncml.Chal{Meta: &syncml.Meta{Format: "bin", NextNonce: string(bin)}}, bin, false},
		{"basic, no nonce", auth.MakeChal(syncml.AuthBasic, nil), nil, false},
		{"no meta", &syncml.Chal{}, nil, true},
		{"nil", nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.ChalNonce(tt.chal)
			if (err != nil) != tt.wantErr || !bytes.Equal(got, tt.want) {
				t.Errorf("got %x, %v; want %x, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	c := auth.MakeChal(syncml.AuthMD5, []byte("Nonce"))
	if c.Meta.Type != syncml.AuthMD5 || c.Meta.Format != "b64" || c.Meta.NextNonce != "Tm9uY2U=" {
		t.Errorf("MakeChal = %+v", c.Meta)
	}
}

func TestDecide_MakesThe212_200_401_407Choices(t *testing.T) {
	md5, basic, mac := syncml.AuthMD5, syncml.AuthBasic, syncml.AuthMAC
	tests := []struct {
		name string
		in   auth.Check
		want auth.Decision
	}{
		{"no auth required", auth.Check{}, auth.Decision{Status: 200}},
		{"missing creds", auth.Check{Expected: md5}, auth.Decision{Status: 407, Challenge: true}},
		{"wrong scheme", auth.Check{Received: basic, Expected: md5, Verified: true}, auth.Decision{Status: 401, Challenge: true}},
		{"bad md5", auth.Check{Received: md5, Expected: md5}, auth.Decision{Status: 401, Challenge: true}},
		{"bad md5 after one challenge", auth.Check{Received: md5, Expected: md5, Challenges: 1}, auth.Decision{Status: 401, Challenge: true}},
		{"bad md5 after two challenges ends", auth.Check{Received: md5, Expected: md5, Challenges: 2}, auth.Decision{Status: 401, EndSession: true}},
		{"still missing after two challenges", auth.Check{Expected: md5, Challenges: 2}, auth.Decision{Status: 407, EndSession: true}},
		{"md5 ok for session", auth.Check{Received: md5, Expected: md5, Verified: true}, auth.Decision{Status: 212, Challenge: true}},
		{"basic ok for session", auth.Check{Received: basic, Expected: basic, Verified: true}, auth.Decision{Status: 212}},
		{"md5 ok per message", auth.Check{Received: md5, Expected: md5, Verified: true, PerMessage: true}, auth.Decision{Status: 200, Challenge: true}},
		{"basic ok per message", auth.Check{Received: basic, Expected: basic, Verified: true, PerMessage: true}, auth.Decision{Status: 200}},
		{"hmac ok is always 200 with next nonce", auth.Check{Received: mac, Expected: mac, Verified: true}, auth.Decision{Status: 200, Challenge: true}},
		{"hmac missing", auth.Check{Expected: mac}, auth.Decision{Status: 407, Challenge: true}},
		{"basic to hmac challenge", auth.Check{Received: basic, Expected: mac, Verified: true}, auth.Decision{Status: 401, Challenge: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auth.Decide(tt.in); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRespond_TellsTheClientWhatToDoNext(t *testing.T) {
	md5Chal := auth.MakeChal(syncml.AuthMD5, []byte("N2"))
	tests := []struct {
		name    string
		code    syncml.StatusCode
		chal    *syncml.Chal
		retries int
		want    auth.ClientAction
		scheme  string
		nonce   string
		wantErr bool
	}{
		{"212 with next-session nonce", 212, md5Chal, 0, auth.ActionAuthenticated, syncml.AuthMD5, "N2", false},
		{"200 send again with new nonce", 200, md5Chal, 0, auth.ActionSendAgain, syncml.AuthMD5, "N2", false},
		{"407 switch scheme", 407, md5Chal, 0, auth.ActionRetry, syncml.AuthMD5, "N2", false},
		{"401 retry", 401, md5Chal, 1, auth.ActionRetry, syncml.AuthMD5, "N2", false},
		{"401 after two retries", 401, md5Chal, 2, auth.ActionFail, syncml.AuthMD5, "N2", true},
		{"401 without chal", 401, nil, 0, auth.ActionFail, syncml.AuthBasic, "", true},
		{"hmac challenge unsupported by default", 401, auth.MakeChal(syncml.AuthMAC, []byte("x")), 0, auth.ActionFail, syncml.AuthMAC, "x", true},
		{"undecodable nonce", 401, &syncml.Chal{Meta: &syncml.Meta{Type: syncml.AuthMD5, Format: "b64", NextNonce: "%%%"}}, 0, auth.ActionFail, syncml.AuthMD5, "", true},
		{"not an auth status", 500, nil, 0, auth.ActionFail, syncml.AuthBasic, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, err := auth.Respond(tt.code, tt.chal, syncml.AuthBasic, tt.retries, nil)
			if (err != nil) != tt.wantErr || step.Action != tt.want || step.Scheme != tt.scheme || string(step.Nonce) != tt.nonce {
				t.Errorf("got %+v (%v), %v; want %v %s %q err=%v", step, step.Action, err, tt.want, tt.scheme, tt.nonce, tt.wantErr)
			}
		})
	}
}

package auth_test

import (
	"bufio"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/omadm/omadm/auth"
)

// bootstrapVectors reads testdata/bootstrap-vectors.txt (made by openssl in
// bootstrap-vectors.sh): name, key, mac per line.
func bootstrapVectors(t *testing.T) [][3]string {
	t.Helper()
	f, err := os.Open("testdata/bootstrap-vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][3]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Fields(sc.Text())
		if len(p) != 3 {
			t.Fatalf("bad vector line %q", sc.Text())
		}
		out = append(out, [3]string{p[0], p[1], p[2]})
	}
	if len(out) == 0 {
		t.Fatal("no vectors")
	}
	return out
}

func TestBootstrapMAC_MatchesOpenSSLVectors(t *testing.T) {
	msg, err := os.ReadFile("testdata/bootstrap.msg")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range bootstrapVectors(t) {
		t.Run(v[0], func(t *testing.T) {
			if got := auth.BootstrapMAC([]byte(v[1]), msg); got != v[2] {
				t.Fatalf("BootstrapMAC = %s, want %s", got, v[2])
			}
			sec := strings.ToUpper(v[0])
			if err := auth.VerifyBootstrap(sec, []byte(v[1]), msg, strings.ToUpper(v[2])); err != nil {
				t.Fatalf("VerifyBootstrap: %v", err)
			}
		})
	}
}

func TestVerifyBootstrap_RejectsTamperingAndBadParameters(t *testing.T) {
	msg, _ := os.ReadFile("testdata/bootstrap.msg")
	good := auth.BootstrapMAC([]byte("1234"), msg)
	tampered := append([]byte(nil), msg...)
	tampered[len(tampered)-1] ^= 1
	tests := []struct {
		name, sec, key, mac string
		msg                 []byte
		wantMAC             bool // the error is ErrBootstrapMAC
	}{
		{name: "tampered message", sec: "USERPIN", key: "1234", mac: good, msg: tampered, wantMAC: true},
		{name: "wrong key", sec: "USERPIN", key: "4321", mac: good, msg: msg, wantMAC: true},
		{name: "unknown mechanism", sec: "PASSWORD", key: "1234", mac: good, msg: msg},
		{name: "empty key", sec: "NETWORKID", key: "", mac: good, msg: msg},
		{name: "short mac", sec: "USERPIN", key: "1234", mac: good[:38], msg: msg},
		{name: "non-hex mac", sec: "USERPIN", key: "1234", mac: strings.Repeat("z", 40), msg: msg},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := auth.VerifyBootstrap(tc.sec, []byte(tc.key), tc.msg, tc.mac)
			if err == nil || errors.Is(err, auth.ErrBootstrapMAC) != tc.wantMAC {
				t.Fatalf("err = %v, want MAC failure %v", err, tc.wantMAC)
			}
		})
	}
}

func TestIMSIKey(t *testing.T) {
	for _, tc := range []struct {
		imsi, want, err string
	}{
		// 15 digits: type/parity nibble 9, no padding.
		{imsi: "404020506708200", want: "4940205060072800"},
		{imsi: "262011234567890", want: "2926102143658709"},
		// 14 digits: nibble 1, padded with F.
		{imsi: "21407650123456", want: "21417056103254f6"},
		{imsi: " 001010123456789 ", want: "0910101032547698"},
		{imsi: "12345", err: "6 to 15"},
		{imsi: "1234567890123456", err: "6 to 15"},
		{imsi: "26201123456789x", err: "digits only"},
	} {
		t.Run(tc.imsi, func(t *testing.T) {
			got, err := auth.IMSIKey(tc.imsi)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("IMSIKey(%q) = %x, %v; want an error mentioning %q", tc.imsi, got, err, tc.err)
				}
				return
			}
			if err != nil || hex.EncodeToString(got) != tc.want {
				t.Fatalf("IMSIKey(%q) = %x, %v; want %s", tc.imsi, got, err, tc.want)
			}
		})
	}
}

// OMA-TS-DM_Security-V1_2 §5.1.7.2 names NETWORKID, USERPIN and
// USERPIN_NETWORKID; OMA provisioning bootstrap's NETWPIN, USERNETWPIN and
// the WSP codes 0-3 name the same methods.
func TestParseBootstrapSec_AcceptsBothSpellingsAndCodes(t *testing.T) {
	for in, want := range map[string]string{
		"NETWORKID": auth.BootstrapNetworkID, "netwpin": auth.BootstrapNetworkID, "0": auth.BootstrapNetworkID,
		"USERPIN": auth.BootstrapUserPIN, "1": auth.BootstrapUserPIN,
		"USERPIN_NETWORKID": auth.BootstrapUserPINNetworkID, "USERNETWPIN": auth.BootstrapUserPINNetworkID,
		"USERPINMAC": auth.BootstrapUserPINMAC, "3": auth.BootstrapUserPINMAC,
	} {
		if got, err := auth.ParseBootstrapSec(in); err != nil || got != want {
			t.Errorf("ParseBootstrapSec(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := auth.ParseBootstrapSec("NONE"); err == nil {
		t.Error("NONE accepted")
	}
}

// USERPINMAC (OMA provisioning bootstrap): the user's PIN is a key and as
// many digits of HMAC-SHA1(key, msg), each a MAC byte mod 10.
func TestUserPINMAC_RoundTripsAndRejectsAnotherMessage(t *testing.T) {
	msg := []byte("bootstrap body")
	pin, err := auth.UserPINMAC("1234", msg)
	if err != nil || len(pin) != 8 || pin[:4] != "1234" {
		t.Fatalf("UserPINMAC = %q, %v", pin, err)
	}
	if err := auth.VerifyUserPINMAC(pin, msg); err != nil {
		t.Fatal(err)
	}
	if err := auth.VerifyUserPINMAC(pin, []byte("other body")); !errors.Is(err, auth.ErrBootstrapMAC) {
		t.Fatalf("other message: %v, want ErrBootstrapMAC", err)
	}
}

// A device takes only the methods its policy names, keyed as that method
// says; anything else is refused with the reason.
func TestBootstrapPolicy_Check(t *testing.T) {
	msg := []byte{0x02, 0x00, 0x00, 0x6a, 0x00, 0x6d}
	imsi, _ := auth.IMSIKey("310150123456789")
	pol := &auth.BootstrapPolicy{Accept: []string{"NETWPIN", "USERNETWPIN"}, Network: imsi, PIN: "4321"}
	netMAC := auth.BootstrapMAC(imsi, msg)
	both, _ := auth.BootstrapKey("USERPIN_NETWORKID", imsi, "4321")
	tests := []struct {
		name, sec, mac string
		ok             bool
		why            string
	}{
		{"network PIN", "NETWORKID", netMAC, true, ""},
		{"network PIN, code", "0", netMAC, true, ""},
		{"user and network PIN", "USERNETWPIN", auth.BootstrapMAC(both, msg), true, ""},
		{"wrong MAC", "NETWORKID", auth.BootstrapMAC([]byte("other"), msg), false, "does not verify"},
		{"method not accepted", "USERPIN", auth.BootstrapMAC([]byte("4321"), msg), false, "not accepted"},
		{"no security", "", "", false, "no security"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := pol.Check(tc.sec, tc.mac, msg)
			if tc.ok != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("Check = %v, want ok=%v (%s)", err, tc.ok, tc.why)
			}
		})
	}
}

package notification_test

import (
	"bufio"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/omadm/omadm/notification"
)

// vector is one line of testdata/vectors.txt, computed by testdata/vectors.sh
// with openssl (an implementation independent of the code under test).
type vector struct {
	name, password  string
	serverID        string
	nonce, vendor   []byte
	trigger, digest []byte
	pkg             notification.Package0
}

func loadVectors(t testing.TB) map[string]vector {
	t.Helper()
	f, err := os.Open("testdata/vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]vector{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		kv := map[string]string{}
		for _, f := range strings.Fields(sc.Text()) {
			k, v, _ := strings.Cut(f, "=")
			kv[k] = v
		}
		num := func(k string) int {
			n, err := strconv.Atoi(kv[k])
			if err != nil {
				t.Fatalf("vector %s: %s: %v", kv["name"], k, err)
			}
			return n
		}
		v := vector{
			name:     kv["name"],
			password: kv["pw"],
			serverID: string(unhex(t, kv["sid"])),
			nonce:    unhex(t, kv["nonce"]),
			vendor:   unhex(t, kv["vendor"]),
			trigger:  unhex(t, kv["trigger"]),
			digest:   unhex(t, kv["digest"]),
		}
		v.pkg = notification.Package0{
			Version:   num("ver"),
			UIMode:    notification.UIMode(num("ui")),
			Initiator: notification.Initiator(num("init")),
			SessionID: uint16(num("session")),
			ServerID:  v.serverID,
			Vendor:    v.vendor,
		}
		out[v.name] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no vectors")
	}
	return out
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.Join(strings.Fields(s), "")
	if s == "" {
		return nil
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// specSMS is the example SMS of OMA-TS-DM_Notification-V1_2 (appendix) with
// the digest of the spec vector filled in.
func specSMS(t testing.TB) []byte {
	return unhex(t, `06 05 04 0B 84 C0 02   01 06 03 C4 AF 87
		2e84b4d47d65793a313fb4b5ffcbaac5
		02 D0 00 00 00  12 34  12
		63 6F 6D 2E 6D 67 6D 74 73 72 76 2E 6D 61 6E 61 67 65`)
}

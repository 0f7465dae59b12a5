package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runNotify runs a fresh "notify" command in-process and returns its output
// and the exit status main would use.
func runNotify(t *testing.T, stdin []byte, args ...string) (string, int, error) {
	t.Helper()
	cmd := newNotifyCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(bytes.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.Execute()
	code := 0
	if err != nil {
		code = 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
	}
	return out.String(), code, err
}

// A package 0 vector (OMA-TS-DM_Notification-V1_2 digest; computed independently
// with openssl, see notification/testdata/vectors.sh).
const specPkgHex = "2e84b4d47d65793a313fb4b5ffcbaac502d0000000123412636f6d2e6d676d747372762e6d616e616765"

var specArgs = []string{"--server-id", "com.mgmtsrv.manage", "--password", "srvpwd", "--nonce", "srvnonce",
	"--session-id", "0x1234", "--ui-mode", "background", "--initiator", "client"}

func TestNotifyEncode_PrintsTheSpecVectorForEveryBearer(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"raw", nil, specPkgHex + "\n"},
		{"wap-push", []string{"--bearer", "wap-push"}, "010603c4af87" + specPkgHex + "\n"},
		{"sms", []string{"--bearer", "sms"}, "0605040b8423f0010603c4af87" + specPkgHex + "\n"},
		{"nonce as base64", []string{"--nonce", "c3J2bm9uY2U=", "--nonce-b64"}, specPkgHex + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code, err := runNotify(t, nil, append(append([]string{"encode"}, specArgs...), tt.args...)...)
			if code != 0 || out != tt.want {
				t.Errorf("exit %d (%v), output %q, want %q", code, err, out, tt.want)
			}
		})
	}
}

func TestNotifyEncode_BinaryOutputAndOptions(t *testing.T) {
	out, code, err := runNotify(t, nil, append(append([]string{"encode"}, specArgs...), "-o", "bin", "--version", "12", "--vendor", "ca fe")...)
	if code != 0 {
		t.Fatalf("exit %d: %v", code, err)
	}
	b := []byte(out)
	if len(b) != 44 || b[16] != 0x03 || b[17] != 0x10 || !bytes.HasSuffix(b, []byte{0xca, 0xfe}) {
		t.Errorf("output %x", b)
	}
	// Long vendor data needs several SMs: one hex line each, binary refused.
	long := strings.Repeat("ab", 300)
	out, code, _ = runNotify(t, nil, append(append([]string{"encode"}, specArgs...), "--bearer", "sms", "--vendor", long)...)
	if code != 0 || strings.Count(out, "\n") != 3 {
		t.Errorf("exit %d, %d lines", code, strings.Count(out, "\n"))
	}
	if _, code, _ = runNotify(t, nil, append(append([]string{"encode"}, specArgs...), "--bearer", "sms", "--vendor", long, "-o", "bin")...); code == 0 {
		t.Error("binary output of several SMs accepted")
	}
}

func TestNotifyEncode_RejectsBadFlags(t *testing.T) {
	tests := [][]string{
		{"--ui-mode", "loud"}, {"--initiator", "user"}, {"--version", "13"}, {"--vendor", "xyz"},
		{"--bearer", "auto"}, {"-o", "json"}, {"--session-id", "65536"}, {"--nonce", "!", "--nonce-b64"},
		{"--server-id", strings.Repeat("s", 256)},
	}
	for _, extra := range tests {
		if _, code, _ := runNotify(t, nil, append(append([]string{"encode"}, specArgs...), extra...)...); code == 0 {
			t.Errorf("%v accepted", extra)
		}
	}
	if _, code, _ := runNotify(t, nil, "encode", "--server-id", "x"); code == 0 {
		t.Error("missing required flags accepted")
	}
}

func TestNotifyDecode_ExitStatusSaysWhetherTheDigestIsValid(t *testing.T) {
	sms := "06 05 04 0B 84 C0 02 01 06 03 C4 AF 87\n" + specPkgHex + "\n"
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  []string
	}{
		{"valid sms hex", sms, []string{"--password", "srvpwd", "--nonce", "srvnonce"}, 0,
			[]string{"bearer:        sms", "src port 49154", "tid 0x01", "version:       11", "ui-mode:       background",
				"initiator:     client", "4660 (pkg1 SessionID 1234)", `"com.mgmtsrv.manage" (18 bytes)`, "digest check:  valid"}},
		{"no password: decodable", specPkgHex, nil, 0, []string{"bearer:        raw", "digest check:  not-checked"}},
		{"wrong password", sms, []string{"--password", "x", "--nonce", "srvnonce"}, 3, []string{"digest check:  invalid"}},
		{"tampered digest", "ff" + specPkgHex[2:], []string{"--password", "srvpwd", "--nonce", "srvnonce"}, 3, []string{"invalid"}},
		{"other server id", specPkgHex, []string{"--server-id", "other", "--password", "srvpwd", "--nonce", "srvnonce"}, 3, []string{"expected \"other\""}},
		{"forced bearer mismatch", specPkgHex, []string{"--bearer", "sms"}, 2, nil},
		{"truncated", specPkgHex[:40], nil, 2, nil},
		{"garbage text", "hello world", nil, 2, nil},
		{"empty", "  \n", nil, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code, err := runNotify(t, []byte(tt.stdin), append([]string{"decode"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d (%v), want %d; output:\n%s", code, err, tt.code, out)
			}
			if code == 2 && (err == nil || !strings.Contains(err.Error(), "cannot decode")) {
				t.Errorf("error %v does not say what is wrong", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestNotifyDecode_BinaryFileResetNonceAndJSON(t *testing.T) {
	// The reset-text vector of notification/testdata (digest with nonce "0x00000000").
	pkg, _ := hex.DecodeString("633b4d8fedca624711b33e36de5aaafb02d0000000123412636f6d2e6d676d747372762e6d616e616765")
	file := filepath.Join(t.TempDir(), "pkg0.bin")
	if err := os.WriteFile(file, pkg, 0o600); err != nil {
		t.Fatal(err)
	}
	out, code, err := runNotify(t, nil, "decode", "--json", "--password", "srvpwd", "--nonce", "c3RhbGU=", "--nonce-b64", file)
	if code != 0 {
		t.Fatalf("exit %d: %v\n%s", code, err, out)
	}
	var rep notifyReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.DigestCheck != "valid-reset-nonce" || rep.ResetNonce != hex.EncodeToString([]byte("0x00000000")) ||
		rep.ServerID != "com.mgmtsrv.manage" || rep.SessionHex != "1234" || rep.Bearer != "raw" || rep.UIMode != "background" {
		t.Errorf("report %+v", rep)
	}
	if _, code, _ := runNotify(t, nil, "decode", filepath.Join(t.TempDir(), "missing")); code != 2 {
		t.Errorf("missing file: exit %d", code)
	}
	if _, code, _ := runNotify(t, []byte(specPkgHex), "decode", "--password", "x"); code == 0 {
		t.Error("--password without --nonce accepted")
	}
}

func TestNotifyDecode_ReassemblesSMSLines(t *testing.T) {
	enc, code, err := runNotify(t, nil, append(append([]string{"encode"}, specArgs...), "--bearer", "sms", "--vendor", strings.Repeat("5a", 300))...)
	if code != 0 {
		t.Fatal(err)
	}
	out, code, err := runNotify(t, []byte(enc), "decode", "--password", "srvpwd", "--nonce", "srvnonce")
	if code != 0 || !strings.Contains(out, "segment 3/3") || !strings.Contains(out, "(300 bytes)") {
		t.Errorf("exit %d (%v):\n%s", code, err, out)
	}
}

func TestNotify_IsRegisteredOnRoot(t *testing.T) {
	c, _, err := newRootCmd().Find([]string{"notify", "decode"})
	if err != nil || c.Name() != "decode" {
		t.Errorf("notify decode not registered: %v", err)
	}
}

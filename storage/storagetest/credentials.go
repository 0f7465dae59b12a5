package storagetest

import (
	"testing"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/storage"
)

// credentialTests check the protected form of credentials every backend
// keeps: the client→server password only as auth.UserHash(user, password),
// the server's own password recoverable.
var credentialTests = []test{
	{"PasswordIsKeptOnlyAsItsHash", func(t *testing.T, s storage.Store) {
		d := newDevice("dev")
		check(t, "CreateDevice", s.CreateDevice(bg, d))
		want := auth.UserHash(d.Username, d.Password)
		if d.PasswordHash != want {
			t.Errorf("CreateDevice set PasswordHash %q, want %q", d.PasswordHash, want)
		}
		got, err := s.GetDevice(bg, "dev")
		check(t, "GetDevice", err)
		if got.Password != "" || got.PasswordHash != want {
			t.Errorf("read back Password %q, PasswordHash %q; want \"\" and %q", got.Password, got.PasswordHash, want)
		}
	}},
	{"HashVerifiesEveryClientScheme", func(t *testing.T, s storage.Store) {
		// OMA-TS-DM_Security-V1_2: md5 and HMAC hash B64(H(user:password));
		// basic is verified by hashing the user:password it carries. So
		// the scheme can change without the password.
		d := mustDevice(t, s, "dev")
		got, err := s.GetDevice(bg, "dev")
		check(t, "GetDevice", err)
		nonce := []byte("nonce")
		if !auth.VerifyBasicHash(auth.BasicCredential(d.Username, d.Password), d.Username, got.PasswordHash) {
			t.Error("basic credential does not verify against the stored hash")
		}
		if !auth.VerifyMD5Hash(auth.MD5Credential(d.Username, d.Password, nonce), got.PasswordHash, nonce) {
			t.Error("md5 credential does not verify against the stored hash")
		}
		h := auth.NewHMACHeader(d.Username, d.Password, nonce, []byte("body"))
		if !auth.VerifyHMACHash(h, d.Username, got.PasswordHash, nonce, []byte("body")) {
			t.Error("HMAC does not verify against the stored hash")
		}
		if auth.VerifyBasic(auth.BasicCredential(d.Username, got.PasswordHash), d.Username, d.Password) ||
			auth.VerifyBasicHash(auth.BasicCredential(d.Username, got.PasswordHash), d.Username, got.PasswordHash) {
			t.Error("the stored hash itself passes as a basic credential")
		}
	}},
	{"UpdateWithoutPasswordKeepsTheHash", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		got, err := s.GetDevice(bg, "dev")
		check(t, "GetDevice", err)
		hash := got.PasswordHash
		got.AuthScheme, got.NotifyAddr = "basic", "udp://127.0.0.1:1"
		check(t, "UpdateDevice", s.UpdateDevice(bg, got))
		again, err := s.GetDevice(bg, "dev")
		check(t, "GetDevice", err)
		if again.PasswordHash != hash || again.ServerPassword != "server secret" {
			t.Errorf("after an update without password: hash %q server password %q; want %q and unchanged",
				again.PasswordHash, again.ServerPassword, hash)
		}
	}},
	{"UpdateWithPasswordRehashesWithTheNewUsername", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		got, err := s.GetDevice(bg, "dev")
		check(t, "GetDevice", err)
		got.Username, got.Password, got.ServerPassword = "new-user", "new-pass", "new server secret"
		check(t, "UpdateDevice", s.UpdateDevice(bg, got))
		again, err := s.GetDevice(bg, "dev")
		check(t, "GetDevice", err)
		if want := auth.UserHash("new-user", "new-pass"); again.PasswordHash != want {
			t.Errorf("PasswordHash %q, want %q", again.PasswordHash, want)
		}
		if again.ServerPassword != "new server secret" {
			t.Errorf("ServerPassword %q, want the new one", again.ServerPassword)
		}
	}},
	{"EmptyServerPasswordRoundTrips", func(t *testing.T, s storage.Store) {
		d := newDevice("dev")
		d.ServerPassword = ""
		check(t, "CreateDevice", s.CreateDevice(bg, d))
		got, err := s.GetDevice(bg, "dev")
		check(t, "GetDevice", err)
		checkDevice(t, got, d)
	}},
	{"AccountFieldsRoundTripThroughUpdate", func(t *testing.T, s storage.Store) {
		mustDevice(t, s, "dev")
		got, err := s.GetDevice(bg, "dev")
		check(t, "GetDevice", err)
		got.ServerAuthScheme, got.CertSHA256, got.TransportAuth = "", "", ""
		check(t, "UpdateDevice", s.UpdateDevice(bg, got))
		again, err := s.GetDevice(bg, "dev")
		check(t, "GetDevice", err)
		checkDevice(t, again, got)
		got.ServerAuthScheme, got.TransportAuth = "hmac", "cert"
		got.CertSHA256 = "0000000000000000000000000000000000000000000000000000000000000001"
		check(t, "UpdateDevice", s.UpdateDevice(bg, got))
		again, err = s.GetDevice(bg, "dev")
		check(t, "GetDevice", err)
		checkDevice(t, again, got)
	}},
}

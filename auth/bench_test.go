package auth_test

import (
	"bytes"
	"testing"

	"github.com/omadm/omadm/auth"
)

func BenchmarkHMACMAC_2KiB(b *testing.B) {
	body := bytes.Repeat([]byte("<SyncML/>"), 228)
	nonce := auth.NewNonce()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		auth.HMACMAC("user", "password", nonce, body)
	}
}

func BenchmarkVerifyMD5(b *testing.B) {
	nonce := auth.NewNonce()
	c := auth.MD5Credential("user", "password", nonce)
	for b.Loop() {
		auth.VerifyMD5(c, "user", "password", nonce)
	}
}

func BenchmarkParseHMACHeader(b *testing.B) {
	s := `algorithm=MD5, username="Bruce2", mac=urdCeS3JUmjFgi8SX3webw==`
	for b.Loop() {
		if _, err := auth.ParseHMACHeader(s); err != nil {
			b.Fatal(err)
		}
	}
}

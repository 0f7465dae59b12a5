package auth_test

import (
	"fmt"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/syncml"
)

// The spec's worked examples: user Bruce2, password OhBehave, nonce "Nonce".
func ExampleMD5Credential() {
	fmt.Println(auth.BasicCredential("Bruce2", "OhBehave"))
	fmt.Println(auth.MD5Credential("Bruce2", "OhBehave", []byte("Nonce")))
	// Output:
	// QnJ1Y2UyOk9oQmVoYXZl
	// Zz6EivR3yeaaENcRN6lpAQ==
}

// A server checks the SyncHdr Cred of a message and decides its SyncHdr Status.
func ExampleDecide() {
	nonce := []byte("Nonce") // the nonce this server issued last time
	cred := auth.MakeCred(syncml.AuthMD5, "Bruce2", "OhBehave", nonce)
	err := auth.CheckCred(cred, syncml.AuthMD5, "Bruce2", "OhBehave", nonce)
	d := auth.Decide(auth.Check{Received: auth.CredScheme(cred), Expected: syncml.AuthMD5, Verified: err == nil})
	fmt.Println(int(d.Status), d.Challenge)
	// Output: 212 true
}

// The transport-level MAC over the exact body bytes.
func ExampleNewHMACHeader() {
	h := auth.NewHMACHeader("Bruce2", "OhBehave", []byte("Nonce"), []byte("<SyncML/>"))
	fmt.Println(auth.HeaderHMAC + ": " + h.String())
	// Output: x-syncml-hmac: algorithm=MD5, username="Bruce2", mac=urdCeS3JUmjFgi8SX3webw==
}

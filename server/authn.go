package server

import (
	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/syncml"
)

// schemeType maps Device.AuthScheme to the SyncML Meta Type.
func schemeType(s string) string {
	switch s {
	case "basic":
		return syncml.AuthBasic
	case "hmac":
		return syncml.AuthMAC
	}
	return syncml.AuthMD5
}

func macHeader(user, password string, nonce, body []byte) string {
	return auth.NewHMACHeader(user, password, nonce, body).String()
}

// authenticate checks the device's credentials for this message and returns
// the SyncHdr status and challenge (security.md §3):
//   - basic/md5: 212 once per session; md5 also hands over the next nonce.
//     Missing → 407, wrong → 401, both with a challenge and (md5) a fresh nonce.
//   - hmac: every message; 200 + Chal with the nonce for the next message.
//
// After maxAuthFails attempts it stops challenging (401 without Chal).
//
// Stores keep only d.PasswordHash = B64(H(user:password)) (storage.Device),
// which every scheme verifies against.
func (x *exchange) authenticate() (syncml.StatusCode, *syncml.Chal) {
	// Transport-level (TLS client certificate) authentication: see transport.go.
	if code, done := x.transportAuth(); done {
		return code, nil
	}
	d := x.dev
	h := &x.msg.Header
	typ := schemeType(d.AuthScheme)
	fresh := func() *syncml.Chal {
		if x.st.AuthFails+1 >= maxAuthFails {
			return nil
		}
		if typ == syncml.AuthBasic {
			return auth.MakeChal(typ, nil)
		}
		d.ServerNonce = auth.NewNonce()
		x.devDirty = true
		return auth.MakeChal(typ, d.ServerNonce)
	}
	if typ == syncml.AuthMAC {
		if x.in.HMAC == "" {
			return syncml.StatusMissingCredentials, fresh()
		}
		hh, err := auth.ParseHMACHeader(x.in.HMAC)
		if err != nil || !auth.VerifyHMACHash(hh, d.Username, d.PasswordHash, d.ServerNonce, x.in.Body) {
			return syncml.StatusInvalidCredentials, fresh()
		}
		x.st.Authed = true
		x.st.AuthFails = 0
		d.ServerNonce = auth.NewNonce()
		x.devDirty = true
		return syncml.StatusOK, auth.MakeChal(typ, d.ServerNonce)
	}
	if x.st.Authed && x.viaToken {
		// Authenticated for the session, and the message proves it belongs to
		// it by the unguessable RespURI token.
		return syncml.StatusOK, nil
	}
	if x.st.Authed {
		// Same session id but not sent to our RespURI: the message must carry
		// valid credentials again (with the nonce last handed over).
		if err := auth.CheckCredHash(h.Cred, typ, d.Username, d.PasswordHash, d.ServerNonce); err != nil {
			return syncml.StatusOf(err), fresh()
		}
		return syncml.StatusOK, nil
	}
	if h.Source.LocName != "" && h.Source.LocName != d.Username {
		return syncml.StatusInvalidCredentials, fresh()
	}
	if err := auth.CheckCredHash(h.Cred, typ, d.Username, d.PasswordHash, d.ServerNonce); err != nil {
		return syncml.StatusOf(err), fresh()
	}
	x.st.Authed = true
	x.st.AuthFails = 0
	if typ == syncml.AuthMD5 {
		d.ServerNonce = auth.NewNonce()
		x.devDirty = true
		return syncml.StatusAuthAccepted, auth.MakeChal(typ, d.ServerNonce)
	}
	return syncml.StatusAuthAccepted, nil
}

// serverCred is our Cred for the reply header when the device should get it
// (first reply of a session, or after it challenged us).
func (x *exchange) serverCred() *syncml.Cred {
	d := x.dev
	if !x.st.SendCred || d.ServerPassword == "" || d.AuthScheme == "hmac" {
		return nil
	}
	x.st.SendCred = false
	return auth.MakeCred(schemeType(d.AuthScheme), x.e.o.ServerID, d.ServerPassword, d.ClientNonce)
}

package auth

import (
	"fmt"

	"github.com/omadm/omadm/syncml"
)

// MaxChallenges is how many challenges (407 or 401 with Chal) an
// authenticator sends in one session before it gives up: one for missing
// credentials and one more for a stale nonce, as the spec advises.
const MaxChallenges = 2

// Check is what an authenticator knows about one received message when it
// decides the SyncHdr Status.
type Check struct {
	// Received is the scheme of what the peer sent: CredScheme(cred), or
	// syncml.AuthMAC when an x-syncml-hmac header came; "" when nothing came.
	Received string
	// Expected is the scheme the authenticator requires; "" when it requires
	// no DM-level authentication (the peer is authenticated by the transport).
	Expected string
	// Verified is true when the received credential verified.
	Verified bool
	// PerMessage asks the peer to authenticate every message (status 200)
	// instead of once per session (status 212). HMAC is always per message.
	PerMessage bool
	// Challenges is the number of challenges already sent in this session.
	Challenges int
}

// Decision is the authenticator's answer to a Check.
type Decision struct {
	// Status is the SyncHdr Status code: 212, 200, 401 or 407.
	Status syncml.StatusCode
	// Challenge is true when a Chal must go with Status: with a fresh nonce
	// for md5 and MAC (MakeChal(Expected, NewNonce())), without one for basic.
	Challenge bool
	// EndSession is true when authentication failed for good: the answer
	// carries only Statuses and the session ends.
	EndSession bool
}

// Decide makes the spec's status decisions explicit (OMA-TS-DM_Protocol-V1_2 §9):
//
//   - nothing required: 200, no challenge;
//   - nothing received: 407 with a challenge;
//   - wrong scheme or failed verification: 401 with a challenge (a fresh
//     nonce cures a stale one), or 401 ending the session once MaxChallenges
//     challenges were already sent;
//   - verified HMAC: 200 with a challenge carrying the next message's nonce;
//   - verified per message: 200, with a challenge for md5 (next nonce);
//   - verified for the session: 212, with a challenge for md5 carrying the
//     nonce for the next session.
func Decide(c Check) Decision {
	if c.Expected == "" {
		return Decision{Status: syncml.StatusOK}
	}
	if c.Received == "" || c.Received != c.Expected || !c.Verified {
		code := syncml.StatusInvalidCredentials
		if c.Received == "" {
			code = syncml.StatusMissingCredentials
		}
		if c.Challenges >= MaxChallenges {
			return Decision{Status: code, EndSession: true}
		}
		return Decision{Status: code, Challenge: true}
	}
	switch {
	case c.Expected == syncml.AuthMAC:
		return Decision{Status: syncml.StatusOK, Challenge: true}
	case c.PerMessage:
		return Decision{Status: syncml.StatusOK, Challenge: c.Expected != syncml.AuthBasic}
	}
	return Decision{Status: syncml.StatusAuthAccepted, Challenge: c.Expected != syncml.AuthBasic}
}

// ClientAction is what the authenticating side does after reading the
// SyncHdr Status of the peer's answer.
type ClientAction int

const (
	// ActionAuthenticated (212): stop sending credentials in this session;
	// a NextNonce in the Chal is kept for the next session.
	ActionAuthenticated ClientAction = iota
	// ActionSendAgain (200): this message was accepted; authenticate the next
	// one too, with the new nonce when the Chal gave one.
	ActionSendAgain
	// ActionRetry (401/407 with Chal): resend the package with the
	// challenged scheme and nonce.
	ActionRetry
	// ActionFail: authentication cannot succeed (a repeated rejection, a
	// rejection without challenge, or a scheme we cannot answer); tell the
	// user and end the session.
	ActionFail
)

// String names the action for logs.
func (a ClientAction) String() string {
	switch a {
	case ActionAuthenticated:
		return "authenticated"
	case ActionSendAgain:
		return "send-again"
	case ActionRetry:
		return "retry"
	case ActionFail:
		return "fail"
	}
	return fmt.Sprintf("ClientAction(%d)", int(a))
}

// ClientStep is the outcome of Respond.
type ClientStep struct {
	Action ClientAction
	// Scheme is the scheme to use from now on (the Chal's Type, or the
	// current scheme when the Chal names none).
	Scheme string
	// Nonce is the raw nonce from the Chal, nil when it carried none. Persist
	// it (DMAcc AAuthData) only when the peer authenticated itself.
	Nonce []byte
}

// Respond interprets the SyncHdr Status code and Chal the peer sent in answer
// to our credentials. scheme is the scheme we used; retries counts the
// retries already made in this session; supported reports whether we can
// answer a scheme (nil means basic and md5). A challenge must be answered with
// exactly the requested type, so an unsupported one ends the session.
func Respond(code syncml.StatusCode, chal *syncml.Chal, scheme string, retries int, supported func(string) bool) (ClientStep, error) {
	if supported == nil {
		supported = func(s string) bool { return s == syncml.AuthBasic || s == syncml.AuthMD5 }
	}
	step := ClientStep{Scheme: scheme}
	if chal != nil {
		if chal.Meta != nil && chal.Meta.Type != "" {
			step.Scheme = chal.Meta.Type
		}
		n, err := ChalNonce(chal)
		if err != nil {
			step.Action = ActionFail
			return step, err
		}
		step.Nonce = n
	}
	switch code {
	case syncml.StatusAuthAccepted:
		step.Action = ActionAuthenticated
	case syncml.StatusOK:
		step.Action = ActionSendAgain
	case syncml.StatusInvalidCredentials, syncml.StatusMissingCredentials:
		switch {
		case chal == nil:
			step.Action = ActionFail
			return step, fmt.Errorf("credentials rejected (%d) without a challenge", code)
		case retries >= MaxChallenges:
			step.Action = ActionFail
			return step, fmt.Errorf("credentials rejected (%d) after %d retries", code, retries)
		case !supported(step.Scheme):
			step.Action = ActionFail
			return step, fmt.Errorf("challenged with unsupported scheme %q", step.Scheme)
		}
		step.Action = ActionRetry
	default:
		step.Action = ActionFail
		return step, fmt.Errorf("SyncHdr status %d is not an authentication outcome", code)
	}
	return step, nil
}

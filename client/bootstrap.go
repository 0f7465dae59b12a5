package client

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/syncml"
)

// maxBootstrapSize bounds a bootstrap message: it carries accounts, not
// firmware.
const maxBootstrapSize = 1 << 20

// ApplyBootstrap processes a DM bootstrap message (OMA-TS-DM_Bootstrap-V1_2) the way a
// server message is processed, but as the device itself and without an
// answer: its Add and Replace commands (plain items, or a TNDS subtree such
// as a DMAcc account with its ACLs) run against tree all or nothing.
// contentType may be "" (the encoding is detected). Any other command, a
// chunked item or a failing command rejects the whole message and leaves the
// tree unchanged; the error carries the failing command and its status.
// Verify the message's MAC (auth.VerifyBootstrap) before calling this.
func ApplyBootstrap(tree Tree, body []byte, contentType string) ([]CommandRecord, error) {
	if tree == nil {
		return nil, fmt.Errorf("client: bootstrap needs a tree")
	}
	m, _, err := syncml.Decode(body, contentType, &syncml.Limits{MaxMessageSize: maxBootstrapSize})
	if err != nil {
		return nil, fmt.Errorf("client: bootstrap message: %w", err)
	}
	if v := m.Header.VerDTD; v != syncml.VerDTD12 && v != syncml.VerDTD11 {
		return nil, fmt.Errorf("client: bootstrap message: unsupported VerDTD %q", v)
	}
	s := &session{c: &Client{
		cfg: Config{Tree: tree, MaxObjSize: maxBootstrapSize},
		log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, res: &SessionResult{}}
	tx := tree.Begin()
	fail := func(err error) ([]CommandRecord, error) {
		if rerr := tx.Rollback(); rerr != nil {
			return nil, fmt.Errorf("%w (rollback: %v)", err, rerr)
		}
		return nil, err
	}
	var recs []CommandRecord
	for _, c := range m.Body {
		switch c.(type) {
		case *syncml.Add, *syncml.Replace:
		default:
			return fail(fmt.Errorf("client: bootstrap message: %s %s is not allowed (only Add and Replace)", c.CommandName(), c.ID()))
		}
		if s.itemHasMoreData(c) {
			return fail(fmt.Errorf("client: bootstrap message: %s %s is chunked; a bootstrap must fit one message", c.CommandName(), c.ID()))
		}
		code, failed := s.execItems(tx, c)
		rec := CommandRecord{MsgID: m.Header.MsgID, CmdID: c.ID(), Name: c.CommandName(), Targets: targets(c), Status: code}
		if !code.Success() {
			at := failed
			if at == "" && len(rec.Targets) > 0 {
				at = rec.Targets[0]
			}
			return fail(fmt.Errorf("client: bootstrap %s %s at %s: status %d (%s)", c.CommandName(), c.ID(), at, int(code), code))
		}
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		return fail(fmt.Errorf("client: bootstrap message has no Add or Replace"))
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("client: bootstrap commit: %w", err)
	}
	return recs, nil
}

// AcceptBootstrapPush applies a DM bootstrap that arrived as a WAP push
// (notification.DecodeBootstrapPush: application/vnd.syncml.dm+wbxml with
// SEC and MAC parameters) when policy takes it: its security method must be
// one the policy accepts and its MAC (or, for USERPINMAC, the user's PIN)
// must verify over the exact WBXML body (OMA-TS-DM_Security-V1_2
// §5.1.7.2). A refused bootstrap changes nothing; the error says why.
func AcceptBootstrapPush(tree Tree, pdu []byte, policy *auth.BootstrapPolicy) ([]CommandRecord, error) {
	p, err := notification.DecodeBootstrapPush(pdu)
	if err != nil {
		return nil, fmt.Errorf("client: bootstrap push: %w", err)
	}
	if policy == nil {
		return nil, fmt.Errorf("client: bootstrap refused: no bootstrap security policy")
	}
	sec := ""
	if p.SEC >= 0 {
		sec = strconv.Itoa(p.SEC)
	}
	if err := policy.Check(sec, p.MAC, p.Body); err != nil {
		return nil, err
	}
	return ApplyBootstrap(tree, p.Body, syncml.EncodingWBXML.ContentType())
}

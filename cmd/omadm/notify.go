package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/notification"
)

// maxNotifyInput bounds what notify decode reads: a package 0 is at most
// MaxPackageSize, twice that as hex plus generous white space.
const maxNotifyInput = 4 * notification.MaxPackageSize

// newNotifyCmd builds "omadm notify" afresh, so tests can run it in-process
// without flag values leaking between runs.
func newNotifyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:           "notify",
		Short:         "Encode and decode package 0 (server-initiated session alerts)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.AddCommand(newNotifyEncodeCmd(), newNotifyDecodeCmd())
	return cmd
}

func parseNonce(s string, isB64 bool) ([]byte, error) {
	if !isB64 {
		return []byte(s), nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("--nonce is not base64: %w", err)
	}
	return b, nil
}

func newNotifyEncodeCmd() *cobra.Command {
	var (
		serverID, password, nonce, session, uiMode, initiator, vendor, bearer, output string
		nonceB64                                                                      bool
		version                                                                       int
	)
	cmd := &cobra.Command{
		Use:   "encode --server-id ID --password PW --nonce NONCE --session-id N",
		Short: "Build a package 0 and print it raw, as a WAP push PDU or as SMS user data",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := parseNonce(nonce, nonceB64)
			if err != nil {
				return err
			}
			sid, err := strconv.ParseUint(session, 0, 16)
			if err != nil {
				return fmt.Errorf("--session-id %q: want 0..65535 (decimal or 0x hex)", session)
			}
			p := notification.Package0{Version: version, SessionID: uint16(sid), ServerID: serverID}
			if p.UIMode, err = notification.ParseUIMode(uiMode); err != nil {
				return err
			}
			if p.Initiator, err = notification.ParseInitiator(initiator); err != nil {
				return err
			}
			if vendor != "" {
				if p.Vendor, err = hex.DecodeString(strings.Join(strings.Fields(vendor), "")); err != nil {
					return fmt.Errorf("--vendor is not hex: %w", err)
				}
			}
			b, err := notification.ParseBearer(bearer)
			if err != nil || b == notification.BearerAuto {
				return fmt.Errorf("--bearer %q: want raw, wap-push or sms", bearer)
			}
			if output != "hex" && output != "bin" {
				return fmt.Errorf("-o %q: want hex or bin", output)
			}
			pkg, err := p.Encode(password, n)
			if err != nil {
				return err
			}
			out, err := notification.Wrap(b, pkg, 1, nil)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if output == "bin" {
				if len(out) > 1 {
					return fmt.Errorf("the package needs %d SMs; binary output holds one, use -o hex (one SM per line)", len(out))
				}
				_, err = w.Write(out[0])
				return err
			}
			for _, d := range out {
				if _, err := fmt.Fprintln(w, hex.EncodeToString(d)); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&serverID, "server-id", "", "server identifier (DMAcc ServerID), at most 255 bytes")
	f.StringVar(&password, "password", "", "server password as the device stores it (SRVCRED AAuthSecret)")
	f.StringVar(&nonce, "nonce", "", "server nonce as the device stores it (SRVCRED AAuthData)")
	f.BoolVar(&nonceB64, "nonce-b64", false, "--nonce is base64 of the raw nonce bytes")
	f.StringVar(&session, "session-id", "", "session id, 0..65535 (decimal or 0x hex)")
	f.StringVar(&uiMode, "ui-mode", "not-specified", "not-specified|background|informative|interactive")
	f.StringVar(&initiator, "initiator", "server", "server|client")
	f.IntVar(&version, "version", notification.DefaultVersion, "package 0 version: 11|12")
	f.StringVar(&vendor, "vendor", "", "vendor-specific data, hex")
	f.StringVar(&bearer, "bearer", "raw", "raw|wap-push|sms")
	f.StringVarP(&output, "output", "o", "hex", "hex|bin (hex prints one SM per line)")
	for _, r := range []string{"server-id", "password", "nonce", "session-id"} {
		_ = cmd.MarkFlagRequired(r)
	}
	return cmd
}

// notifyReport is what notify decode prints (--json gives it as is).
type notifyReport struct {
	Bearer      string   `json:"bearer"`
	TID         *int     `json:"tid,omitempty"`
	ContentType string   `json:"contentType,omitempty"`
	AppID       string   `json:"appId,omitempty"`
	SMS         []smsRow `json:"sms,omitempty"`
	Version     int      `json:"version"`
	UIMode      string   `json:"uiMode"`
	Initiator   string   `json:"initiator"`
	SessionID   int      `json:"sessionId"`
	SessionHex  string   `json:"sessionIdHex"`
	ServerID    string   `json:"serverId"`
	Vendor      string   `json:"vendor"`
	Digest      string   `json:"digest"`
	Trigger     string   `json:"trigger"`
	// Digest check: "valid", "valid-reset-nonce", "invalid" or "not-checked".
	DigestCheck  string `json:"digestCheck"`
	ResetNonce   string `json:"resetNonce,omitempty"`
	ServerIDNote string `json:"serverIdNote,omitempty"`
}

type smsRow struct {
	DstPort int `json:"dstPort"`
	SrcPort int `json:"srcPort"`
	Ref     int `json:"ref,omitempty"`
	Seq     int `json:"seq"`
	Total   int `json:"total"`
}

// readNotifyInput returns the candidate readings of the input: the whole of
// it (hex when it is only hex digits and white space, else binary) and, for
// several hex lines, one datum per line (SMS segments).
func readNotifyInput(r io.Reader) (whole []byte, lines [][]byte, err error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxNotifyInput+1))
	if err != nil {
		return nil, nil, err
	}
	if len(raw) > maxNotifyInput {
		return nil, nil, fmt.Errorf("input exceeds %d bytes", maxNotifyInput)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil, errors.New("input is empty")
	}
	compact := strings.Join(strings.Fields(string(raw)), "")
	if b, err := hex.DecodeString(compact); err == nil {
		for _, l := range strings.Split(string(raw), "\n") {
			l = strings.Join(strings.Fields(l), "")
			if l == "" {
				continue
			}
			d, err := hex.DecodeString(l)
			if err != nil {
				lines = nil
				break
			}
			lines = append(lines, d)
		}
		return b, lines, nil
	}
	return raw, nil, nil
}

func newNotifyDecodeCmd() *cobra.Command {
	var (
		serverID, password, nonce, bearer string
		nonceB64, asJSON                  bool
	)
	cmd := &cobra.Command{
		Use:   "decode [FILE|-]",
		Short: "Decode a package 0 (hex or binary; raw, WAP push or SMS) and check its digest",
		Long: "Decode a package 0 given as hex (white space tolerated; several lines may be the SMs of one\n" +
			"concatenated message) or binary, print every field and, with --password and --nonce, check the\n" +
			"digest (also against the reset nonce). Exit status: 0 valid (or decoded, when no password is\n" +
			"given), 3 digest invalid, 2 input cannot be decoded.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := notification.ParseBearer(bearer)
			if err != nil {
				return err
			}
			check := cmd.Flags().Changed("password")
			if check && !cmd.Flags().Changed("nonce") {
				return errors.New("--password needs --nonce")
			}
			n, err := parseNonce(nonce, nonceB64)
			if err != nil {
				return err
			}
			in := cmd.InOrStdin()
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return &exitError{exitUndecodable, err}
				}
				defer f.Close()
				in = f
			}
			whole, lines, err := readNotifyInput(in)
			if err != nil {
				return &exitError{exitUndecodable, fmt.Errorf("cannot decode: %w", err)}
			}
			env, err := notification.Unwrap(b, whole)
			if err != nil && len(lines) > 1 && (b == notification.BearerAuto || b == notification.BearerSMS) {
				if e2, err2 := notification.Unwrap(notification.BearerSMS, lines...); err2 == nil {
					env, err = e2, nil
				}
			}
			if err != nil {
				return &exitError{exitUndecodable, fmt.Errorf("cannot decode: %w", err)}
			}
			rep := report(env)
			var invalid bool
			if check {
				id := env.Package.ServerID
				if serverID != "" {
					id = serverID
				}
				rep.DigestCheck, rep.ResetNonce, invalid = "invalid", "", true
				for i, cand := range [][]byte{n, notification.ResetNonce, notification.ResetNonceZeros} {
					if env.Package.VerifyAs(id, password, cand) {
						rep.DigestCheck, invalid = "valid", false
						if i > 0 {
							rep.DigestCheck, rep.ResetNonce = "valid-reset-nonce", hex.EncodeToString(cand)
						}
						break
					}
				}
			}
			if serverID != "" && serverID != env.Package.ServerID {
				rep.ServerIDNote = fmt.Sprintf("package names %q, expected %q", env.Package.ServerID, serverID)
			}
			if err := printReport(cmd.OutOrStdout(), rep, asJSON); err != nil {
				return err
			}
			if invalid {
				return &exitError{exitDigestInvalid, errors.New("digest invalid")}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&serverID, "server-id", "", "the server identity the device stores (used for the digest; default: the package's)")
	f.StringVar(&password, "password", "", "server password; check the digest")
	f.StringVar(&nonce, "nonce", "", "server nonce (with --password)")
	f.BoolVar(&nonceB64, "nonce-b64", false, "--nonce is base64 of the raw nonce bytes")
	f.StringVar(&bearer, "bearer", "auto", "auto|raw|wap-push|sms")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func report(env *notification.Envelope) *notifyReport {
	p := env.Package
	rep := &notifyReport{
		Bearer:      env.Bearer.String(),
		Version:     p.Version,
		UIMode:      p.UIMode.String(),
		Initiator:   p.Initiator.String(),
		SessionID:   int(p.SessionID),
		SessionHex:  p.SessionIDString(),
		ServerID:    p.ServerID,
		Vendor:      hex.EncodeToString(p.Vendor),
		Digest:      hex.EncodeToString(p.Digest[:]),
		Trigger:     hex.EncodeToString(p.Trigger),
		DigestCheck: "not-checked",
	}
	if env.Push != nil {
		tid := int(env.Push.TID)
		rep.TID, rep.ContentType, rep.AppID = &tid, env.Push.ContentType, env.Push.AppID
	}
	for _, s := range env.SMS {
		rep.SMS = append(rep.SMS, smsRow{DstPort: int(s.DstPort), SrcPort: int(s.SrcPort), Ref: int(s.Ref), Seq: int(s.Seq), Total: int(s.Total)})
	}
	return rep
}

func printReport(w io.Writer, r *notifyReport, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	var b strings.Builder
	line := func(k, format string, args ...any) {
		fmt.Fprintf(&b, "%-14s "+format+"\n", append([]any{k + ":"}, args...)...)
	}
	line("bearer", "%s", r.Bearer)
	for _, s := range r.SMS {
		line("sms", "dst port %d, src port %d, segment %d/%d, ref %d", s.DstPort, s.SrcPort, s.Seq, s.Total, s.Ref)
	}
	if r.TID != nil {
		line("wsp", "tid 0x%02X, content-type %s, app-id %s", *r.TID, r.ContentType, r.AppID)
	}
	line("version", "%d", r.Version)
	line("ui-mode", "%s", r.UIMode)
	line("initiator", "%s", r.Initiator)
	line("session-id", "%d (pkg1 SessionID %s)", r.SessionID, r.SessionHex)
	line("server-id", "%q (%d bytes)", r.ServerID, len(r.ServerID))
	if r.Vendor == "" {
		line("vendor", "(none)")
	} else {
		line("vendor", "%s (%d bytes)", r.Vendor, len(r.Vendor)/2)
	}
	line("digest", "%s", r.Digest)
	line("trigger", "%s", r.Trigger)
	switch r.DigestCheck {
	case "valid-reset-nonce":
		line("digest check", "valid with the reset nonce %s (resynchronise credentials)", r.ResetNonce)
	default:
		line("digest check", "%s", r.DigestCheck)
	}
	if r.ServerIDNote != "" {
		line("note", "%s", r.ServerIDNote)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
)

// ctlBootstrap is `omadm ctl bootstrap`: DM bootstrap profiles.
func ctlBootstrap(o *ctlOptions) *cobra.Command {
	var req api.BootstrapRequest
	var out string
	cmd := &cobra.Command{
		Use:   "bootstrap --device ID [--device ID]… [--format tnds-wbxml|tnds-xml|add] [--out FILE|DIR] [--security S --imsi N --pin P] [--push]",
		Short: "Generate DM bootstrap profiles (this server's DMAcc account) and write or push them",
		Long: `bootstrap asks the server for each device's bootstrap profile
(POST /api/v1/bootstrap): the DMAcc account of this server with the device's
credentials. The server keeps only a hash of a device's password, so unless
--password is given each profile carries a new one, which replaces the old.

Formats: tnds-wbxml (default) is a WBXML DM bootstrap message whose Add carries
the account as embedded TNDS; add is a WBXML DM message of plain Add
commands; tnds-xml is the TNDS document alone, a file for factory
provisioning (omadm-agent --bootstrap FILE).

--security protects a WBXML profile for delivery over the air
(OMA-TS-DM_Security-V1_2 §5.1.7.2): NETWORKID/NETWPIN keys its MAC
(hex HMAC-SHA1 of the message) with the IMSI, USERPIN with --pin,
USERPIN_NETWORKID/USERNETWPIN with both; USERPINMAC prints the PIN the user
must type instead. --push sends each profile as a WAP push to the device's
udp:// notify address.

With one device --out is the file written; with several it is a directory
of <device>.<ext> files. Without --out nothing is written (use --push).`,
		Example: `  omadm ctl bootstrap --device IMEI:490154203237518 --format tnds-xml --out factory.xml
  omadm ctl bootstrap --device IMEI:490154203237518 --security NETWPIN --imsi 310150123456789 --push`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(req.DeviceIDs) == 0 {
				return fmt.Errorf("give --device (repeatable)")
			}
			if out == "" && !req.Push {
				return fmt.Errorf("give --out FILE or --push")
			}
			c, ctx, cancel, err := o.connect(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			res, err := c.Bootstrap(ctx, req)
			if err != nil {
				return err
			}
			if out != "" {
				if err := writeProfiles(out, res.Profiles); err != nil {
					return err
				}
			}
			return o.print(cmd, "table", res, func(w io.Writer) error {
				rows := [][]string{}
				failed := 0
				for _, p := range res.Profiles {
					pushed := ""
					if req.Push {
						pushed = "pushed"
						if p.PushError != "" {
							pushed, failed = "push failed: "+p.PushError, failed+1
						}
					}
					rows = append(rows, []string{p.DeviceID, p.Format, fmt.Sprint(len(p.Document)), orDash(p.Security), orDash(p.MAC), orDash(p.UserPIN), pushed})
				}
				if err := ctlTable(w, []string{"DEVICE", "FORMAT", "BYTES", "SECURITY", "MAC", "USER PIN", "PUSH"}, rows); err != nil {
					return err
				}
				if failed > 0 {
					return fmt.Errorf("%d of %d pushes failed", failed, len(res.Profiles))
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&req.DeviceIDs, "device", nil, "device ID; repeatable for a batch")
	f.StringVar(&req.Format, "format", "tnds-wbxml", "tnds-wbxml, tnds-xml or add")
	f.StringVar(&out, "out", "", "file to write (one device) or directory (several)")
	f.StringVar(&req.ServerURL, "server-url", "", "DM URL the account names (default: the server's public URL + /dm)")
	f.StringVar(&req.Security, "security", "", "NETWORKID (NETWPIN), USERPIN, USERPIN_NETWORKID (USERNETWPIN) or USERPINMAC")
	f.StringVar(&req.IMSI, "imsi", "", "IMSI keying NETWORKID / USERPIN_NETWORKID (default: the device's imsi label)")
	f.StringVar(&req.PIN, "pin", "", "user PIN for USERPIN, USERPIN_NETWORKID and USERPINMAC")
	f.StringVar(&req.Password, "password", "", "client password to put in the profile (default: a new one, stored on the device)")
	f.BoolVar(&req.Push, "push", false, "send each profile as a WAP push to the device's udp:// notify address")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeProfiles writes one profile to path, or several into the directory
// path as <device>.<ext>.
func writeProfiles(path string, ps []api.BootstrapProfile) error {
	if len(ps) == 1 {
		return os.WriteFile(path, ps[0].Document, 0o600)
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return err
	}
	for _, p := range ps {
		ext := ".wbxml"
		if strings.HasSuffix(p.ContentType, "+xml") {
			ext = ".xml"
		}
		name := strings.Map(func(r rune) rune {
			if r == '/' || r == '\\' || r == ':' || r < 0x20 {
				return '_'
			}
			return r
		}, p.DeviceID)
		if err := os.WriteFile(filepath.Join(path, name+ext), p.Document, 0o600); err != nil {
			return err
		}
	}
	return nil
}

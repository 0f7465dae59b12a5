package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/api"
	"github.com/omadm/omadm/api/client"
	"github.com/omadm/omadm/notification"
)

// `omadm ctl device`: enrol, change, show and remove devices.

func ctlPrintDevices(w io.Writer, format string, ds []api.Device) error {
	if format == "json" {
		return ctlPrintJSON(w, ds)
	}
	rows := make([][]string, 0, len(ds))
	for _, d := range ds {
		rows = append(rows, []string{d.ID, d.Auth, d.Username, ctlOrDash(d.NotifyAddr), ctlTime(d.LastSeen), ctlLabels(d.Labels)})
	}
	return ctlTable(w, []string{"ID", "AUTH", "USERNAME", "NOTIFY", "LAST SEEN", "LABELS"}, rows)
}

func ctlDeviceAdd(o *ctlOptions) *cobra.Command {
	var req api.DeviceCreate
	var labels []string
	var acct ctlAccountFlags
	cmd := &cobra.Command{
		Use:   "add ID --username U --password P [--server-auth S] [--cert FILE | --cert-sha256 HEX] [--transport-auth cert|cert+dm]",
		Short: "Enrol a device with its credentials",
		Long: `Enrol a device. Without --server-password the server generates one and shows
it once: configure it on the device (it authenticates the server and package 0).
--cert (or --cert-sha256) binds the device's TLS client certificate;
--transport-auth says whether that certificate replaces (cert) or adds to
(cert+dm) the DM-level credentials.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if req.AccountFields, _, err = acct.fields(cmd); err != nil {
				return err
			}
			c, ctx, cancel, err := o.connect(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			req.ID = args[0]
			if req.Labels, err = ctlParseLabels(labels); err != nil {
				return err
			}
			d, err := c.CreateDevice(ctx, req)
			if err != nil {
				return err
			}
			return o.print(cmd, "table", d, func(w io.Writer) error {
				if err := ctlPrintDevices(w, "table", []api.Device{d.Device}); err != nil {
					return err
				}
				if d.ServerPassword != "" {
					fmt.Fprintf(w, "server password (shown once): %s\n", d.ServerPassword)
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Username, "username", "", "user name the device authenticates with (required)")
	f.StringVar(&req.Password, "password", "", "password the device authenticates with (required)")
	f.StringVar(&req.ServerPassword, "server-password", "", "password the server authenticates with (generated when omitted)")
	f.StringVar(&req.Auth, "auth", "md5", "auth scheme: basic, md5 or hmac")
	f.StringVar(&req.NotifyAddr, "notify-addr", "", "where package 0 goes: "+notification.AddrForms())
	f.StringArrayVar(&labels, "label", nil, "operator label key=value (repeatable)")
	acct.register(cmd)
	_ = cmd.MarkFlagRequired("username")
	_ = cmd.MarkFlagRequired("password")
	return cmd
}

// ctlParseLabels turns repeated --label k=v flags into a map (nil when none).
func ctlParseLabels(labels []string) (map[string]string, error) {
	var m map[string]string
	for _, l := range labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--label %q: want key=value", l)
		}
		if m == nil {
			m = map[string]string{}
		}
		m[k] = v
	}
	return m, nil
}

// ctlDeviceSet changes an enrolled device through PATCH /devices/{id}: only
// the flags given are sent, so the rest of the record stays as it is. It is
// how an operator gives a device its notify address after enrolment, or
// rotates its credentials.
func ctlDeviceSet(o *ctlOptions) *cobra.Command {
	var u api.DeviceUpdate
	var notifyAddr, username, password, serverPassword, authScheme string
	var labels []string
	var acct ctlAccountFlags
	cmd := &cobra.Command{
		Use:   "set ID [--notify-addr A] [--label k=v …] [--username U --password P] [--server-password SP] [--auth basic|md5|hmac] [--server-auth S] [--cert FILE | --cert-sha256 HEX] [--transport-auth P]",
		Short: "Change a device's notify address, labels, credentials or auth scheme",
		Long: `Change an enrolled device. Only the flags given change; --label replaces the
device's whole label set with the labels given. --username and --password go
together (a new client credential); --server-password changes the credential
the server authenticates itself with (and signs package 0 with). --auth alone
is enough to change the scheme: the server keeps a hash of username:password
that verifies basic, md5 and hmac alike. --server-auth, --cert/--cert-sha256
and --transport-auth change the account as in "device add" (an empty value
clears one).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			if f.Changed("username") != f.Changed("password") {
				return errors.New("--username and --password go together")
			}
			if f.Changed("auth") {
				switch authScheme {
				case "basic", "md5", "hmac":
				default:
					return fmt.Errorf("--auth %q: want basic, md5 or hmac", authScheme)
				}
			}
			var err error
			if u.Labels, err = ctlParseLabels(labels); err != nil {
				return err
			}
			acctFields, acctSet, err := acct.fields(cmd)
			if err != nil {
				return err
			}
			if acctSet["server_auth"] {
				u.ServerAuth = &acctFields.ServerAuth
			}
			if acctSet["cert_sha256"] {
				u.CertSHA256 = &acctFields.CertSHA256
			}
			if acctSet["transport_auth"] {
				u.TransportAuth = &acctFields.TransportAuth
			}
			changed := u.Labels != nil || len(acctSet) > 0
			for _, fl := range []struct {
				name string
				val  *string
				dst  **string
			}{
				{"notify-addr", &notifyAddr, &u.NotifyAddr}, {"username", &username, &u.Username},
				{"password", &password, &u.Password}, {"server-password", &serverPassword, &u.ServerPassword},
				{"auth", &authScheme, &u.Auth},
			} {
				if f.Changed(fl.name) {
					*fl.dst, changed = fl.val, true
				}
			}
			if !changed {
				return errors.New("nothing to change: give --notify-addr, --label, --username/--password, --server-password, --auth, --server-auth, --cert/--cert-sha256 or --transport-auth")
			}
			c, ctx, cancel, err := o.connect(cmd)
			if err != nil {
				return err
			}
			defer cancel()
			d, err := c.UpdateDevice(ctx, args[0], u)
			if err != nil {
				return err
			}
			return ctlPrintDevices(cmd.OutOrStdout(), o.format("table"), []api.Device{*d})
		},
	}
	f := cmd.Flags()
	f.StringVar(&notifyAddr, "notify-addr", "", "where package 0 goes: "+notification.AddrForms())
	f.StringArrayVar(&labels, "label", nil, "operator label key=value (repeatable; replaces all labels)")
	f.StringVar(&username, "username", "", "new user name the device authenticates with (with --password)")
	f.StringVar(&password, "password", "", "new password the device authenticates with (with --username)")
	f.StringVar(&serverPassword, "server-password", "", "new password the server authenticates with")
	f.StringVar(&authScheme, "auth", "", "auth scheme: basic, md5 or hmac")
	acct.register(cmd)
	return cmd
}

// ctlNotifyHint points an operator whose device has no notify address at the
// ctl command that sets one, instead of the raw API route the server names.
func ctlNotifyHint(err error, device string) error {
	var e *client.Error
	if !errors.As(err, &e) || !strings.Contains(e.Message, "notify_addr") || !strings.Contains(e.Message, "PATCH") {
		return err
	}
	msg := strings.NewReplacer("PATCH /devices/{id}", "`omadm ctl device set "+device+" --notify-addr ADDR`",
		"without notify", "without --notify").Replace(e.Message)
	return &client.Error{StatusCode: e.StatusCode, Message: msg}
}

func ctlDeviceShow(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one device",
		Args:  cobra.ExactArgs(1),
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			d, err := c.GetDevice(ctx, args[0])
			if err != nil {
				return err
			}
			return o.print(cmd, "table", d, func(w io.Writer) error {
				rows := [][]string{{"id", d.ID}, {"auth", d.Auth}, {"username", d.Username}, {"notify_addr", ctlOrDash(d.NotifyAddr)},
					{"created", ctlTime(&d.CreatedAt)}, {"last seen", ctlTime(d.LastSeen)}, {"labels", ctlLabels(d.Labels)}}
				keys := make([]string, 0, len(d.DevInfo))
				for k := range d.DevInfo {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				for _, k := range keys {
					rows = append(rows, []string{k, d.DevInfo[k]})
				}
				return ctlTable(w, []string{"FIELD", "VALUE"}, rows)
			})
		}),
	}
}

func ctlDeviceRm(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "rm ID…",
		Aliases: []string{"delete"},
		Short:   "Remove devices and everything stored about them",
		Args:    cobra.MinimumNArgs(1),
		RunE: o.withClient(func(ctx context.Context, c *client.Client, cmd *cobra.Command, args []string) error {
			for _, id := range args {
				if err := c.DeleteDevice(ctx, id); err != nil {
					return err
				}
				if o.format("table") == "table" {
					fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", id)
				}
			}
			return nil
		}),
	}
}

package main

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/notification/pushgw"
)

// pushConfig configures the gateway notification senders of `omadm serve`:
// a WAP Push Proxy Gateway (PAP) for wappush: and wappush-ip: addresses and
// Kannel's sendsms interface for sms: addresses.
type pushConfig struct {
	PPGURL          string
	PPGUser         string
	PPGPasswordFile string // "" = $OMADM_PPG_PASSWORD
	PPGDomain       string
	PPGTimeout      time.Duration

	SendSMSURL          string
	SendSMSUser         string
	SendSMSPasswordFile string // "" = $OMADM_KANNEL_PASSWORD
	SendSMSFrom         string
	SendSMSSMSC         string
	SendSMSTimeout      time.Duration
}

// Environment variables holding gateway passwords when no file is given.
const (
	envPPGPassword    = "OMADM_PPG_PASSWORD"
	envKannelPassword = "OMADM_KANNEL_PASSWORD"
)

// pushFlags registers the gateway sender flags on serve's flag set.
func pushFlags(cmd *cobra.Command, c *pushConfig) {
	f := cmd.Flags()
	f.StringVar(&c.PPGURL, "ppg-url", "", "WAP Push Proxy Gateway PAP endpoint (e.g. http://kannel:8080/wappush): sends package 0 to wappush:+number (SMS bearer) and wappush-ip:address (IP bearer, UDP 2948) addresses")
	f.StringVar(&c.PPGUser, "ppg-user", "", "push initiator account at the PPG (HTTP basic authentication); its password comes from --ppg-password-file or $"+envPPGPassword)
	f.StringVar(&c.PPGPasswordFile, "ppg-password-file", "", "file holding the PPG password (first line); default $"+envPPGPassword)
	f.StringVar(&c.PPGDomain, "ppg-domain", "", "PPG specifier in PAP client addresses (WAPPUSH=…/TYPE=…@domain); default the host of --ppg-url")
	f.DurationVar(&c.PPGTimeout, "ppg-timeout", 30*time.Second, "time one push submission to the PPG may take")
	f.StringVar(&c.SendSMSURL, "kannel-sendsms", "", "Kannel sendsms URL (e.g. http://kannel:13013/cgi-bin/sendsms): sends package 0 by binary SMS to sms:+number addresses (instead of --sms-webhook)")
	f.StringVar(&c.SendSMSUser, "kannel-user", "", "Kannel sendsms-user name; its password comes from --kannel-password-file or $"+envKannelPassword)
	f.StringVar(&c.SendSMSPasswordFile, "kannel-password-file", "", "file holding the Kannel sendsms-user password (first line); default $"+envKannelPassword)
	f.StringVar(&c.SendSMSFrom, "kannel-from", "", "sender number of notification SMS (default: Kannel's default-sender)")
	f.StringVar(&c.SendSMSSMSC, "kannel-smsc", "", "Kannel smsc-id to route notification SMS through (default: Kannel's routing)")
	f.DurationVar(&c.SendSMSTimeout, "kannel-timeout", 30*time.Second, "time one sendsms request may take")
}

// describer is a sender that can say what it is (without secrets).
type describer interface{ Describe() string }

// addSenders registers the configured gateway senders in senders, by
// address scheme. A scheme another sender already serves (--sms-webhook
// for sms:) is an error naming both flags. The gateway senders are logged
// (without secrets).
func (c *pushConfig) addSenders(senders map[string]notification.Sender, log *slog.Logger) error {
	if err := c.add(senders); err != nil {
		return err
	}
	for _, d := range senderDescriptions(senders) {
		log.Info("notification sender", "sender", d)
	}
	return nil
}

func (c *pushConfig) add(senders map[string]notification.Sender) error {
	claim := func(scheme, flag string, s notification.Sender) error {
		if _, taken := senders[scheme]; taken {
			other := "another sender"
			if scheme == "sms" {
				other = "--sms-webhook"
			}
			return fmt.Errorf("%s and %s both send to %s: addresses: give one of them", flag, other, scheme)
		}
		senders[scheme] = s
		return nil
	}
	if c.PPGURL != "" {
		if err := checkGatewayURL("--ppg-url", c.PPGURL); err != nil {
			return err
		}
		pw, err := gatewayPassword("--ppg-password-file", c.PPGPasswordFile, envPPGPassword)
		if err != nil {
			return err
		}
		if pw != "" && c.PPGUser == "" {
			return errors.New("a PPG password is set but --ppg-user is not")
		}
		s := &pushgw.PPGSender{URL: c.PPGURL, User: c.PPGUser, Password: pw, Domain: c.PPGDomain, Timeout: c.PPGTimeout}
		if err := claim(pushgw.SchemeSMS, "--ppg-url", s); err != nil {
			return err
		}
		if err := claim(pushgw.SchemeIP, "--ppg-url", s); err != nil {
			return err
		}
	} else if c.PPGUser != "" || c.PPGPasswordFile != "" || c.PPGDomain != "" {
		return errors.New("--ppg-user, --ppg-password-file and --ppg-domain need --ppg-url")
	}
	if c.SendSMSURL != "" {
		if err := checkGatewayURL("--kannel-sendsms", c.SendSMSURL); err != nil {
			return err
		}
		pw, err := gatewayPassword("--kannel-password-file", c.SendSMSPasswordFile, envKannelPassword)
		if err != nil {
			return err
		}
		if c.SendSMSUser == "" {
			return errors.New("--kannel-sendsms needs --kannel-user (a sendsms-user of Kannel)")
		}
		s := &pushgw.SendSMSSender{URL: c.SendSMSURL, User: c.SendSMSUser, Password: pw, From: c.SendSMSFrom,
			SMSC: c.SendSMSSMSC, Timeout: c.SendSMSTimeout}
		if err := claim("sms", "--kannel-sendsms", s); err != nil {
			return err
		}
	} else if c.SendSMSUser != "" || c.SendSMSPasswordFile != "" || c.SendSMSFrom != "" || c.SendSMSSMSC != "" {
		return errors.New("--kannel-user, --kannel-password-file, --kannel-from and --kannel-smsc need --kannel-sendsms")
	}
	return nil
}

// checkGatewayURL wants an absolute http(s) URL without credentials in it
// (they would show in logs and process listings: use the user and password
// flags).
func checkGatewayURL(flag, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s: want an http:// or https:// URL", flag)
	}
	if u.User != nil {
		return fmt.Errorf("%s: put no credentials in the URL; use the user flag and a password file", flag)
	}
	return nil
}

// gatewayPassword reads a password from file (its first line), else from the
// environment variable env.
func gatewayPassword(flag, file, env string) (string, error) {
	if file == "" {
		return os.Getenv(env), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", fmt.Errorf("%s: %s is empty", flag, file)
	}
	return line, nil
}

// senderDescriptions lists the senders by scheme, for the startup log.
func senderDescriptions(senders map[string]notification.Sender) []string {
	var out []string
	seen := map[notification.Sender]bool{}
	for _, scheme := range slices.Sorted(maps.Keys(senders)) {
		s := senders[scheme]
		if d, ok := s.(describer); ok && !seen[s] {
			seen[s] = true
			out = append(out, d.Describe())
		}
	}
	return out
}

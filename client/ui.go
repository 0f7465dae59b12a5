package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/omadm/omadm/syncml"
)

// UIAlert is a decoded user-interaction alert (1100–1104).
type UIAlert struct {
	Code    syncml.AlertCode
	Text    string
	Choices []string // 1103/1104: choice texts, numbered from 1
	// MinDisplay (MINDT) is how long a 1100 message should stay visible; the
	// engine holds its answer until then, so a UI may return at once.
	MinDisplay time.Duration
	// MaxWait (MAXDT) is how long to wait for the user; the engine enforces it
	// by ending the Prompt context, then sends the default (DR) or 408.
	MaxWait time.Duration
	// Default (DR): 1101 "0"/"1", 1102 text, 1103 index, 1104 indexes like "2-3".
	Default string
	// MaxLen (MAXLEN) bounds 1102 input (0 = unbounded).
	MaxLen int
	// InputType (IT): 'A' alphanumeric (default), 'N', 'D', 'T', 'P', 'I'.
	InputType byte
	// Echo (ET): 'T' text (default) or 'P' password.
	Echo byte
}

// UIResult is the user's decision.
type UIResult int

// Possible user decisions.
const (
	UIAccepted  UIResult = iota // OK / Yes / input given
	UIRejected                  // No (1101): 304
	UICancelled                 // cancel: 214, stops processing
	UITimedOut                  // no answer within MAXDT: 408
)

// UIReply is the answer to a UIAlert.
type UIReply struct {
	Result UIResult
	Text   string // 1102 input
	Chosen []int  // 1103/1104 chosen choice numbers (from 1)
}

// UI shows user-interaction alerts. Prompt blocks until the user answers or
// ctx ends (MAXDT, measured with Config.Clock); returning ctx.Err() then
// counts as a timeout.
type UI interface {
	Prompt(ctx context.Context, a *UIAlert) (*UIReply, error)
}

// UIFunc adapts a function to UI.
type UIFunc func(ctx context.Context, a *UIAlert) (*UIReply, error)

// Prompt calls f.
func (f UIFunc) Prompt(ctx context.Context, a *UIAlert) (*UIReply, error) { return f(ctx, a) }

var (
	_ UI = UIFunc(nil)
	_ UI = AutoAnswer{}
	_ UI = (*Terminal)(nil)
)

// AutoAnswer answers every alert without a user: unattended devices and tests.
// Confirmations get Accept, text input gets Text (or the alert's default),
// choices get Chosen (or the default, or the first choice).
type AutoAnswer struct {
	Reject bool   // answer 1101 with No
	Cancel bool   // cancel every alert
	Text   string // 1102 answer; "" uses the alert default
	Chosen []int  // 1103/1104 answer
}

// Prompt answers a without waiting.
func (a AutoAnswer) Prompt(_ context.Context, al *UIAlert) (*UIReply, error) {
	if a.Cancel {
		return &UIReply{Result: UICancelled}, nil
	}
	r := &UIReply{Result: UIAccepted}
	switch al.Code {
	case syncml.AlertConfirmOrReject:
		if a.Reject {
			r.Result = UIRejected
		}
	case syncml.AlertTextInput:
		r.Text = a.Text
		if r.Text == "" {
			r.Text = al.Default
		}
	case syncml.AlertSingleChoice, syncml.AlertMultipleChoice:
		r.Chosen = a.Chosen
		if len(r.Chosen) == 0 {
			r.Chosen = parseChoiceDefault(al.Default, len(al.Choices))
		}
		if len(r.Chosen) == 0 && len(al.Choices) > 0 {
			r.Chosen = []int{1}
		}
		if al.Code == syncml.AlertSingleChoice && len(r.Chosen) > 1 {
			r.Chosen = r.Chosen[:1]
		}
	}
	return r, nil
}

// Terminal prompts on a text terminal (stdin/stdout of the agent).
type Terminal struct {
	In  io.Reader
	Out io.Writer

	once  sync.Once
	lines chan termLine
}

type termLine struct {
	s   string
	err error
}

// readLines is the one goroutine reading In, so a prompt that timed out does
// not leave a second reader behind.
func (t *Terminal) readLines() {
	br := bufio.NewReader(t.In)
	for {
		s, err := br.ReadString('\n')
		t.lines <- termLine{strings.TrimRight(s, "\r\n"), err}
		if err != nil {
			close(t.lines)
			return
		}
	}
}

// printable makes server text safe to write to a terminal: control
// characters (escape sequences that could move the cursor, rewrite the
// prompt, retitle the window or worse), bidirectional overrides (text that
// reads differently from what it is) and invalid UTF-8 become U+FFFD; line
// breaks and tabs stay.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unsafeRune(r) {
			return utf8.RuneError
		}
		return r
	}, s)
}

func unsafeRune(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r == utf8.RuneError, unicode.IsControl(r):
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// Prompt writes the alert to Out and reads one answer line from In. Lines are
// read in a goroutine so ctx (MAXDT) can end the wait.
func (t *Terminal) Prompt(ctx context.Context, a *UIAlert) (*UIReply, error) {
	t.once.Do(func() {
		t.lines = make(chan termLine, 1)
		go t.readLines()
	})
	fmt.Fprintf(t.Out, "\n[DM server] %s\n", printable(a.Text))
	for i, c := range a.Choices {
		fmt.Fprintf(t.Out, "  %d) %s\n", i+1, printable(c))
	}
	switch a.Code {
	case syncml.AlertDisplay:
		return &UIReply{Result: UIAccepted}, nil
	case syncml.AlertConfirmOrReject:
		fmt.Fprint(t.Out, "Accept? [y/n/c] ")
	case syncml.AlertTextInput:
		fmt.Fprint(t.Out, "Input (empty line cancels): ")
	case syncml.AlertSingleChoice:
		fmt.Fprint(t.Out, "Choose one number (empty cancels): ")
	case syncml.AlertMultipleChoice:
		fmt.Fprint(t.Out, "Choose numbers separated by spaces (empty cancels): ")
	}
	var l termLine
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case got, ok := <-t.lines:
		if !ok {
			return &UIReply{Result: UICancelled}, nil
		}
		l = got
	}
	if l.err != nil && l.s == "" {
		return &UIReply{Result: UICancelled}, nil
	}
	s := strings.TrimSpace(l.s)
	switch a.Code {
	case syncml.AlertConfirmOrReject:
		switch strings.ToLower(s) {
		case "y", "yes":
			return &UIReply{Result: UIAccepted}, nil
		case "n", "no":
			return &UIReply{Result: UIRejected}, nil
		}
		return &UIReply{Result: UICancelled}, nil
	case syncml.AlertTextInput:
		if s == "" {
			return &UIReply{Result: UICancelled}, nil
		}
		return &UIReply{Result: UIAccepted, Text: l.s}, nil
	default:
		var chosen []int
		for _, f := range strings.Fields(s) {
			n, err := strconv.Atoi(f)
			if err == nil && n >= 1 && n <= len(a.Choices) {
				chosen = append(chosen, n)
			}
		}
		if len(chosen) == 0 {
			return &UIReply{Result: UICancelled}, nil
		}
		return &UIReply{Result: UIAccepted, Chosen: chosen}, nil
	}
}

// parseUIAlert decodes the items of a UI alert: options, text, choices.
func parseUIAlert(al *syncml.Alert) (*UIAlert, error) {
	if len(al.Items) < 2 {
		return nil, errors.New("UI alert needs an options item and a text item")
	}
	u := &UIAlert{Code: al.Data, InputType: 'A', Echo: 'T'}
	u.Text = al.Items[1].Data.String()
	for _, it := range al.Items[2:] {
		u.Choices = append(u.Choices, it.Data.String())
	}
	if (al.Data == syncml.AlertSingleChoice || al.Data == syncml.AlertMultipleChoice) && len(u.Choices) == 0 {
		return nil, errors.New("choice alert without choices")
	}
	opts := strings.TrimSpace(al.Items[0].Data.String())
	if opts == "" {
		return u, nil
	}
	// Options are URL-encoded name=value pairs; '+' decodes to a space. The
	// client MUST skip, without an error, every option it cannot process
	// (OMA-TS-DM_Protocol-V1_2 §10.3): a malformed pair, an
	// unknown name or a value out of range leaves that option at its default
	// and the alert is shown. Only a missing text or choice item is an error.
	vals := parseOptions(opts)
	secs := func(name string) time.Duration {
		n, err := strconv.Atoi(vals[name])
		if err != nil || n <= 0 || n > 86400*7 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	u.MinDisplay = secs("MINDT")
	u.MaxWait = secs("MAXDT")
	u.Default = vals["DR"]
	if n, err := strconv.Atoi(vals["MAXLEN"]); err == nil && n > 0 {
		u.MaxLen = n
	}
	if v := vals["IT"]; len(v) == 1 && strings.Contains("ANDTPI", v) {
		u.InputType = v[0]
	}
	if v := vals["ET"]; v == "T" || v == "P" {
		u.Echo = v[0]
	}
	return u, nil
}

// parseOptions decodes the name=value pairs of a UI options string, keeping
// the first value of each name and dropping pairs that do not decode.
func parseOptions(s string) map[string]string {
	out := make(map[string]string, 4)
	for _, pair := range strings.Split(s, "&") {
		k, v, _ := strings.Cut(pair, "=")
		k, err1 := syncml.UnescapeUIOption(k)
		v, err2 := syncml.UnescapeUIOption(v)
		if err1 != nil || err2 != nil || k == "" {
			continue
		}
		if _, dup := out[k]; !dup {
			out[k] = v
		}
	}
	return out
}

// parseChoiceDefault reads a DR value such as "2" or "2-3" into choice numbers.
func parseChoiceDefault(dr string, n int) []int {
	var out []int
	for _, f := range strings.FieldsFunc(dr, func(r rune) bool { return r == '-' || r == ',' || r == ' ' }) {
		v, err := strconv.Atoi(f)
		if err == nil && v >= 1 && v <= n {
			out = append(out, v)
		}
	}
	return out
}

// validInput checks 1102 input against MAXLEN and IT.
func validInput(u *UIAlert, s string) bool {
	if u.MaxLen > 0 && len([]rune(s)) > u.MaxLen {
		return false
	}
	switch u.InputType {
	case 'N':
		_, err := strconv.ParseFloat(s, 64)
		return err == nil
	case 'D':
		_, err := time.Parse("02012006", s)
		return err == nil
	case 'T':
		_, err := time.Parse("150405", s)
		return err == nil
	case 'P':
		for i, r := range s {
			if !(r >= '0' && r <= '9' || r == 'p' || r == 'w' || r == 's' || (r == '+' && i == 0)) {
				return false
			}
		}
		return s != ""
	case 'I':
		parts := strings.Split(s, ".")
		if len(parts) != 4 {
			return false
		}
		for _, p := range parts {
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || n > 255 {
				return false
			}
		}
	}
	return true
}

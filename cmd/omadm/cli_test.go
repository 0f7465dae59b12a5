package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/spf13/cobra"
)

// runOmadm runs a fresh omadm root command as main does and returns the exit
// status, stdout and stderr.
func runOmadm(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(newRootCmd(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLI_ExitStatusOfUsageErrorsIs2WithSuggestion(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"unknown command", []string{"srve"}, 2, []string{`unknown command "srve" for "omadm"`, "Did you mean this?", "serve"}},
		{"unknown ctl subcommand", []string{"ctl", "devcie"}, 2, []string{`unknown command "devcie" for "omadm ctl"`, "device"}},
		{"unknown nested subcommand", []string{"ctl", "device", "lst"}, 2, []string{`"omadm ctl device"`, "list"}},
		{"unknown flag", []string{"ctl", "jobs", "--stat", "failed"}, 2, []string{"unknown flag: --stat", "Did you mean --state?"}},
		{"bad flag value", []string{"ctl", "jobs", "--limit", "many"}, 2, []string{`"many"`, "--limit"}},
		{"missing argument", []string{"ctl", "device", "show"}, 2, []string{"accepts 1 arg(s), received 0", "omadm ctl device show --help"}},
		{"missing required flag", []string{"ctl", "device", "add", "d1"}, 2, []string{"required flag"}},
		{"unknown output format", []string{"ctl", "device", "list", "-o", "xml"}, 2, []string{`-o "xml": want table, json or yaml`}},
		{"unknown completion shell", []string{"completion", "tcsh"}, 2, []string{`unknown command "tcsh"`}},
		{"operation failed", []string{"ctl", "--server", "ftp://x", "--token", "t", "device", "list"}, 1, []string{"must start with http://"}},
		{"group alone shows help", []string{"ctl", "device"}, 0, nil},
		{"help", []string{"--help"}, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runOmadm(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestCLI_VersionPrintsBuildInfo(t *testing.T) {
	code, out, stderr := runOmadm(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "omadm ") || !strings.Contains(out, " go1.") || strings.Count(out, "\n") != 1 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}

func TestCLI_CompletionGeneratesForEveryShell(t *testing.T) {
	for _, tc := range []struct{ shell, marker string }{
		{"bash", "__start_omadm"},
		{"zsh", "#compdef omadm"},
		{"fish", "complete -c omadm"},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			code, out, stderr := runOmadm(t, "completion", tc.shell)
			if code != 0 || !strings.Contains(out, tc.marker) {
				t.Fatalf("exit %d, stderr %q, script lacks %q", code, stderr, tc.marker)
			}
		})
	}
}

func TestCtl_OutputYAMLPrintsTheJSONTreeAsYAML(t *testing.T) {
	url, _ := ctlServer(t)
	if _, _, err := runCtl(t, url, "device", "add", "IMEI:1", "--username", "u", "--password", "p",
		"--notify-addr", "udp://127.0.0.1:9", "--label", "site=lab"); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCtl(t, url, "device", "show", "IMEI:1", "-o", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"id: IMEI:1\n", "notify_addr: udp://127.0.0.1:9\n", "labels:\n  site: lab\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("yaml lacks %q:\n%s", w, out)
		}
	}
	out, _, err = runCtl(t, url, "device", "list", "-o", "yaml")
	if err != nil || !strings.HasPrefix(out, "- id: IMEI:1\n") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	// --json is the deprecated spelling of -o json.
	out, stderr, err := runCtl(t, url, "device", "list", "--json")
	var ds []map[string]any
	if err != nil || json.Unmarshal([]byte(out), &ds) != nil || len(ds) != 1 || !strings.Contains(stderr, "deprecated") {
		t.Fatalf("--json: %v\nstdout %s\nstderr %s", err, out, stderr)
	}
}

func TestEncodeYAML_BlockStyleWithQuotingWhereNeeded(t *testing.T) {
	type inner struct {
		A int    `json:"a"`
		B string `json:"b"`
	}
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		// "n" and "y" are booleans to YAML 1.1 readers, so they are quoted.
		{"scalars", map[string]any{"s": "plain text", "n": 3, "f": 1.5, "t": true, "z": nil},
			"f: 1.5\n\"n\": 3\ns: plain text\nt: true\nz: null\n"},
		{"struct order kept", struct {
			Z string `json:"z"`
			A string `json:"a"`
		}{"1", "2"}, "z: \"1\"\na: \"2\"\n"},
		{"strings read as other types are quoted", []string{"true", "No", "null", "12", "1e3", ".inf", "", " x", "a: b", "a #b", "-x", "*x", "line\nnext", "tab\there"},
			"- \"true\"\n- \"No\"\n- \"null\"\n- \"12\"\n- \"1e3\"\n- \".inf\"\n- \"\"\n- \" x\"\n- \"a: b\"\n- \"a #b\"\n- \"-x\"\n- \"*x\"\n- \"line\\nnext\"\n- \"tab\\there\"\n"},
		{"uris and ids stay plain", []string{"./DevInfo/Mod", "IMEI:1", "http://h/x"}, "- ./DevInfo/Mod\n- IMEI:1\n- http://h/x\n"},
		{"unprintable characters escaped", "a\u007fb\u0085c", "\"a\\u007fb\\u0085c\"\n"},
		{"nested", map[string]any{"m": map[string]any{"k": []any{1, map[string]any{"x": "y", "w": []any{}}, []any{"p", "q"}}}},
			"m:\n  k:\n  - 1\n  - w: []\n    x: \"y\"\n  - - p\n    - q\n"},
		{"empty collections", map[string]any{"a": []any{}, "o": map[string]any{}}, "a: []\no: {}\n"},
		{"list of structs", []inner{{1, "x"}, {2, "y z"}}, "- a: 1\n  b: x\n- a: 2\n  b: y z\n"},
		{"top-level empty", []inner{}, "[]\n"},
		{"top-level scalar", "x", "x\n"},
		{"quoted key", map[string]string{"a b: c": "v"}, "\"a b: c\": v\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := encodeYAML(tc.v)
			if err != nil || string(got) != tc.want {
				t.Errorf("got %v\n%s\nwant\n%s", err, got, tc.want)
			}
		})
	}
}

func TestProgress_NothingWhenStderrIsNotATerminal(t *testing.T) {
	var b bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		stop := startProgress(&b, "waiting for job 1")
		time.Sleep(5 * time.Second) // fake time: the wait outlasts the delay
		stop()
	})
	if b.Len() != 0 {
		t.Fatalf("progress written to a non-terminal: %q", b.String())
	}
}

func TestProgress_ElapsedLineOnTerminalAfterOneSecondThenErased(t *testing.T) {
	for _, tc := range []struct {
		name  string
		wait  time.Duration
		wantS []string
	}{
		{"short wait shows nothing", 500 * time.Millisecond, nil},
		{"long wait shows elapsed", 2500 * time.Millisecond, []string{"waiting for job 1… 1s", "waiting for job 1… 2s", "\r\033[K"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			synctest.Test(t, func(t *testing.T) {
				stop := startProgress(fakeTerminal{&b}, "waiting for job 1")
				time.Sleep(tc.wait) // fake time inside the synctest bubble: advances the clock, no real wait
				stop()
			})
			if tc.wantS == nil && b.Len() != 0 {
				t.Fatalf("output for a short wait: %q", b.String())
			}
			for _, w := range tc.wantS {
				if !strings.Contains(b.String(), w) {
					t.Errorf("progress %q lacks %q", b.String(), w)
				}
			}
		})
	}
}

func TestCtlOptions_PrintFollowsOutputFlag(t *testing.T) {
	v := map[string]any{"device_id": "d1"}
	table := func(w io.Writer) error { _, err := io.WriteString(w, "TABLE\n"); return err }
	for _, tc := range []struct{ output, def, want string }{
		{"", "table", "TABLE\n"},
		{"", "json", "{\n  \"device_id\": \"d1\"\n}\n"},
		{"json", "table", "{\n  \"device_id\": \"d1\"\n}\n"},
		{"yaml", "table", "device_id: d1\n"},
		{"table", "json", "TABLE\n"},
	} {
		t.Run(tc.output+"/"+tc.def, func(t *testing.T) {
			o := &ctlOptions{output: tc.output}
			cmd := &cobra.Command{}
			var b bytes.Buffer
			cmd.SetOut(&b)
			if err := o.prepareOutput(cmd); err != nil {
				t.Fatal(err)
			}
			if err := o.print(cmd, tc.def, v, table); err != nil || b.String() != tc.want {
				t.Errorf("got %v %q, want %q", err, b.String(), tc.want)
			}
		})
	}
}

func TestExitCode_MapsErrorsToStatuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"success", nil, 0},
		{"operation failed", errors.New("cannot reach server"), 1},
		{"usage", usageErrorf("--limit %q: want 1..1000", "0"), 2},
		{"wrapped usage", fmt.Errorf("ctl: %w", usageErrorf("bad")), 2},
		{"job failed", &exitError{code: exitJobFailed, err: errors.New("job 1 failed")}, 1},
		{"wait ran out", &exitError{code: exitJobTimeout, err: errors.New("job 1 still queued")}, 3},
		{"required flag", errors.New(`required flag(s) "password" not set`), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.err); got != tc.want {
				t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

// fakeTerminal is a buffer that says it is a terminal.
type fakeTerminal struct{ *bytes.Buffer }

func (fakeTerminal) IsTerminal() bool { return true }

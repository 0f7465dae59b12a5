package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

func TestRun_BadFlagsExit2NamingFlagValueAndExpectation(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--pol", "5m"}, []string{"unknown flag --pol", "did you mean --poll?"}},
		{[]string{"--frobnicate"}, []string{"unknown flag --frobnicate", "-h lists the flags"}},
		{[]string{"--poll", "5x"}, []string{`--poll "5x"`, "want a duration"}},
		{[]string{"--retries", "abc"}, []string{`--retries "abc"`, "want an integer"}},
		{[]string{"--once=maybe"}, []string{`--once="maybe"`, "want true or false"}},
		{[]string{"--state"}, []string{"--state needs a value"}},
		{[]string{"--timeout"}, []string{"--timeout needs a value: a duration"}},
		{[]string{"--state", t.TempDir()}, []string{"nothing to do"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var errb bytes.Buffer
			code := run(context.Background(), tc.args, nil, io.Discard, &errb)
			if code != 2 {
				t.Errorf("exit %d, want 2 (usage)", code)
			}
			for _, w := range tc.want {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr %q lacks %q", errb.String(), w)
				}
			}
			if strings.Count(errb.String(), "\n") != 1 {
				t.Errorf("want one line of error, got %q", errb.String())
			}
		})
	}
}

func TestRun_VersionPrintsBuildInfoAndExits0(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--version"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.HasPrefix(out.String(), "omadm-agent ") || !strings.Contains(out.String(), " go1.") {
		t.Errorf("version line %q", out.String())
	}
}

func TestRun_HelpExits0WithFlagList(t *testing.T) {
	var errb bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, nil, io.Discard, &errb); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errb.String(), "Usage: omadm-agent") || !strings.Contains(errb.String(), "-state") {
		t.Errorf("help %q", errb.String())
	}
}

package mo_test

import (
	"testing"
	"time"

	"github.com/omadm/omadm/mo"
	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/mo/lawmo"
)

func TestRetryPolicy_DescriptorsClassifyOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    *mo.Descriptor
		op   string
		o    mo.Outcome
		want bool
	}{
		// OMA-TS-DM-FUMO-V1_0 result codes: 503 download failed on the
		// network, 412 alternate download server unavailable, 407 its
		// request timed out, 500 its server failed: nothing against the
		// package, so another attempt may succeed.
		{"fumo 503 network", fumo.Descriptor, "DownloadAndUpdate", mo.Outcome{Accepted: true, Result: 503}, true},
		{"fumo 412 server unavailable", fumo.Descriptor, "DownloadAndUpdate", mo.Outcome{Accepted: true, Result: 412}, true},
		{"fumo 407 download timeout", fumo.Descriptor, "Download", mo.Outcome{Accepted: true, Result: 407}, true},
		// 402 corrupted package, 403 package/device mismatch, 404 failed
		// validation: the same package fails again.
		{"fumo 402 corrupt", fumo.Descriptor, "DownloadAndUpdate", mo.Outcome{Accepted: true, Result: 402}, false},
		{"fumo 403 mismatch", fumo.Descriptor, "DownloadAndUpdate", mo.Outcome{Accepted: true, Result: 403}, false},
		{"fumo 404 validation", fumo.Descriptor, "DownloadAndUpdate", mo.Outcome{Accepted: true, Result: 404}, false},
		{"fumo 410 update failed", fumo.Descriptor, "Update", mo.Outcome{Accepted: true, Result: 410}, false},
		{"fumo unreached", fumo.Descriptor, "DownloadAndUpdate", mo.Outcome{Unreached: true}, true},
		{"fumo timed out", fumo.Descriptor, "DownloadAndUpdate", mo.Outcome{Accepted: true, TimedOut: true}, true},
		{"lawmo wipe unreached", lawmo.Descriptor, "Wipe", mo.Outcome{Unreached: true}, true},
		// A wipe the device accepted may be running: never sent again.
		{"lawmo wipe accepted then timed out", lawmo.Descriptor, "Wipe", mo.Outcome{Accepted: true, TimedOut: true}, false},
		{"lawmo wipe reported failure", lawmo.Descriptor, "Wipe", mo.Outcome{Accepted: true, Result: 1452}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.d.RetryFor(tc.op)
			if got := p.Retryable(tc.o); got != tc.want {
				t.Errorf("Retryable(%+v) = %v, want %v", tc.o, got, tc.want)
			}
			if err := p.Validate(); err != nil {
				t.Errorf("declared policy invalid: %v", err)
			}
		})
	}
}

func TestRetryPolicy_NextBacksOffAndStopsAfterTheLastAttempt(t *testing.T) {
	p := mo.RetryPolicy{Attempts: 5, Backoff: time.Minute, MaxBackoff: 3 * time.Minute, OnUnreached: true}
	un := mo.Outcome{Unreached: true}
	for _, tc := range []struct {
		attempt int
		wait    time.Duration
		ok      bool
	}{
		{1, time.Minute, true},
		{2, 2 * time.Minute, true},
		{3, 3 * time.Minute, true}, // capped
		{4, 3 * time.Minute, true},
		{5, 0, false}, // the last attempt
		{0, 0, false},
	} {
		wait, ok := p.Next(tc.attempt, un)
		if wait != tc.wait || ok != tc.ok {
			t.Errorf("Next(%d) = %s, %v; want %s, %v", tc.attempt, wait, ok, tc.wait, tc.ok)
		}
	}
	if _, ok := p.Next(1, mo.Outcome{Accepted: true, Result: 503}); ok {
		t.Error("a result code the policy does not list is retried")
	}
	if _, ok := (mo.RetryPolicy{}).Next(1, un); ok {
		t.Error("the zero policy retries")
	}
	huge := mo.RetryPolicy{Attempts: mo.MaxRetryAttempts, Backoff: time.Hour, OnUnreached: true}
	if wait, ok := huge.Next(mo.MaxRetryAttempts-1, un); !ok || wait <= 0 {
		t.Errorf("uncapped backoff after %d attempts = %s, %v: want a positive wait", mo.MaxRetryAttempts-1, wait, ok)
	}
}

func TestParseRetryPolicy_OverridesTheDeclaredPolicy(t *testing.T) {
	base := fumo.Descriptor.Retry
	p, err := mo.ParseRetryPolicy("attempts=5, backoff=1m, max-backoff=30m, on=unreached|503", base)
	if err != nil {
		t.Fatal(err)
	}
	if p.Attempts != 5 || p.Backoff != time.Minute || p.MaxBackoff != 30*time.Minute || !p.OnUnreached || p.OnTimeout ||
		len(p.Results) != 1 || p.Results[0] != 503 {
		t.Errorf("parsed %+v", p)
	}
	if len(fumo.Descriptor.Retry.Results) == 1 {
		t.Error("parsing changed the declared policy")
	}
	p, err = mo.ParseRetryPolicy("attempts=1", base)
	if err != nil || p.Attempts != 1 || p.Backoff != base.Backoff {
		t.Errorf("attempts=1 over the declared policy: %+v, %v", p, err)
	}
	for _, bad := range []string{
		"attempts", "attempts=x", "attempts=-1", "attempts=99", "backoff=soon", "backoff=-1m",
		"backoff=1h,max-backoff=1m", "on=sometimes", "on=-3", "colour=blue", "never-after-accepted=maybe",
	} {
		if _, err := mo.ParseRetryPolicy(bad, base); err == nil {
			t.Errorf("ParseRetryPolicy(%q) accepted", bad)
		}
	}
}

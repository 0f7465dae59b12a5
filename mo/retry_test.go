package mo_test

import (
	"testing"
	"time"

	"github.com/omadm/omadm/mo"
	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/mo/lawmo"
	"github.com/omadm/omadm/mo/registry"
)

func TestRetryPolicy_DelayDoublesUpToTheCap(t *testing.T) {
	p := mo.RetryPolicy{MaxAttempts: 6, Backoff: 5 * time.Minute, MaxBackoff: 30 * time.Minute}
	for next, want := range map[int]time.Duration{2: 5 * time.Minute, 3: 10 * time.Minute, 4: 20 * time.Minute, 5: 30 * time.Minute, 6: 30 * time.Minute} {
		if got := p.Delay(next); got != want {
			t.Errorf("Delay(%d) = %s, want %s", next, got, want)
		}
	}
	uncapped := mo.RetryPolicy{Backoff: time.Second}
	if got := uncapped.Delay(200); got <= 0 {
		t.Errorf("an uncapped delay far out = %s, want it to stay positive", got)
	}
}

// The declared policies: FUMO retries the transient download results
// (OMA-TS-DM-FUMO-V1_0 §10.2: 407, 412, 500, 503, 550-599) but not a failed
// update or a refused package; LAWMO retries a timeout only.
func TestDescriptors_DeclareRetryPolicies(t *testing.T) {
	fp := fumo.Descriptor.RetryPolicyOf(nil)
	for _, code := range []int{407, 412, 500, 503, 555} {
		if !fp.RetryResult(code) {
			t.Errorf("FUMO does not retry result %d", code)
		}
	}
	for _, code := range []int{401, 402, 404, 405, 410, 411, 501} {
		if fp.RetryResult(code) {
			t.Errorf("FUMO retries result %d", code)
		}
	}
	lp := lawmo.Descriptor.RetryPolicyOf(nil)
	if !lp.OnTimeout || len(lp.OnResult) != 0 || len(lp.OnExecStatus) != 0 || !lp.Retries() {
		t.Errorf("LAWMO policy %+v: want retries on timeout only", lp)
	}
	for _, d := range registry.Descriptors() {
		p := d.RetryPolicyOf(nil)
		if p.Retries() && (p.Backoff <= 0 || p.MaxBackoff < p.Backoff) {
			t.Errorf("%s: policy %+v retries without a sane backoff", d.Name, p)
		}
		for _, r := range p.OnResult {
			if d.Successful(r[0]) || d.Successful(r[1]) {
				t.Errorf("%s retries a success code range %v", d.Name, r)
			}
		}
	}
}

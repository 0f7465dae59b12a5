package lograte_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/internal/lograte"
)

func TestLimiter_OneLinePerMessagePerIntervalWithTheCountLeftOut(t *testing.T) {
	var b strings.Builder
	log := slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	now := time.Unix(0, 0)
	l := lograte.New(10 * time.Second).WithClock(func() time.Time { return now })
	for range 5 {
		l.Warn(log, "refused", "n", 1)
		l.Warn(log, "other")
	}
	now = now.Add(10 * time.Second)
	l.Warn(log, "refused", "n", 2)
	want := "level=WARN msg=refused n=1\nlevel=WARN msg=other\nlevel=WARN msg=refused n=2 suppressed=4 every=10s\n"
	if b.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", b.String(), want)
	}
}

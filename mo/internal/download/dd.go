package download

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/omadm/omadm/mo/dlota"
)

// DefaultNotifyTimeout bounds the status report POST.
const DefaultNotifyTimeout = 60 * time.Second

// Notify posts a status report to installNotifyURI (OMA-Download-OTA-V1_0,
// "Status Report": a POST whose body is the status line; the server's 2xx
// confirms it). It uses the Getter's client and connect bounds.
func (g *Getter) Notify(ctx context.Context, notifyURI string, st dlota.Status) error {
	ctx, cancel := context.WithTimeout(ctx, g.o.ConnectTimeout+g.o.StallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, notifyURI, strings.NewReader(st.String()))
	if err != nil {
		return &Error{KindBadURL, err}
	}
	req.Header.Set("Content-Type", "text/plain")
	resp, err := g.o.Client.Do(req)
	if err != nil {
		return &Error{KindUnavailable, fmt.Errorf("status report to %s: %w", notifyURI, err)}
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fail(KindServer, "status report %q to %s: %s", st, notifyURI, resp.Status)
	}
	return nil
}

// GetDescriptor fetches a bounded body (a descriptor) into memory.
func (g *Getter) GetDescriptor(ctx context.Context, rawURL string) (*dlota.Descriptor, error) {
	var buf bytes.Buffer
	lg := &Getter{o: g.o}
	lg.o.MaxSize = dlota.MaxDescriptorSize
	if _, err := lg.GetFrom(ctx, rawURL, 0, &buf); err != nil {
		if KindOf(err) == KindTooLarge {
			return nil, &dlota.DDError{Status: dlota.StatusInvalidDescriptor, Err: err}
		}
		return nil, err
	}
	return dlota.ParseDescriptor(buf.Bytes(), rawURL)
}

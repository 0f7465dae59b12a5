// Package client is the Go client of the omadm operator API (/api/v1), used by
// `omadm ctl`, `omadm sim --enroll`, the demo and tests. Errors are explicit about what went wrong:
// an unreachable server, a rejected token, an unknown device or job, or the
// server's own validation message.
package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/omadm/omadm/api"
)

// maxResponse bounds how much of an answer the client reads (traces of a
// busy device can be large, but never unbounded).
const maxResponse = 64 << 20

// Client talks to one omadm server.
type Client struct {
	base  string
	token string
	// HTTP is the underlying client; its Timeout must stay 0 for Stream to
	// work (requests are bounded by their contexts instead).
	HTTP *http.Client
}

// New returns a client for the server at baseURL (e.g.
// "http://127.0.0.1:8080") authenticating with token.
func New(baseURL, token string) *Client {
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, HTTP: &http.Client{}}
}

// BaseURL is the server URL the client talks to.
func (c *Client) BaseURL() string { return c.base }

// Error is a non-2xx answer of the API.
type Error struct {
	StatusCode int
	Message    string // the server's {"error": ...}
}

func (e *Error) Error() string {
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return "unauthorized: " + e.Message + " (check --token or OMADM_API_TOKEN)"
	case http.StatusNotFound:
		return "not found: " + e.Message
	}
	return fmt.Sprintf("%s (HTTP %d)", e.Message, e.StatusCode)
}

// IsNotFound reports whether err is a 404 answer.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == http.StatusNotFound
}

// IsUnauthorized reports whether err is a 401 answer.
func IsUnauthorized(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == http.StatusUnauthorized
}

func (c *Client) newRequest(ctx context.Context, method, path string, q url.Values, body any) (*http.Request, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("bad server URL %q: %w", c.base, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

func (c *Client) send(req *http.Request) (*http.Response, error) {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, ctxErr
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is already in our message
		}
		return nil, fmt.Errorf("cannot reach omadm server at %s: %w", c.base, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var e api.Error
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
			if e.Error == "" {
				e.Error = http.StatusText(resp.StatusCode)
			}
			if resp.StatusCode == http.StatusNotFound {
				e.Error += " (is " + c.base + " an omadm server?)"
			}
		}
		return nil, &Error{StatusCode: resp.StatusCode, Message: e.Error}
	}
	return resp, nil
}

// do sends a request and decodes the JSON answer into out (nil: discard).
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body, out any) error {
	req, err := c.newRequest(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(out); err != nil {
		return fmt.Errorf("decoding answer of %s %s: %w", method, path, err)
	}
	return nil
}

func devicePath(id string, rest ...string) string {
	return api.Prefix + "/devices/" + url.PathEscape(id) + strings.Join(rest, "")
}

// Health checks the server is alive (GET /healthz, no token needed).
func (c *Client) Health(ctx context.Context) (*api.Health, error) {
	var h api.Health
	return &h, c.do(ctx, "GET", "/healthz", nil, nil, &h)
}

// Ready checks the server is ready to serve: storage reachable, schema
// migrated (GET /readyz, no token needed). A server that is not ready
// answers an error carrying the reason.
func (c *Client) Ready(ctx context.Context) (*api.Health, error) {
	var h api.Health
	return &h, c.do(ctx, "GET", "/readyz", nil, nil, &h)
}

// CreateDevice enrols a device. The answer holds the generated server
// password when d.ServerPassword was empty.
func (c *Client) CreateDevice(ctx context.Context, d api.DeviceCreate) (*api.DeviceCreated, error) {
	var out api.DeviceCreated
	return &out, c.do(ctx, "POST", api.Prefix+"/devices", nil, d, &out)
}

// ListDevices returns one page of devices with ID > after (limit 0: server default).
func (c *Client) ListDevices(ctx context.Context, after string, limit int) (*api.DeviceList, error) {
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out api.DeviceList
	return &out, c.do(ctx, "GET", api.Prefix+"/devices", q, nil, &out)
}

// AllDevices follows the paging cursor to the end, at most maxPages pages.
func (c *Client) AllDevices(ctx context.Context) ([]api.Device, error) {
	var all []api.Device
	after := ""
	for range 100000 {
		page, err := c.ListDevices(ctx, after, 1000)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Devices...)
		if page.Next == "" || page.Next == after {
			return all, nil
		}
		after = page.Next
	}
	return all, nil
}

// GetDevice returns one device.
func (c *Client) GetDevice(ctx context.Context, id string) (*api.Device, error) {
	var out api.Device
	return &out, c.do(ctx, "GET", devicePath(id), nil, nil, &out)
}

// UpdateDevice changes the fields set in u.
func (c *Client) UpdateDevice(ctx context.Context, id string, u api.DeviceUpdate) (*api.Device, error) {
	var out api.Device
	return &out, c.do(ctx, "PATCH", devicePath(id), nil, u, &out)
}

// DeleteDevice removes a device and everything that belongs to it.
func (c *Client) DeleteDevice(ctx context.Context, id string) error {
	return c.do(ctx, "DELETE", devicePath(id), nil, nil, nil)
}

// CreateJob queues a command for a device.
func (c *Client) CreateJob(ctx context.Context, deviceID string, r api.JobRequest) (*api.Job, error) {
	var out api.Job
	return &out, c.do(ctx, "POST", devicePath(deviceID, "/jobs"), nil, r, &out)
}

// FUMO queues a firmware update (POST /devices/{id}/fumo): one job, a
// Sequence of the PkgURL Replace and the Exec. The returned job's Spec
// carries the correlator the device's report will have.
func (c *Client) FUMO(ctx context.Context, deviceID string, r api.FUMORequest) (*api.Job, error) {
	var out api.Job
	return &out, c.do(ctx, "POST", devicePath(deviceID, "/fumo"), nil, r, &out)
}

// LAWMO queues a lock, unlock, wipe or reset (POST /devices/{id}/lawmo): one
// job, a Sequence of the parameter Replaces and the Exec.
func (c *Client) LAWMO(ctx context.Context, deviceID string, r api.LAWMORequest) (*api.Job, error) {
	var out api.Job
	return &out, c.do(ctx, "POST", devicePath(deviceID, "/lawmo"), nil, r, &out)
}

// JobQuery selects jobs in ListJobs.
type JobQuery struct {
	States []string // empty: all
	After  int64
	Limit  int
}

// ListJobs returns one page of a device's jobs, or of every device's when
// deviceID is "".
func (c *Client) ListJobs(ctx context.Context, deviceID string, jq JobQuery) (*api.JobList, error) {
	q := url.Values{}
	if len(jq.States) > 0 {
		q.Set("state", strings.Join(jq.States, ","))
	}
	if jq.After > 0 {
		q.Set("after", strconv.FormatInt(jq.After, 10))
	}
	if jq.Limit > 0 {
		q.Set("limit", strconv.Itoa(jq.Limit))
	}
	path := api.Prefix + "/jobs"
	if deviceID != "" {
		path = devicePath(deviceID, "/jobs")
	}
	var out api.JobList
	return &out, c.do(ctx, "GET", path, q, nil, &out)
}

// GetJob returns one job.
func (c *Client) GetJob(ctx context.Context, id int64) (*api.Job, error) {
	var out api.Job
	return &out, c.do(ctx, "GET", api.Prefix+"/jobs/"+strconv.FormatInt(id, 10), nil, nil, &out)
}

// CancelJob cancels a queued or sent job.
func (c *Client) CancelJob(ctx context.Context, id int64) (*api.Job, error) {
	var out api.Job
	return &out, c.do(ctx, "POST", api.Prefix+"/jobs/"+strconv.FormatInt(id, 10)+"/cancel", nil, nil, &out)
}

// Notify asks the server to send package 0 to the device now.
func (c *Client) Notify(ctx context.Context, deviceID string) (*api.NotifyResult, error) {
	var out api.NotifyResult
	return &out, c.do(ctx, "POST", devicePath(deviceID, "/notify"), nil, nil, &out)
}

// Tree returns the cached tree of a device at or below prefix ("" = all).
func (c *Client) Tree(ctx context.Context, deviceID, prefix string) (*api.Tree, error) {
	q := url.Values{}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	var out api.Tree
	return &out, c.do(ctx, "GET", devicePath(deviceID, "/tree"), q, nil, &out)
}

// Events returns one page of events with ID > after, of one device or of all
// devices (deviceID "").
func (c *Client) Events(ctx context.Context, deviceID string, after int64, limit int) (*api.EventList, error) {
	q := url.Values{}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := api.Prefix + "/events"
	if deviceID != "" {
		path = devicePath(deviceID, "/events")
	}
	var out api.EventList
	return &out, c.do(ctx, "GET", path, q, nil, &out)
}

// Traces returns a device's most recent wire traces (session "" = any), oldest first.
func (c *Client) Traces(ctx context.Context, deviceID, session string, limit int) (*api.TraceList, error) {
	q := url.Values{}
	if session != "" {
		q.Set("session", session)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out api.TraceList
	return &out, c.do(ctx, "GET", devicePath(deviceID, "/traces"), q, nil, &out)
}

// OpenAPI returns the server's OpenAPI document.
func (c *Client) OpenAPI(ctx context.Context) (json.RawMessage, error) {
	var out json.RawMessage
	return out, c.do(ctx, "GET", api.Prefix+"/openapi.json", nil, nil, &out)
}

// StreamOptions filters the live stream.
type StreamOptions struct {
	Device string   // "" = all devices
	Kinds  []string // empty = all kinds
	// OnOpen, when set, is called once the server answered the stream
	// request: from then on no update is missed.
	OnOpen func()
	// LastEventID, when positive, asks for every stored event after it
	// first (the EventID of the last update seen), then the live updates.
	LastEventID int64
}

// ErrLagged ends a stream that fell behind on the server; resynchronise
// through the REST API and reconnect.
var ErrLagged = errors.New("event stream fell behind")

// maxSSELine bounds one line of the event stream (a trace can be large).
const maxSSELine = 16 << 20

// Stream reads the server-sent event stream and calls fn for every update
// until ctx ends, fn returns an error, or the server closes the stream. The
// returned error is fn's, ErrLagged, ctx.Err(), or the transport's.
func (c *Client) Stream(ctx context.Context, o StreamOptions, fn func(api.Update) error) error {
	q := url.Values{}
	if o.Device != "" {
		q.Set("device", o.Device)
	}
	if len(o.Kinds) > 0 {
		q.Set("kinds", strings.Join(o.Kinds, ","))
	}
	req, err := c.newRequest(ctx, "GET", api.Prefix+"/events/stream", q, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	if o.LastEventID > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(o.LastEventID, 10))
	}
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if o.OnOpen != nil {
		o.OnOpen()
	}
	err = ReadEvents(resp.Body, fn)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// ReadEvents parses a server-sent event stream of api.Update and calls fn for
// each one, until fn fails, the stream reports it fell behind (ErrLagged), or
// r ends (io.ErrUnexpectedEOF: the server closed the stream). Lines are
// bounded, so a hostile stream cannot exhaust memory.
func ReadEvents(r io.Reader, fn func(api.Update) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4<<10), maxSSELine)
	var event string
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data.Len() > 0 {
				if event == "lagged" {
					return ErrLagged
				}
				var u api.Update
				if err := json.Unmarshal([]byte(data.String()), &u); err != nil {
					return fmt.Errorf("decoding stream update: %w", err)
				}
				if err := fn(u); err != nil {
					return err
				}
			}
			event = ""
			data.Reset()
		case strings.HasPrefix(line, ":"):
			// comment / heartbeat
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			if data.Len()+len(line) > maxSSELine {
				return errors.New("reading event stream: event data too large")
			}
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading event stream: %w", err)
	}
	return io.ErrUnexpectedEOF
}

// Done reports whether a job reached a final state.
func Done(j *api.Job) bool {
	return j.State == "done" || j.State == "failed" || j.State == "cancelled"
}

// WaitJob polls a job until it is done, failed or cancelled, backing off from
// 50 ms to 2 s between polls, and returns it. When ctx ends first it returns
// the last state seen together with ctx.Err().
func (c *Client) WaitJob(ctx context.Context, id int64) (*api.Job, error) {
	delay := 50 * time.Millisecond
	t := time.NewTimer(0)
	defer t.Stop()
	var last *api.Job
	for {
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-t.C:
		}
		j, err := c.GetJob(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return last, ctx.Err()
			}
			return last, err
		}
		last = j
		if Done(j) {
			return j, nil
		}
		t.Reset(delay)
		delay = min(delay*2, 2*time.Second)
	}
}

// CreateOperation starts an operation (POST /devices/{id}/operations).
func (c *Client) CreateOperation(ctx context.Context, deviceID string, r api.OperationRequest) (*api.Operation, error) {
	var out api.Operation
	return &out, c.do(ctx, "POST", devicePath(deviceID, "/operations"), nil, r, &out)
}

// GetOperation returns an operation (GET /operations/{id}).
func (c *Client) GetOperation(ctx context.Context, id int64) (*api.Operation, error) {
	var out api.Operation
	return &out, c.do(ctx, "GET", api.Prefix+"/operations/"+strconv.FormatInt(id, 10), nil, nil, &out)
}

// CancelOperation cancels an open operation (POST /operations/{id}/cancel).
func (c *Client) CancelOperation(ctx context.Context, id int64) (*api.Operation, error) {
	var out api.Operation
	return &out, c.do(ctx, "POST", api.Prefix+"/operations/"+strconv.FormatInt(id, 10)+"/cancel", nil, nil, &out)
}

// OperationQuery filters ListOperations.
type OperationQuery struct {
	States []string
	After  int64
	Limit  int
}

// ListOperations returns one page of a device's operations.
func (c *Client) ListOperations(ctx context.Context, deviceID string, oq OperationQuery) (*api.OperationList, error) {
	q := url.Values{}
	if len(oq.States) > 0 {
		q.Set("state", strings.Join(oq.States, ","))
	}
	if oq.After > 0 {
		q.Set("after", strconv.FormatInt(oq.After, 10))
	}
	if oq.Limit > 0 {
		q.Set("limit", strconv.Itoa(oq.Limit))
	}
	var out api.OperationList
	return &out, c.do(ctx, "GET", devicePath(deviceID, "/operations"), q, nil, &out)
}

// WaitOperation waits until an operation ends and returns it. It opens the
// event stream first, then reads the operation (which brings it up to date
// with storage), and reads it again whenever the stream says it changed:
// no change is missed. Should the stream be unavailable it reads the
// operation after a back-off from 50 ms up to maxPoll (0: 5 s). When ctx
// ends first it returns the last state read together with ctx.Err().
func (c *Client) WaitOperation(ctx context.Context, id int64, deviceID string, maxPoll time.Duration) (*api.Operation, error) {
	if maxPoll <= 0 {
		maxPoll = 5 * time.Second
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	changed := make(chan struct{}, 1)
	opened, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		_ = c.Stream(sctx, StreamOptions{Device: deviceID, Kinds: []string{api.UpdateOperation}, OnOpen: func() { close(opened) }},
			func(u api.Update) error {
				if u.Operation != nil && u.Operation.ID == id {
					select {
					case changed <- struct{}{}:
					default:
					}
				}
				return nil
			})
	}()
	select { // the stream is open (or failed: then the back-off reads alone)
	case <-opened:
	case <-ended:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	delay := 50 * time.Millisecond
	t := time.NewTimer(0)
	defer t.Stop()
	var last *api.Operation
	for {
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-t.C:
			delay = min(delay*2, maxPoll)
		case <-changed:
		}
		op, err := c.GetOperation(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return last, ctx.Err()
			}
			return last, err
		}
		last = op
		if op.Terminal() {
			return op, nil
		}
		t.Reset(delay)
	}
}

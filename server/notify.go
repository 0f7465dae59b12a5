package server

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/omadm/omadm/notification"
	"github.com/omadm/omadm/storage"
)

// ErrNoNotifyAddr reports a device without a registered package 0 address.
var ErrNoNotifyAddr = errors.New("server: device has no notification address")

// NotifyOptions tune a package 0.
type NotifyOptions struct {
	UIMode  notification.UIMode // default UINotSpecified
	Version int                 // 11 (default) or 12
}

// Notify sends package 0 to the device (server-initiated session) through
// the Sender registered for the scheme of its NotifyAddr.
func (e *Engine) Notify(ctx context.Context, deviceID string) error {
	_, err := e.NotifyWith(ctx, deviceID, NotifyOptions{})
	return err
}

// NotifyWith is Notify with options; it returns the SessionID the device will
// use in package 1 (uppercase hex of the package 0 session id).
func (e *Engine) NotifyWith(ctx context.Context, deviceID string, o NotifyOptions) (string, error) {
	d, err := e.store.GetDevice(ctx, deviceID)
	if err != nil {
		return "", fmt.Errorf("notify %s: %w", deviceID, err)
	}
	if d.NotifyAddr == "" {
		return "", fmt.Errorf("notify %s: %w", deviceID, ErrNoNotifyAddr)
	}
	addr, err := notification.ParseAddr(d.NotifyAddr)
	if err != nil {
		return "", fmt.Errorf("notify %s: %w", deviceID, err)
	}
	sender := e.o.Senders[addr.Scheme]
	if sender == nil {
		return "", fmt.Errorf("notify %s: no sender configured for %q addresses", deviceID, addr.Scheme)
	}
	var sid [2]byte
	for sid == [2]byte{} {
		if _, err := rand.Read(sid[:]); err != nil {
			return "", err
		}
	}
	p := &notification.Package0{Version: o.Version, UIMode: o.UIMode, Initiator: notification.InitiatorServer,
		SessionID: binary.BigEndian.Uint16(sid[:]), ServerID: e.o.ServerID}
	pkg, err := p.Encode(d.ServerPassword, d.ClientNonce)
	if err != nil {
		return "", fmt.Errorf("notify %s: building package 0: %w", deviceID, err)
	}
	if err := sender.Send(ctx, d.NotifyAddr, pkg); err != nil {
		e.log.Warn("package 0 not delivered", "device", deviceID, "addr", d.NotifyAddr, "err", err)
		return "", fmt.Errorf("notify %s: %w", deviceID, err)
	}
	ev := &storage.Event{DeviceID: deviceID, SessionID: p.SessionIDString(), Kind: "notification", Target: d.NotifyAddr}
	if err := e.store.AddEvent(ctx, ev); err != nil {
		// The package left: the notification happened, only its record is
		// missing, so the caller is not told it failed.
		e.log.Warn("notification sent but not recorded", "device", deviceID, "err", err)
	} else {
		e.emit(Update{Kind: "event", DeviceID: deviceID, SessionID: ev.SessionID, EventID: ev.ID, EventKind: ev.Kind, Time: ev.CreatedAt})
	}
	return p.SessionIDString(), nil
}

package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/omadm/omadm/client"
	"github.com/omadm/omadm/internal/atomicfile"
	"github.com/omadm/omadm/notification"
)

// servedFile keeps the package 0 replay memory (client.Inbox) across
// restarts, in the state directory.
const servedFile = "notify-served.json"

// maxServedFile bounds what loadServed reads.
const maxServedFile = 1 << 20

type servedJSON struct {
	SessionID uint16    `json:"sid"`
	Digest    string    `json:"digest"`
	At        time.Time `json:"at"`
	Reset     bool      `json:"reset,omitempty"`
}

// loadServed reads the replay memory; a missing file is an empty memory, a
// damaged one is logged and ignored.
func loadServed(dir string, log *slog.Logger) []client.ServedPackage {
	name := filepath.Join(dir, servedFile)
	b, err := os.ReadFile(name)
	if os.IsNotExist(err) {
		return nil
	}
	var in []servedJSON
	if err == nil && len(b) > maxServedFile {
		err = fmt.Errorf("larger than %d bytes", maxServedFile)
	}
	if err == nil {
		err = json.Unmarshal(b, &in)
	}
	out := make([]client.ServedPackage, 0, len(in))
	for _, s := range in {
		d, derr := hex.DecodeString(s.Digest)
		if derr != nil || len(d) != notification.DigestSize {
			err = fmt.Errorf("digest %q is not %d hex bytes", s.Digest, notification.DigestSize)
			break
		}
		sp := client.ServedPackage{SessionID: s.SessionID, At: s.At, Reset: s.Reset}
		copy(sp.Digest[:], d)
		out = append(out, sp)
	}
	if err != nil {
		log.Warn("package 0 replay memory ignored", "file", name, "err", err)
		return nil
	}
	return out
}

// saveServed writes the replay memory atomically (temporary file, rename).
func saveServed(dir string, log *slog.Logger) func([]client.ServedPackage) {
	return func(ps []client.ServedPackage) {
		out := make([]servedJSON, len(ps))
		for i, p := range ps {
			out[i] = servedJSON{SessionID: p.SessionID, Digest: hex.EncodeToString(p.Digest[:]), At: p.At.UTC(), Reset: p.Reset}
		}
		b, _ := json.Marshal(out)
		name := filepath.Join(dir, servedFile)
		if err := atomicfile.WriteDurable(name, b); err != nil {
			log.Error("saving the package 0 replay memory failed", "file", name, "err", err)
		}
	}
}

package download

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/omadm/omadm/mo/dlota"
)

// More kinds, of a download through an OMA download descriptor.
const (
	KindDescriptor    Kind = iota + 100 // the descriptor is invalid or of another DDVersion (906, 951)
	KindNotAcceptable                   // the device does not take the descriptor's media type (953)
	KindMismatch                        // the media's size differs from the descriptor's (905)
	KindChecksum                        // the media's SHA-256 differs from the descriptor's (905)
	KindNotConfirmed                    // the 900 status report was not confirmed: the package is discarded
)

// Files of a package download in its directory. A download interrupted by a
// restart resumes from them.
const (
	partFile = "package.part"
	ddFile   = "descriptor.json"
)

// PackageOptions say what a management object takes.
type PackageOptions struct {
	// Dir keeps the partial package and the accepted descriptor between
	// attempts (required).
	Dir string
	// Accept lists the media types a descriptor's <type> must match one of
	// ("type/*" and "*/*" allowed); empty accepts any.
	Accept []string
	// FreeSpace says how many bytes Dir can still take (nil: ask the file
	// system).
	FreeSpace func() (int64, bool)
	Log       *slog.Logger
}

// Reset forgets what an earlier download left in dir: the next Package call
// starts from nothing. Call it when an operation starts a new download.
func Reset(dir string) {
	os.Remove(filepath.Join(dir, partFile))
	os.Remove(filepath.Join(dir, ddFile))
}

// Package downloads the package url names into the file dst. url may name
// the package itself or an OMA DL 1.0 download descriptor
// (OMA-TS-DM-FUMO-V1_0 and OMA-TS-DM-SCOMO-V1_0: PkgURL may be either).
// With a descriptor it checks, before any byte of the media:
// validity (906, or 951 for another DDVersion), type (953), size against
// the Getter's MaxSize and the free space (901); then fetches objectURI,
// verifies size (905) and the omadm SHA-256 extension, and posts the
// status report to installNotifyURI (OMA-Download-OTA-V1_0, "Status
// Report"). A package of a descriptor with installNotifyURI is kept only
// once its 900 report is confirmed.
//
// Every error is an *Error whose Kind the object maps to its own result
// code. The partial package is kept when the download stopped because stop
// is done (the object is closing), so that the next call, after a restart,
// resumes it with a Range request; a failure drops it. dctx bounds
// this attempt (the object's download timeout); stop is the object's life:
// when it is done, no failure is reported to the descriptor's server.
func (g *Getter) Package(stop, dctx context.Context, url, dst string, o PackageOptions) error {
	if url == "" {
		return fail(KindBadURL, "no package URL")
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	part := filepath.Join(o.Dir, partFile)
	dd, err := loadDD(o.Dir)
	if err != nil {
		return err
	}
	if dd == nil {
		res, _, err := g.GetFile(dctx, url, part)
		if err != nil {
			return g.dropUnlessResumable(stop, part, err)
		}
		if !dlota.IsDescriptor(res.ContentType, url) {
			return keep(part, dst)
		}
		b, err := os.ReadFile(part)
		os.Remove(part)
		if err != nil {
			return &Error{KindStorage, err}
		}
		if len(b) > dlota.MaxDescriptorSize {
			err = &dlota.DDError{Status: dlota.StatusInvalidDescriptor, Err: fmt.Errorf("%d bytes, more than %d", len(b), dlota.MaxDescriptorSize)}
		} else {
			dd, err = dlota.ParseDescriptor(b, url)
		}
		if err != nil {
			var de *dlota.DDError
			errors.As(err, &de)
			g.report(stop, log, de.InstallNotifyURI, de.Status)
			return &Error{KindDescriptor, err}
		}
		if err := g.admit(stop, log, dd, o); err != nil {
			return err
		}
		if err := saveDD(o.Dir, dd); err != nil {
			return err
		}
		log.Info("download descriptor accepted", "object", dd.ObjectURI, "size", dd.Size, "type", dd.Types)
	}
	// The media type the object's server sends is not compared with the
	// descriptor's: generic file servers label (or sniff) firmware images
	// arbitrarily; the descriptor's type was checked against what the
	// object takes, and size and SHA-256 check the bytes.
	_, size, err := g.GetFile(dctx, dd.ObjectURI, part)
	if err != nil {
		if stop.Err() != nil {
			return &Error{KindOf(err), err}
		}
		st := dlota.StatusLossOfService
		switch KindOf(err) {
		case KindTooLarge, KindStorage:
			st = dlota.StatusInsufficientMemory
		case KindBadURL, KindAuth, KindServer:
			st = dlota.StatusLoaderError
		}
		g.report(stop, log, dd.InstallNotifyURI, st)
		return g.dropUnlessResumable(stop, part, err)
	}
	var mismatch *Error
	switch {
	case size != dd.Size:
		mismatch = fail(KindMismatch, "got %d bytes from %s, the descriptor says %d", size, dd.ObjectURI, dd.Size)
	case dd.SHA256 != "":
		sum, err := fileSHA256(part)
		if err != nil {
			return &Error{KindStorage, err}
		}
		if sum != dd.SHA256 {
			mismatch = fail(KindChecksum, "SHA-256 of %s is %s, the descriptor says %s", dd.ObjectURI, sum, dd.SHA256)
		}
	}
	if mismatch != nil {
		Reset(o.Dir)
		// 905: the media does not match the descriptor's attributes.
		g.report(stop, log, dd.InstallNotifyURI, dlota.StatusAttributeMismatch)
		return mismatch
	}
	if dd.InstallNotifyURI != "" {
		if err := g.Notify(stop, dd.InstallNotifyURI, dlota.StatusSuccess); err != nil {
			Reset(o.Dir)
			return fail(KindNotConfirmed, "the 900 status report was not confirmed, so the package is discarded: %v", err)
		}
	}
	if err := keep(part, dst); err != nil {
		return err
	}
	os.Remove(filepath.Join(o.Dir, ddFile))
	return nil
}

// admit checks a descriptor against what the object takes, before any byte
// of the media is fetched (953 for a type it cannot use, 901 for too
// little room), reporting a refusal to installNotifyURI.
func (g *Getter) admit(stop context.Context, log *slog.Logger, dd *dlota.Descriptor, o PackageOptions) error {
	if !dd.Accepts(o.Accept) {
		g.report(stop, log, dd.InstallNotifyURI, dlota.StatusNonAcceptableContent)
		return fail(KindNotAcceptable, "descriptor type %v: this object accepts %v", dd.Types, o.Accept)
	}
	if g.o.MaxSize > 0 && dd.Size > g.o.MaxSize {
		g.report(stop, log, dd.InstallNotifyURI, dlota.StatusInsufficientMemory)
		return fail(KindTooLarge, "descriptor size %d exceeds the limit of %d", dd.Size, g.o.MaxSize)
	}
	free, ok := FreeSpace(o.Dir)
	if o.FreeSpace != nil {
		free, ok = o.FreeSpace()
	}
	if ok && dd.Size > free {
		g.report(stop, log, dd.InstallNotifyURI, dlota.StatusInsufficientMemory)
		return fail(KindTooLarge, "descriptor size %d exceeds the %d bytes free in %s", dd.Size, free, o.Dir)
	}
	return nil
}

// report sends a failure's status report when the descriptor named a URI;
// a failed report is logged (the object's own result tells the DM server).
func (g *Getter) report(stop context.Context, log *slog.Logger, uri string, st dlota.Status) {
	if uri == "" || stop.Err() != nil {
		return
	}
	if err := g.Notify(stop, uri, st); err != nil {
		log.Warn("download status report failed", "status", st.String(), "err", err)
	}
}

// dropUnlessResumable keeps the partial file of a download stopped with
// the object (a restart resumes it); a failure that ends the operation
// leaves nothing behind.
func (g *Getter) dropUnlessResumable(stop context.Context, part string, err error) error {
	k := KindOf(err)
	if stop.Err() == nil {
		Reset(filepath.Dir(part))
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{k, err}
}

func keep(part, dst string) error {
	if err := os.Rename(part, dst); err != nil {
		os.Remove(part)
		return &Error{KindStorage, err}
	}
	return nil
}

func loadDD(dir string) (*dlota.Descriptor, error) {
	b, err := os.ReadFile(filepath.Join(dir, ddFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &Error{KindStorage, err}
	}
	var d dlota.Descriptor
	if err := json.Unmarshal(b, &d); err != nil || d.ObjectURI == "" {
		// Damaged: start over from the package URL.
		Reset(dir)
		return nil, nil
	}
	return &d, nil
}

func saveDD(dir string, d *dlota.Descriptor) error {
	b, _ := json.Marshal(d)
	tmp := filepath.Join(dir, ddFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return &Error{KindStorage, err}
	}
	if err := os.Rename(tmp, filepath.Join(dir, ddFile)); err != nil {
		return &Error{KindStorage, err}
	}
	return nil
}

func fileSHA256(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

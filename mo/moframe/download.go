package moframe

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/omadm/omadm/mo/internal/download"
)

// DefaultDownloadTimeout bounds one package download when
// DownloadConfig.DownloadTimeout is 0.
const DefaultDownloadTimeout = time.Hour

// DownloadConfig is how an object that downloads packages (FUMO, SCOMO)
// fetches them: the download fields of its Config.
type DownloadConfig struct {
	// Fetch downloads url into w. Nil fetches http and https URLs (a
	// package or an OMA download descriptor) with HTTPClient
	// (http.DefaultClient when nil), bounded by ConnectTimeout,
	// StallTimeout and StallBytes.
	Fetch      func(ctx context.Context, url string, w io.Writer) error
	HTTPClient *http.Client
	// MaxSize bounds a package (required: the object's default).
	MaxSize int64
	// DownloadTimeout bounds one download (DefaultDownloadTimeout when 0).
	DownloadTimeout time.Duration
	// ConnectTimeout, StallTimeout and StallBytes bound the default fetch
	// (the download package's defaults when 0).
	ConnectTimeout, StallTimeout time.Duration
	StallBytes                   int64
	// AcceptTypes and FreeSpace check a download descriptor before the
	// default fetch starts (any type, and the file system's free space,
	// when empty and nil).
	AcceptTypes []string
	FreeSpace   func() (int64, bool)
	Log         *slog.Logger
}

// Downloader downloads an object's packages with one DownloadConfig.
type Downloader struct {
	cfg DownloadConfig
	get *download.Getter
}

// NewDownloader returns a Downloader for cfg with its defaults applied.
func NewDownloader(cfg DownloadConfig) *Downloader {
	if cfg.DownloadTimeout <= 0 {
		cfg.DownloadTimeout = DefaultDownloadTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Downloader{cfg: cfg, get: download.New(download.Options{Client: cfg.HTTPClient,
		ConnectTimeout: cfg.ConnectTimeout, StallTimeout: cfg.StallTimeout, StallBytes: cfg.StallBytes, MaxSize: cfg.MaxSize})}
}

// StorageError is a download that failed on the device's side: its storage
// is full or failing, or the package outgrew MaxSize. Objects report it as
// their "out of memory" download result.
type StorageError struct{ Err error }

func (e *StorageError) Error() string { return e.Err.Error() }
func (e *StorageError) Unwrap() error { return e.Err }

// IsStorage reports whether err is a StorageError.
func IsStorage(err error) bool {
	var se *StorageError
	return errors.As(err, &se)
}

// Download fetches url into dst within DownloadTimeout; stop ends it early.
// The default fetch takes the package or its download descriptor, keeps
// its partial files in dir and resumes a download a restart cut short
// (HTTP Range); its errors carry a download kind. A custom Fetch writes
// dst+".part", renamed to dst once complete and synced; its own errors are
// returned as they are. Either way a failure of the device's storage, or a
// package larger than MaxSize, is a *StorageError.
func (d *Downloader) Download(stop context.Context, url, dst, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &StorageError{err}
	}
	dctx, cancel := context.WithTimeout(stop, d.cfg.DownloadTimeout)
	defer cancel()
	if d.cfg.Fetch == nil {
		return d.get.Package(stop, dctx, url, dst, download.PackageOptions{
			Dir: dir, Accept: d.cfg.AcceptTypes, FreeSpace: d.cfg.FreeSpace, Log: d.cfg.Log})
	}
	part := dst + ".part"
	f, err := os.OpenFile(part, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return &StorageError{err}
	}
	err = d.cfg.Fetch(dctx, url, &limitWriter{w: f, left: d.cfg.MaxSize})
	if err == nil {
		err = storageErr(f.Sync())
	}
	if cerr := f.Close(); err == nil {
		err = storageErr(cerr)
	}
	if err == nil {
		err = storageErr(os.Rename(part, dst))
	}
	if err != nil {
		os.Remove(part)
	}
	return err
}

func storageErr(err error) error {
	if err == nil {
		return nil
	}
	return &StorageError{err}
}

// limitWriter fails a custom Fetch whose package outgrows MaxSize, and
// marks a failing write as the device's storage, not the network.
type limitWriter struct {
	w    io.Writer
	left int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		return 0, &StorageError{errors.New("package exceeds the size limit")}
	}
	l.left -= int64(len(p))
	n, err := l.w.Write(p)
	return n, storageErr(err)
}

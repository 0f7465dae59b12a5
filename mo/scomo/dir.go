package scomo

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/omadm/omadm/mo/moframe"
)

// Limits of DirInstaller when its fields are zero.
const (
	DefaultMaxFiles     = 10000
	DefaultMaxUnpacked  = 1 << 30
	maxVersionFileBytes = 256
)

// VersionFile is the file of an unpacked package whose first line is the
// component's version (Deployed/<x>/Version).
const VersionFile = "VERSION"

// DirInstaller installs each component as a directory Dir/<id>: a tar or
// gzip-compressed tar package is unpacked there, any other package is
// copied there as the file "package". Install replaces an installed
// component of the same id only once the new one is complete; Remove
// deletes the directory. Hook, when set, runs at each step and its error
// fails the step: "install" or "install-inactive" with the unpacked
// directory before it takes the component's place, then "remove",
// "activate" and "deactivate" with Dir/<id>.
type DirInstaller struct {
	Dir  string
	Hook func(ctx context.Context, action, id, dir string) error
	// MaxFiles and MaxUnpacked bound what a package may unpack to
	// (DefaultMaxFiles, DefaultMaxUnpacked when 0); beyond them Install
	// fails with ResultInstallOutOfMemory.
	MaxFiles    int
	MaxUnpacked int64
}

var _ Installer = (*DirInstaller)(nil)

func (d *DirInstaller) path(id string) string { return filepath.Join(d.Dir, safeName(id)) }

// Install implements Installer.
func (d *DirInstaller) Install(ctx context.Context, c *Component, active bool) error {
	if err := os.MkdirAll(d.Dir, 0o755); err != nil {
		return &moframe.ResultError{Code: int(ResultInstallOutOfMemory), Err: err}
	}
	stage := filepath.Join(d.Dir, ".staging-"+safeName(c.ID))
	os.RemoveAll(stage)
	if err := os.Mkdir(stage, 0o755); err != nil {
		return &moframe.ResultError{Code: int(ResultInstallOutOfMemory), Err: err}
	}
	fail := func(err error) error {
		os.RemoveAll(stage)
		return err
	}
	if err := d.unpack(c.Package, stage); err != nil {
		return fail(err)
	}
	if b, err := os.ReadFile(filepath.Join(stage, VersionFile)); err == nil {
		line, _, _ := strings.Cut(string(b[:min(len(b), maxVersionFileBytes)]), "\n")
		c.Version = strings.TrimSpace(line)
	}
	if d.Hook != nil {
		action := "install"
		if !active {
			action = "install-inactive"
		}
		if err := d.Hook(ctx, action, c.ID, stage); err != nil {
			return fail(err)
		}
	}
	final := d.path(c.ID)
	if err := os.RemoveAll(final); err != nil {
		return fail(err)
	}
	if err := os.Rename(stage, final); err != nil {
		return fail(err)
	}
	return nil
}

// Remove implements Installer.
func (d *DirInstaller) Remove(ctx context.Context, id string) error {
	if d.Hook != nil {
		if err := d.Hook(ctx, "remove", id, d.path(id)); err != nil {
			return err
		}
	}
	return os.RemoveAll(d.path(id))
}

// Activate implements Installer.
func (d *DirInstaller) Activate(ctx context.Context, id string) error {
	return d.step(ctx, "activate", id)
}

// Deactivate implements Installer.
func (d *DirInstaller) Deactivate(ctx context.Context, id string) error {
	return d.step(ctx, "deactivate", id)
}

func (d *DirInstaller) step(ctx context.Context, action, id string) error {
	if _, err := os.Stat(d.path(id)); err != nil {
		return fmt.Errorf("component %s is not installed in %s", id, d.Dir)
	}
	if d.Hook == nil {
		return nil
	}
	return d.Hook(ctx, action, id, d.path(id))
}

// unpack puts the package into dir: a (gzip-compressed) tar is unpacked,
// anything else copied as "package".
func (d *DirInstaller) unpack(pkg, dir string) error {
	f, err := os.Open(pkg)
	if err != nil {
		return fmt.Errorf("open the package: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	head, _ := br.Peek(2)
	gz := len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b
	if gz {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return &moframe.ResultError{Code: int(ResultValidationFailed), Err: fmt.Errorf("package: %w", err)}
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
		r = br
	}
	head, _ = br.Peek(512)
	if len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar")) {
		return d.untar(r, dir)
	}
	if gz {
		return &moframe.ResultError{Code: int(ResultValidationFailed), Err: errors.New("package: a gzip file that holds no tar archive")}
	}
	return d.copyFile(r, filepath.Join(dir, "package"), d.maxUnpacked())
}

func (d *DirInstaller) maxUnpacked() int64 {
	if d.MaxUnpacked > 0 {
		return d.MaxUnpacked
	}
	return DefaultMaxUnpacked
}

// untar unpacks regular files and directories; links, devices and names
// leaving dir fail the install as an invalid package.
func (d *DirInstaller) untar(r io.Reader, dir string) error {
	maxFiles := d.MaxFiles
	if maxFiles <= 0 {
		maxFiles = DefaultMaxFiles
	}
	left := d.maxUnpacked()
	tr := tar.NewReader(r)
	for n := 0; ; n++ {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &moframe.ResultError{Code: int(ResultValidationFailed), Err: fmt.Errorf("package: %w", err)}
		}
		if n >= maxFiles {
			return &moframe.ResultError{Code: int(ResultInstallOutOfMemory), Err: fmt.Errorf("package holds more than %d files", maxFiles)}
		}
		name := filepath.Clean(filepath.FromSlash(h.Name))
		if !filepath.IsLocal(name) {
			return &moframe.ResultError{Code: int(ResultValidationFailed), Err: fmt.Errorf("package entry %q leaves the component's directory", h.Name)}
		}
		target := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if h.Size > left {
				return &moframe.ResultError{Code: int(ResultInstallOutOfMemory), Err: fmt.Errorf("package unpacks to more than %d bytes", d.maxUnpacked())}
			}
			left -= h.Size
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := d.copyFile(tr, target, h.Size); err != nil {
				return err
			}
			if h.Mode&0o111 != 0 {
				os.Chmod(target, 0o755)
			}
		default:
			return &moframe.ResultError{Code: int(ResultValidationFailed), Err: fmt.Errorf("package entry %q is not a file or directory", h.Name)}
		}
	}
}

func (d *DirInstaller) copyFile(r io.Reader, name string, limit int64) error {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(r, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > limit {
		err = &moframe.ResultError{Code: int(ResultInstallOutOfMemory), Err: fmt.Errorf("package unpacks to more than %d bytes", limit)}
	}
	return err
}

// Package atomicfile replaces small files (state, keys, metadata) so that a
// crash leaves either the old or the new content, never a torn or empty
// file.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces name with data (mode 0600): the data goes to a temporary
// file in the same directory, which is synced and then renamed over name.
func Write(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// WriteDurable is Write followed by a sync of the directory, so that the
// rename itself survives a power loss.
func WriteDurable(name string, data []byte) error {
	if err := Write(name, data); err != nil {
		return err
	}
	return syncDir(filepath.Dir(name))
}

// RemoveDurable removes name (absent is fine) and syncs its directory.
func RemoveDurable(name string) error {
	if err := os.Remove(name); err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	return syncDir(filepath.Dir(name))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

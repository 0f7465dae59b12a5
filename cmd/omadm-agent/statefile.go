package main

import (
	"os"
	"path/filepath"
)

// writeFileDurable replaces name with data so that after a crash or power
// loss the file holds either its old or its new content, never a torn or
// empty one: the data is written to a temporary file and synced before the
// rename, and the directory is synced after it. The state files written
// this way (package 0 replay memory, alternate server nonce) exist to
// survive exactly such a crash.
func writeFileDurable(name string, data []byte) error {
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
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
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(name))
}

// removeDurable removes name (absent is fine) and syncs its directory.
func removeDurable(name string) error {
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

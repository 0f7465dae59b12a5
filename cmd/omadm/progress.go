package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progressDelay is how long a wait runs before its progress line appears.
const progressDelay = time.Second

// terminalWriter is a writer that says itself whether it is a terminal
// (e.g. a test's stand-in for one).
type terminalWriter interface {
	io.Writer
	IsTerminal() bool
}

// isTerminal reports whether w is a terminal (a character device, or a
// terminalWriter that says so), the only place progress goes.
func isTerminal(w io.Writer) bool {
	if t, ok := w.(terminalWriter); ok {
		return t.IsTerminal()
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// startProgress shows "what… 3s" on w, redrawn each second, once a wait has
// lasted progressDelay, and only when w is a terminal; the returned stop
// ends it and erases the line. Nothing ever goes to stdout.
func startProgress(w io.Writer, what string) (stop func()) {
	if !isTerminal(w) {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		start := time.Now()
		t := time.NewTimer(progressDelay)
		defer t.Stop()
		drawn := false
		for {
			select {
			case <-done:
				if drawn {
					fmt.Fprint(w, "\r\033[K")
				}
				return
			case <-t.C:
				fmt.Fprintf(w, "\r\033[K%s… %s", what, time.Since(start).Round(time.Second))
				drawn = true
				t.Reset(time.Second)
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() { close(done); wg.Wait() })
	}
}

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeMarker, alone on the line before a ```sh fence, marks a README
// block whose commands TestReadme_ExamplesRunAgainstTheDemo runs.
const readmeMarker = "<!-- readme-test -->"

// readmeCommands returns the commands of the marked blocks: comments and
// blank lines dropped, backslash continuations joined.
func readmeCommands(t *testing.T, text string) []string {
	t.Helper()
	var cmds []string
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != readmeMarker {
			continue
		}
		if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != "```sh" {
			t.Fatalf("README line %d: %s must be followed by a ```sh fence", i+1, readmeMarker)
		}
		cur := ""
		closed := false
		for i += 2; i < len(lines); i++ {
			l := lines[i]
			if strings.TrimSpace(l) == "```" {
				closed = true
				break
			}
			if c := strings.Index(l, "   #"); c >= 0 && !strings.Contains(l[:c], "'") {
				l = l[:c] // a trailing comment (quoted text is left alone)
			}
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			if strings.HasSuffix(l, "\\") {
				cur += strings.TrimSuffix(l, "\\") + " "
				continue
			}
			cmds = append(cmds, cur+l)
			cur = ""
		}
		if !closed {
			t.Fatalf("README: a %s block is not closed", readmeMarker)
		}
	}
	return cmds
}

var reDemoExport = regexp.MustCompile(`^\s*export (OMADM_SERVER=\S+ OMADM_API_TOKEN=\S+ DEMO_DEVICE=\S+ DEMO_FIRMWARE=\S+)`)

// TestReadme_ExamplesRunAgainstTheDemo runs the README's marked examples
// with the built omadm against a running `omadm demo`, in the environment
// its export line sets: each must exit 0 and print something that is not
// "null" (jq's answer to a field that is not there).
func TestReadme_ExamplesRunAgainstTheDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds omadm and runs the demo: not in -short")
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds := readmeCommands(t, string(b))
	if len(cmds) < 5 {
		t.Fatalf("the README has %d marked commands; want the demo walkthrough's", len(cmds))
	}
	for _, c := range cmds {
		if strings.Contains(c, "| jq") {
			if _, err := exec.LookPath("jq"); err != nil {
				if os.Getenv("OMADM_REQUIRE_GATEWAYS") == "1" {
					t.Fatal("jq is not installed (apt-get install jq) and OMADM_REQUIRE_GATEWAYS=1")
				}
				t.Skip("jq is not installed (apt-get install jq): README examples not run")
			}
			break
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "omadm")
	bctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(bctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building omadm: %v\n%s", err, out)
	}
	env := startReadmeDemo(t, bin, dir)
	for _, c := range cmds {
		t.Run(c, func(t *testing.T) {
			line := strings.ReplaceAll(c, "go run ./cmd/omadm", bin)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // bounds a hang
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", line)
			cmd.Env = append(os.Environ(), env...)
			cmd.Dir = dir
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s\nexit: %v\nstdout:\n%s\nstderr:\n%s", c, err, out, stderr.String())
			}
			text := strings.TrimSpace(string(out))
			if text == "" {
				t.Fatalf("%s printed nothing (stderr %q)", c, stderr.String())
			}
			for _, l := range strings.Split(text, "\n") {
				if strings.TrimSpace(l) == "null" || strings.Contains(l, " null") {
					t.Fatalf("%s printed a null:\n%s", c, text)
				}
			}
			t.Logf("%s\n%s", c, text)
		})
	}
}

// startReadmeDemo runs `omadm demo` on a free loopback port until the test
// ends and returns the environment its export line sets.
func startReadmeDemo(t *testing.T, bin, dir string) []string {
	t.Helper()
	cmd := exec.Command(bin, "demo", "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "data"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "demo.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	lines := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		close(lines)
	}()
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(10 * time.Second): // bounds a hang only
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			if b, err := os.ReadFile(logf.Name()); err == nil {
				t.Logf("demo log:\n%s", b)
			}
		}
	})
	var env []string
	var seen strings.Builder
	deadline := time.After(3 * time.Minute) // bounds a hang only
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("omadm demo exited before it was ready:\n%s", seen.String())
			}
			seen.WriteString(l + "\n")
			if m := reDemoExport.FindStringSubmatch(l); m != nil {
				env = strings.Fields(m[1])
			}
			if strings.Contains(l, "omadm demo ready") {
				if env == nil {
					t.Fatalf("the demo printed no export line:\n%s", seen.String())
				}
				return env
			}
		case <-deadline:
			t.Fatal(errors.New("omadm demo not ready in time"), fmt.Sprint("\n", seen.String()))
		}
	}
}

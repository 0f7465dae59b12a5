package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestServe_LogFormatTextOrJSON(t *testing.T) {
	for _, tc := range []struct {
		format string
		check  func(t *testing.T, line string)
	}{
		{"", func(t *testing.T, line string) {
			if !strings.Contains(line, "level=INFO") || !strings.Contains(line, "msg=ready") || !strings.Contains(line, "dm=http://x/dm") {
				t.Errorf("text line %q", line)
			}
		}},
		{"text", func(t *testing.T, line string) {
			if !strings.Contains(line, "msg=ready") {
				t.Errorf("text line %q", line)
			}
		}},
		{"json", func(t *testing.T, line string) {
			var v map[string]any
			if err := json.Unmarshal([]byte(line), &v); err != nil {
				t.Fatalf("json line %q: %v", line, err)
			}
			if v["level"] != "INFO" || v["msg"] != "ready" || v["dm"] != "http://x/dm" {
				t.Errorf("json object %v", v)
			}
		}},
	} {
		t.Run("format="+tc.format, func(t *testing.T) {
			var b bytes.Buffer
			log, err := newServeLogger(&b, "info", tc.format)
			if err != nil {
				t.Fatal(err)
			}
			log.Debug("hidden at info")
			log.Info("ready", "dm", "http://x/dm")
			sc := bufio.NewScanner(&b)
			var lines []string
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			if len(lines) != 1 {
				t.Fatalf("%d lines, want the info line only:\n%s", len(lines), b.String())
			}
			tc.check(t, lines[0])
		})
	}
	if _, err := newServeLogger(&bytes.Buffer{}, "info", "xml"); err == nil || !strings.Contains(err.Error(), "--log-format") {
		t.Errorf("unknown format: %v", err)
	}
}

package client

import (
	"strings"
	"unicode/utf8"

	"github.com/omadm/omadm/syncml"
)

// largeIn is an object being received in chunks (OMA-TS-DM_Protocol-V1_2 §7).
type largeIn struct {
	name    string // "Add" or "Replace"
	target  string
	source  string
	format  string
	typ     string
	size    int64 // declared Meta Size (0 = not declared)
	buf     []byte
	refused syncml.StatusCode // non-zero: refused; remaining chunks get this code
}

func (s *session) itemHasMoreData(c syncml.Command) bool {
	for _, it := range syncml.ItemsOf(c) {
		if it.MoreData {
			return true
		}
	}
	return false
}

// isContinuation reports whether c carries the next chunk of the open object.
func (s *session) isContinuation(c syncml.Command) bool {
	if s.inLO == nil || c.CommandName() != s.inLO.name {
		return false
	}
	items := syncml.ItemsOf(c)
	return len(items) == 1 && items[0].Target != nil && items[0].Target.LocURI == s.inLO.target
}

// abortLO drops the open object and tells the server with Alert 1225.
func (s *session) abortLO() {
	lo := s.inLO
	s.inLO = nil
	if lo == nil || lo.refused != 0 {
		return
	}
	it := syncml.Item{Target: &syncml.Location{LocURI: lo.target}}
	if lo.source != "" {
		it.Source = &syncml.Location{LocURI: lo.source}
	}
	s.queue(&syncml.Alert{Data: syncml.AlertNoEndOfData, Items: []syncml.Item{it}})
}

// handleChunk takes an Add/Replace that is part of a chunked object; it
// returns false when c is an ordinary command.
func (s *session) handleChunk(msgRef string, c syncml.Command) bool {
	items := syncml.ItemsOf(c)
	if s.inLO == nil && !s.itemHasMoreData(c) {
		return false
	}
	if len(items) != 1 || items[0].Target == nil {
		// Only a single-item command can be chunked.
		s.reply(msgRef, c, syncml.StatusBadRequest)
		return true
	}
	it := &items[0]
	var cmdMeta *syncml.Meta
	switch c := c.(type) {
	case *syncml.Add:
		cmdMeta = c.Meta
	case *syncml.Replace:
		cmdMeta = c.Meta
	}
	if s.inLO == nil {
		format, typ := itemMeta(it, cmdMeta)
		lo := &largeIn{name: c.CommandName(), target: it.Target.LocURI, format: format, typ: typ}
		if it.Source != nil {
			lo.source = it.Source.LocURI
		}
		if it.Meta != nil && it.Meta.Size > 0 {
			lo.size = it.Meta.Size
		} else if cmdMeta != nil {
			lo.size = cmdMeta.Size
		}
		if max := int64(s.c.cfg.MaxObjSize); lo.size > max {
			lo.refused = syncml.StatusEntityTooLarge
		} else if lo.size > 0 {
			lo.refused = s.roomFor(lo.name, lo.format, lo.size)
		}
		s.inLO = lo
	}
	lo := s.inLO
	var data []byte
	if it.Data != nil {
		data = it.Data.Value
	}
	if lo.refused == 0 {
		if len(lo.buf)+len(data) > s.c.cfg.MaxObjSize || (lo.size > 0 && int64(len(lo.buf)+len(data)) > lo.size) {
			if lo.size > 0 && int64(len(lo.buf)+len(data)) > lo.size {
				lo.refused = syncml.StatusSizeMismatch
			} else {
				lo.refused = syncml.StatusEntityTooLarge
			}
			lo.buf = nil
		} else {
			lo.buf = append(lo.buf, data...)
		}
	}
	if it.MoreData {
		code := syncml.StatusChunkAccepted
		if lo.refused != 0 {
			code = lo.refused
		}
		s.reply(msgRef, c, code)
		return true
	}
	s.inLO = nil
	if lo.refused != 0 {
		s.reply(msgRef, c, lo.refused)
		return true
	}
	if lo.size > 0 && int64(len(lo.buf)) != lo.size {
		s.reply(msgRef, c, syncml.StatusSizeMismatch)
		return true
	}
	v, err := itemValue(lo.format, lo.typ, lo.buf)
	if err == nil {
		if lo.name == "Add" {
			err = s.c.cfg.Tree.Add(s.principal(), lo.target, v)
		} else {
			err = s.c.cfg.Tree.Replace(s.principal(), lo.target, v)
		}
	}
	s.reply(msgRef, c, syncml.StatusOf(err))
	return true
}

// roomFor checks a declared object size against the tree's budget when the
// tree reports it (TreeRoom): 413 when no value that large is stored, 420
// when an Add finds no room left for it (OMA-TS-SyncML_RepPro-V1_2 §10), else 0. A Replace
// frees the old value, so only the tree itself can judge its room. A size
// sent as b64 text is compared by its decoded length.
func (s *session) roomFor(cmd, format string, size int64) syncml.StatusCode {
	r, ok := s.c.cfg.Tree.(TreeRoom)
	if !ok {
		return 0
	}
	if strings.EqualFold(format, "b64") {
		size = size / 4 * 3
	}
	maxValue, free := r.Room()
	switch {
	case maxValue > 0 && size > int64(maxValue):
		return syncml.StatusEntityTooLarge
	case cmd == "Add" && free >= 0 && size > free:
		return syncml.StatusDeviceFull
	}
	return 0
}

// splitData cuts at most n bytes from the front of d without splitting a
// UTF-8 sequence of text data.
func splitData(d *syncml.Data, n int) (head, tail []byte) {
	v := d.Value
	if n >= len(v) {
		return v, nil
	}
	if n < 1 {
		n = 1
	}
	if d.Kind != syncml.DataOpaque {
		for k := n; k > 0 && k > n-utf8.UTFMax; k-- {
			if utf8.RuneStart(v[k]) {
				n = k
				break
			}
		}
	}
	return v[:n], v[n:]
}

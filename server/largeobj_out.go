package server

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// minChunk is the smallest large-object chunk worth starting in a message
// that already holds other commands.
const minChunk = 256

// maxFitIterations bounds the encode-and-shrink loop that sizes a chunk.
const maxFitIterations = 8

// addChunk appends the next chunk of the large object lo (OMA-TS-DM_Protocol-V1_2 §7):
// Meta Size on the first chunk, MoreData on all but the last. It reports
// false when too little room is left in this message.
func (x *exchange) addChunk(j *storage.Job, lo *outLO, isFallback bool, added int) (bool, error) {
	if len(j.Spec.Items) != 1 {
		x.failJob(j, "large object job must have one item")
		return true, nil
	}
	it := j.Spec.Items[0]
	format, kind, data, err := wireData(x.enc, it)
	if err != nil {
		x.st.OutLO = nil
		x.failJob(j, err.Error())
		return true, nil
	}
	if lo.Off >= len(data) {
		x.st.OutLO = nil
		return true, nil
	}
	rest := data[lo.Off:]
	mk := func(n int) syncml.Command {
		meta := itemMeta(format, it.Type)
		if lo.Off == 0 {
			if meta == nil {
				meta = &syncml.Meta{}
			}
			meta.Size = int64(len(data))
		}
		item := syncml.Item{Target: &syncml.Location{LocURI: it.URI}, Meta: meta,
			Data: &syncml.Data{Kind: kind, Value: rest[:n]}, MoreData: n < len(rest)}
		id := strconv.Itoa(x.cmdN + 1)
		if lo.Cmd == "Replace" {
			return &syncml.Replace{CmdID: id, Items: []syncml.Item{item}}
		}
		return &syncml.Add{CmdID: id, Items: []syncml.Item{item}}
	}
	mark := len(x.reply.Body)
	size := func(n int) (int64, error) {
		x.reply.Body = append(x.reply.Body[:mark], mk(n))
		b, err := syncml.Encode(x.reply, x.enc)
		x.reply.Body = x.reply.Body[:mark]
		if err != nil {
			return 0, &syncml.StatusError{Code: syncml.StatusCommandFailed, Msg: "encoding reply", Err: err}
		}
		return int64(len(b)), nil
	}
	base, err := size(0)
	if err != nil {
		return false, err
	}
	limit := x.st.DevMaxMsg
	n := int(min(limit-base, int64(len(rest))))
	if n < minChunk && n < len(rest) {
		if added == 0 {
			x.st.OutLO = nil
			x.failJob(j, fmt.Sprintf("device MaxMsgSize %d leaves no room for a large-object chunk", limit))
			return true, nil
		}
		return false, nil
	}
	textual := kind != syncml.DataOpaque
	for i := 0; ; i++ {
		if textual {
			for n > 0 && n < len(rest) && !utf8.RuneStart(rest[n]) {
				n--
			}
		}
		s, err := size(n)
		if err != nil {
			return false, err
		}
		if s <= limit {
			break
		}
		n -= int(s-limit) + 1
		if n <= 0 || i == maxFitIterations {
			return false, nil
		}
	}
	cmd := mk(n)
	x.cmdN++
	x.reply.Body = append(x.reply.Body, cmd)
	first := lo.Off == 0
	lo.Off += n
	key := pendKey(x.reply.Header.MsgID, cmd.ID())
	if lo.Off < len(data) {
		x.st.Pending[key] = &pending{Job: j.ID, Cmd: lo.Cmd, Chunk: true, Fallback: isFallback}
		x.st.OutLO = lo
	} else {
		x.st.Pending[key] = &pending{Job: j.ID, Cmd: lo.Cmd, Fallback: isFallback, LastChunk: !first}
		x.st.OutLO = nil
	}
	if first {
		x.markSent(j, cmd)
	}
	return true, nil
}

// noLargeObjects reports whether the server's view of the device's tree says
// it does not support large objects (./DevDetail/LrgObj false). Unknown
// counts as supported: servers MUST and clients SHOULD support them.
func (x *exchange) noLargeObjects(ctx context.Context) (bool, error) {
	const uri = "./DevDetail/LrgObj"
	nodes, err := x.e.store.ListTreeNodes(ctx, x.dev.ID, uri)
	if err != nil {
		return false, storageErr("reading the device's tree", err)
	}
	for _, n := range nodes {
		if n.URI == uri {
			return strings.EqualFold(strings.TrimSpace(n.Value), "false"), nil
		}
	}
	return false, nil
}

// Package tracez is the stored form of wire-trace bodies shared by the SQL
// backends: DM messages compressed with DEFLATE (compress/flate, RFC 1951)
// against a preset dictionary of typical DM messages, one dictionary per
// encoding. A DM message is mostly the same markup every time (header,
// namespaces, Status blocks), so a 1.2 KB XML message is stored in about
// 150–300 bytes and a WBXML one in about 100–200.
//
// A stored trace carries its codec number. The dictionaries are part of the
// stored format: a codec number, once used, names its dictionary forever
// (the test pins their hashes); a better dictionary is a new number.
package tracez

import (
	"bytes"
	"compress/flate"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Codec numbers as stored with each trace.
const (
	Raw      = 0 // the body as it crossed the wire
	XMLv1    = 1 // DEFLATE against dict1.xml
	WBXMLv1  = 2 // DEFLATE against dict1.wbxml
	maxCodec = WBXMLv1
)

// The content types a compressed body stands for when its stored content
// type is empty (the common case, so it is not stored with every row).
const (
	ctXML   = "application/vnd.syncml.dm+xml"
	ctWBXML = "application/vnd.syncml.dm+wbxml"
)

var (
	//go:embed dict1.xml
	dictXML []byte
	//go:embed dict1.wbxml
	dictWBXML []byte
)

// minPack is the smallest body worth compressing.
const minPack = 64

// maxUnpacked bounds what Unpack inflates: the largest message a server
// accepts is far smaller, so a bigger result means a damaged row.
const maxUnpacked = 64 << 20

type codec struct {
	dict []byte
	ct   string
	w    sync.Pool // *flate.Writer with dict
}

var codecs = [maxCodec + 1]*codec{
	XMLv1:   {dict: dictXML, ct: ctXML},
	WBXMLv1: {dict: dictWBXML, ct: ctWBXML},
}

// Pack returns the stored form of a trace body: its codec, the content type
// to store ("" when the codec implies it) and the bytes to store. A short
// body, one without a content type, or one that does not get smaller is
// stored raw. Unpack(Pack(ct, body)) gives ct and body back exactly.
func Pack(contentType string, body []byte) (int, string, []byte) {
	if len(body) < minPack || contentType == "" {
		return Raw, contentType, body
	}
	n := XMLv1
	if body[0] < 0x04 { // a WBXML version byte (1.0–1.3); XML starts with '<', a BOM or a space
		n = WBXMLv1
	}
	c := codecs[n]
	var buf bytes.Buffer
	buf.Grow(len(body) / 3)
	w, _ := c.w.Get().(*flate.Writer)
	if w == nil {
		var err error
		if w, err = flate.NewWriterDict(&buf, flate.BestSpeed, c.dict); err != nil {
			return Raw, contentType, body
		}
	} else {
		w.Reset(&buf)
	}
	_, err := w.Write(body)
	if err == nil {
		err = w.Close()
	}
	c.w.Put(w)
	if err != nil || buf.Len() >= len(body) {
		return Raw, contentType, body
	}
	ct := contentType
	if ct == c.ct {
		ct = ""
	}
	return n, ct, buf.Bytes()
}

// ErrCodec reports a stored trace this build cannot read.
var ErrCodec = errors.New("tracez: unknown trace codec")

// Unpack returns the content type and body of a stored trace.
func Unpack(n int, contentType string, data []byte) (string, []byte, error) {
	if n == Raw {
		return contentType, data, nil
	}
	if n < 0 || n > maxCodec || codecs[n] == nil {
		return "", nil, fmt.Errorf("%w %d", ErrCodec, n)
	}
	c := codecs[n]
	r := flate.NewReaderDict(bytes.NewReader(data), c.dict)
	defer r.Close()
	body, err := io.ReadAll(io.LimitReader(r, maxUnpacked+1))
	if err == nil && len(body) > maxUnpacked {
		err = errors.New("inflates past the size limit")
	}
	if err != nil {
		return "", nil, fmt.Errorf("tracez: stored trace body (codec %d): %w", n, err)
	}
	if contentType == "" {
		contentType = c.ct
	}
	return contentType, body, nil
}

package syncml

import (
	"bytes"
	"mime"
	"strings"
)

// Detect returns the encoding of a DM message from its content type and, when
// the content type is absent or generic, from its first bytes.
func Detect(contentType string, b []byte) (Encoding, bool) {
	if contentType != "" {
		mt, _, err := mime.ParseMediaType(contentType)
		if err == nil {
			switch {
			case strings.HasSuffix(mt, "+wbxml") || mt == "application/vnd.wap.wbxml":
				return EncodingWBXML, true
			case strings.HasSuffix(mt, "+xml") || mt == "text/xml" || mt == "application/xml":
				return EncodingXML, true
			}
		}
	}
	// WBXML starts with a version byte 0x01..0x03; XML with '<', a BOM or whitespace.
	if len(b) > 0 && b[0] >= 0x01 && b[0] <= 0x03 {
		return EncodingWBXML, true
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(t) > 0 && t[0] == '<' {
		return EncodingXML, true
	}
	return EncodingXML, false
}

// Decode decodes a message in either encoding, detected by Detect.
func Decode(b []byte, contentType string, lim *Limits) (*Message, Encoding, error) {
	enc, ok := Detect(contentType, b)
	if !ok {
		return nil, enc, &DecodeError{Offset: 0, Msg: "input is neither XML nor WBXML"}
	}
	var m *Message
	var err error
	if enc == EncodingWBXML {
		m, err = DecodeWBXML(b, lim)
	} else {
		m, err = DecodeXML(b, lim)
	}
	return m, enc, err
}

// Encode encodes m in the given encoding.
func Encode(m *Message, enc Encoding) ([]byte, error) {
	if enc == EncodingWBXML {
		return EncodeWBXML(m)
	}
	return EncodeXML(m)
}

package dmtree

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/omadm/omadm/syncml"
)

// Node formats of OMA DM 1.2 (Meta Format / DFFormat).
const (
	FormatChr   = "chr"
	FormatInt   = "int"
	FormatBool  = "bool"
	FormatBin   = "bin"
	FormatB64   = "b64"
	FormatNode  = "node"
	FormatNull  = "null"
	FormatXML   = "xml"
	FormatDate  = "date"
	FormatTime  = "time"
	FormatFloat = "float"
)

// formats is indexed by the stored format code; b64 is never stored (values are
// decoded and kept as bin) but has a code so DDFs can name it.
var formats = []string{FormatChr, FormatInt, FormatBool, FormatBin, FormatNode, FormatNull, FormatXML, FormatDate, FormatTime, FormatFloat, FormatB64}

const (
	fmtChr uint8 = iota
	fmtInt
	fmtBool
	fmtBin
	fmtNode
	fmtNull
	fmtXML
	fmtDate
	fmtTime
	fmtFloat
	fmtB64
)

func formatCode(s string) (uint8, bool) {
	for i, f := range formats {
		if f == s {
			return uint8(i), true
		}
	}
	return 0, false
}

// normalizeValue checks data against format and returns the stored format code
// and bytes: b64 is decoded and stored as bin. Mismatches give 415.
func normalizeValue(format string, data []byte) (uint8, []byte, error) {
	if format == "" {
		format = FormatChr
	}
	code, ok := formatCode(format)
	if !ok {
		return 0, nil, syncml.Errorf(syncml.StatusUnsupportedMediaType, "unsupported format %q", format)
	}
	bad := func(why string) (uint8, []byte, error) {
		return 0, nil, syncml.Errorf(syncml.StatusUnsupportedMediaType, "value is not %s: %s", format, why)
	}
	switch code {
	case fmtB64:
		dec, err := decodeB64(data)
		if err != nil {
			return bad(err.Error())
		}
		return fmtBin, dec, nil
	case fmtInt:
		if _, err := strconv.ParseInt(string(data), 10, 32); err != nil {
			return bad("not a 32-bit decimal integer")
		}
	case fmtBool:
		if s := string(data); s != "true" && s != "false" {
			return bad("bool must be true or false")
		}
	case fmtNull:
		if len(data) != 0 {
			return bad("null format carries no data")
		}
	case fmtNode:
		if len(data) != 0 {
			return bad("interior nodes have no value")
		}
	case fmtChr:
		if !utf8.Valid(data) {
			return bad("not UTF-8 text")
		}
	case fmtXML:
		if err := checkXML(data); err != nil {
			return bad(err.Error())
		}
	case fmtDate:
		if !validDate(string(data)) {
			return bad("date must be ISO 8601 YYYY-MM-DD or YYYYMMDD")
		}
	case fmtTime:
		if !validTime(string(data)) {
			return bad("time must be ISO 8601 hh:mm:ss or hhmmss with optional zone")
		}
	case fmtFloat:
		if _, err := strconv.ParseFloat(string(data), 64); err != nil {
			return bad("not a decimal float")
		}
	}
	return code, bytes.Clone(data), nil
}

func decodeB64(data []byte) ([]byte, error) {
	// Servers wrap long base64 lines; whitespace is not data.
	clean := make([]byte, 0, len(data))
	for _, c := range data {
		if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			clean = append(clean, c)
		}
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
	n, err := base64.StdEncoding.Decode(out, clean)
	if err != nil {
		return nil, errors.New("invalid base64")
	}
	return out[:n], nil
}

func checkXML(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	depth := 0
	for i := 0; ; i++ {
		if i > 1<<20 {
			return errors.New("xml too complex")
		}
		tok, err := d.Token()
		if err == io.EOF {
			if depth != 0 {
				return errors.New("unclosed xml element")
			}
			return nil
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
		if err != nil {
			return errors.New("malformed xml")
		}
	}
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func validDate(s string) bool {
	var y, m, d string
	switch len(s) {
	case 10:
		if s[4] != '-' || s[7] != '-' {
			return false
		}
		y, m, d = s[0:4], s[5:7], s[8:10]
	case 8:
		y, m, d = s[0:4], s[4:6], s[6:8]
	default:
		return false
	}
	if !digits(y) || !digits(m) || !digits(d) {
		return false
	}
	mi, _ := strconv.Atoi(m)
	di, _ := strconv.Atoi(d)
	return mi >= 1 && mi <= 12 && di >= 1 && di <= 31
}

func validTime(s string) bool {
	// Optional zone: Z or ±hh[:]mm.
	body := s
	if n := len(s); n > 0 && s[n-1] == 'Z' {
		body = s[:n-1]
	} else if i := lastSign(s); i > 0 {
		zone := s[i+1:]
		if len(zone) == 5 && zone[2] == ':' {
			zone = zone[:2] + zone[3:]
		}
		if len(zone) != 4 || !digits(zone) {
			return false
		}
		body = s[:i]
	}
	var h, m, sec string
	switch len(body) {
	case 8:
		if body[2] != ':' || body[5] != ':' {
			return false
		}
		h, m, sec = body[0:2], body[3:5], body[6:8]
	case 6:
		h, m, sec = body[0:2], body[2:4], body[4:6]
	default:
		return false
	}
	if !digits(h) || !digits(m) || !digits(sec) {
		return false
	}
	hi, _ := strconv.Atoi(h)
	mi, _ := strconv.Atoi(m)
	si, _ := strconv.Atoi(sec)
	return hi <= 23 && mi <= 59 && si <= 60
}

func lastSign(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '+' || s[i] == '-' {
			return i
		}
	}
	return -1
}

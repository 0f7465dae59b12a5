package syncml

// Limits bound what a decoder accepts. Zero fields take the defaults below, so a
// nil *Limits is safe everywhere.
type Limits struct {
	MaxMessageSize int // bytes of encoded input (default 4 MiB)
	MaxDepth       int // element nesting (default 32)
	MaxElements    int // elements per message (default 100,000)
	MaxStringLen   int // bytes of one text/opaque value (default 2 MiB)
}

// Default limits.
const (
	DefaultMaxMessageSize = 4 << 20
	DefaultMaxDepth       = 32
	DefaultMaxElements    = 100_000
	DefaultMaxStringLen   = 2 << 20
)

// WithDefaults returns l with zero fields replaced by defaults.
func (l *Limits) WithDefaults() Limits {
	var r Limits
	if l != nil {
		r = *l
	}
	if r.MaxMessageSize <= 0 {
		r.MaxMessageSize = DefaultMaxMessageSize
	}
	if r.MaxDepth <= 0 {
		r.MaxDepth = DefaultMaxDepth
	}
	if r.MaxElements <= 0 {
		r.MaxElements = DefaultMaxElements
	}
	if r.MaxStringLen <= 0 {
		r.MaxStringLen = DefaultMaxStringLen
	}
	return r
}

// Encoding names a wire encoding.
type Encoding int

const (
	// EncodingXML is application/vnd.syncml.dm+xml.
	EncodingXML Encoding = iota
	// EncodingWBXML is application/vnd.syncml.dm+wbxml.
	EncodingWBXML
)

// ContentType returns the MIME type of the encoding.
func (e Encoding) ContentType() string {
	if e == EncodingWBXML {
		return ContentTypeWBXML
	}
	return ContentTypeXML
}

func (e Encoding) String() string {
	if e == EncodingWBXML {
		return "wbxml"
	}
	return "xml"
}

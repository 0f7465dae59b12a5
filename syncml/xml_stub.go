package syncml

// TEMPORARY stub, replaced by the XML codec (xml.go). Delete this file when xml.go lands.

// DecodeXML decodes an XML SyncML message.
func DecodeXML(b []byte, lim *Limits) (*Message, error) {
	return nil, &DecodeError{Msg: "XML codec not built yet"}
}

// EncodeXML encodes m as XML.
func EncodeXML(m *Message) ([]byte, error) { return nil, &DecodeError{Msg: "XML codec not built yet"} }

// DecodeError reports malformed input: where (byte offset, element) and what.
type DecodeError struct {
	Offset  int64
	Element string
	Msg     string
}

func (e *DecodeError) Error() string { return e.Msg }

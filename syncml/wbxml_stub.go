package syncml

// TEMPORARY stub, replaced by the WBXML binding (wbxml.go). Delete this file when wbxml.go lands.

// DecodeWBXML decodes a WBXML SyncML message.
func DecodeWBXML(b []byte, lim *Limits) (*Message, error) {
	return nil, &DecodeError{Msg: "WBXML codec not built yet"}
}

// EncodeWBXML encodes m as WBXML.
func EncodeWBXML(m *Message) ([]byte, error) {
	return nil, &DecodeError{Msg: "WBXML codec not built yet"}
}

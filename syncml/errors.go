package syncml

import (
	"strconv"
	"strings"
)

// DecodeError reports malformed or over-limit input: where (byte offset into the
// encoded message, innermost element) and what. Every decoder of this package
// returns it so callers can point at the faulty byte, and so the engines answer
// the message with 400 Bad Request: errors.As(err, **StatusError) succeeds on a
// *DecodeError (see As), which makes StatusOf report 400.
type DecodeError struct {
	Offset  int64  // byte offset of the problem in the input
	Element string // innermost enclosing element name, without brackets; "" at top level
	Msg     string // what is wrong
}

// Error returns text such as `offset 123 (in <Status>): unexpected end of input`.
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.Grow(len(e.Msg) + len(e.Element) + 32)
	b.WriteString("offset ")
	b.WriteString(strconv.FormatInt(e.Offset, 10))
	if e.Element != "" {
		b.WriteString(" (in <")
		b.WriteString(e.Element)
		b.WriteString(">)")
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// As lets errors.As convert a decode error into a *StatusError with code 400,
// the status a malformed message is answered with; the StatusError keeps the
// DecodeError as its cause.
func (e *DecodeError) As(target any) bool {
	if p, ok := target.(**StatusError); ok {
		*p = &StatusError{Code: StatusBadRequest, Msg: "malformed message", Err: e}
		return true
	}
	return false
}

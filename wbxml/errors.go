package wbxml

import (
	"errors"
	"strconv"
)

// Sentinel causes a *SyntaxError wraps, so callers can tell classes of bad
// input apart with errors.Is.
var (
	// ErrTruncated means the input ended inside a token or an open element.
	ErrTruncated = errors.New("truncated input")
	// ErrLimit means a hard decoding limit was exceeded.
	ErrLimit = errors.New("limit exceeded")
	// ErrCharset means the document charset is not UTF-8.
	ErrCharset = errors.New("unsupported charset")
	// ErrVersion means the version byte is not WBXML 1.1, 1.2 or 1.3.
	ErrVersion = errors.New("unsupported WBXML version")
	// ErrMalformed means the bytes do not follow the WBXML grammar.
	ErrMalformed = errors.New("malformed WBXML")
)

// SyntaxError reports bad input with the byte offset where it was found.
type SyntaxError struct {
	Offset int64  // byte offset of the offending token in the input
	Msg    string // what is wrong
	Err    error  // one of the Err* sentinels
}

func (e *SyntaxError) Error() string {
	return "wbxml: " + e.Msg + " at byte " + strconv.FormatInt(e.Offset, 10)
}

// Unwrap returns the sentinel class of the error.
func (e *SyntaxError) Unwrap() error { return e.Err }

func errAt(off int, class error, msg string) *SyntaxError {
	return &SyntaxError{Offset: int64(off), Msg: msg, Err: class}
}

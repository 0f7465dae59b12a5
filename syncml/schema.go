package syncml

//go:generate go run ./internal/genschema -in schema.txt -out zschema.go

// The element table lives in schema.txt; zschema.go is generated from it.
// These are the types it is written in.

// elem identifies an element of the table (elUnknown: none of them).
type elem uint8

// Code pages of the SyncML WBXML language; each also names the XML
// namespace of its elements.
const (
	pageSyncML = 0 // SYNCML:SYNCML1.2 (or 1.1)
	pageMetInf = 1 // syncml:metinf
	pageDDF    = 2 // syncml:dmddf1.2, only inside Data
)

// elemClass says whether OMA DM uses an element.
type elemClass uint8

const (
	classUnknown elemClass = iota // no SyncML DTD defines it
	classDM                       // an OMA DM element
	classDS                       // a SyncML DS command DM does not use (Sync, Map, Put…)
	classNotDM                    // another SyncML DS element DM does not use (Field, Filter…)
)

// elemDef is one row of the element table.
type elemDef struct {
	name    string
	page    uint8 // WBXML code page, and so XML namespace
	token   byte  // WBXML tag token on page
	class   elemClass
	command bool // a command of SyncBody, Atomic or Sequence
}

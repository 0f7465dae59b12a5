package syncml

import "strings"

// Versions and dialects: which SyncML documents the decoders take as DM.

// isDMProto reports whether a VerProto names OMA DM ("DM/1.2", "DM/1.1").
// SyncML DS messages carry "SyncML/1.x" there instead.
func isDMProto(verProto string) bool {
	return len(verProto) > 3 && strings.EqualFold(verProto[:3], "DM/")
}

// refuseDS returns the error for a message whose body holds a SyncML DS
// command when its header does not say DM: such a message is a DS message
// (a Sync or Map package, a Put of DevInf…), not a DM message with one
// command DM lacks, so it is refused as a whole, naming the element. In a DM
// message the DS command stays an *Unknown that only fails itself.
func refuseDS(m *Message, first *Unknown, off int) error {
	if isDMProto(m.Header.VerProto) {
		return nil
	}
	return &DecodeError{Offset: int64(off), Element: "SyncBody",
		Msg: "element <" + first.Name + "> is a SyncML DS command and the header's VerProto is " +
			quoteOrNone(m.Header.VerProto) + ": a SyncML DS message, not OMA DM"}
}

func quoteOrNone(s string) string {
	if s == "" {
		return "missing"
	}
	return `"` + s + `"`
}

package syncml

import (
	"testing"

	"github.com/omadm/omadm/wbxml"
)

// TestElementTable_CoversEveryCodePageToken checks the element table against
// the WBXML code pages: every tag the SyncML and MetInf pages assign
// (OMA-TS-SyncML_RepPro-V1_2 and OMA-TS-SyncML_MetaInfo-V1_2, WBXML code
// pages) is an element of the table with that name, so a token added to
// wbxml/codepages.txt without a row in schema.txt fails here instead of
// decoding as an unknown element.
func TestElementTable_CoversEveryCodePageToken(t *testing.T) {
	for _, pg := range []*wbxml.CodePage{wbxml.SyncML12Page, wbxml.MetInf12Page, wbxml.SyncML11Page, wbxml.MetInf11Page} {
		for tok, name := range pg.Tags {
			if name == "" {
				continue
			}
			el := wbxElems[pg.Page][tok]
			if el == elUnknown {
				t.Errorf("page %d token %#x <%s> is not in schema.txt", pg.Page, tok, name)
				continue
			}
			if got := elemDefs[el].name; got != name {
				t.Errorf("page %d token %#x is <%s> in the code page but <%s> in schema.txt", pg.Page, tok, name, got)
			}
		}
	}
}

// TestElementTable_NamesResolveToTheirElement checks the XML name lookup
// built from the table: each name resolves to its own element.
func TestElementTable_NamesResolveToTheirElement(t *testing.T) {
	for el := elUnknown + 1; el < elCount; el++ {
		got, ok := lookupElem(elemDefs[el].name)
		if !ok || got != el {
			t.Errorf("lookupElem(%q) = %v, %v; want %v", elemDefs[el].name, got, ok, el)
		}
		if def := elemDefs[el]; wbxElems[def.page][def.token] != el {
			t.Errorf("token of <%s> does not map back to it", def.name)
		}
	}
}

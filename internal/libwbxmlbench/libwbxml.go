//go:build libwbxml

package libwbxmlbench

/*
#cgo CFLAGS: -I/usr/include/libwbxml-1.0
#cgo LDFLAGS: -lwbxml2
#include <stdlib.h>
#include <wbxml/wbxml.h>
#include <wbxml/wbxml_conv.h>
*/
import "C"

import (
	"errors"
	"unsafe"
)

func convErr(rc C.WBXMLError) error {
	return errors.New("libwbxml: " + C.GoString((*C.char)(unsafe.Pointer(C.wbxml_errors_string(rc)))))
}

// WBXMLToXML converts a WBXML document to compact XML with libwbxml
// (what `wbxml2xml -m 0 -k` does), whitespace preserved.
func WBXMLToXML(doc []byte) ([]byte, error) {
	if len(doc) == 0 {
		return nil, errors.New("libwbxml: empty input")
	}
	var conv *C.WBXMLConvWBXML2XML
	if rc := C.wbxml_conv_wbxml2xml_create(&conv); rc != C.WBXML_OK {
		return nil, convErr(rc)
	}
	defer C.wbxml_conv_wbxml2xml_destroy(conv)
	C.wbxml_conv_wbxml2xml_set_gen_type(conv, C.WBXML_GEN_XML_COMPACT)
	C.wbxml_conv_wbxml2xml_enable_preserve_whitespaces(conv)
	in := C.CBytes(doc)
	defer C.free(in)
	var out *C.WB_UTINY
	var n C.WB_ULONG
	if rc := C.wbxml_conv_wbxml2xml_run(conv, (*C.WB_UTINY)(in), C.WB_ULONG(len(doc)), &out, &n); rc != C.WBXML_OK {
		return nil, convErr(rc)
	}
	defer C.free(unsafe.Pointer(out))
	return C.GoBytes(unsafe.Pointer(out), C.int(n)), nil
}

// XMLToWBXML converts XML to WBXML 1.3 with libwbxml, whitespace preserved
// and without a string table (what `xml2wbxml -n -k` does).
func XMLToWBXML(x []byte) ([]byte, error) {
	if len(x) == 0 {
		return nil, errors.New("libwbxml: empty input")
	}
	var conv *C.WBXMLConvXML2WBXML
	if rc := C.wbxml_conv_xml2wbxml_create(&conv); rc != C.WBXML_OK {
		return nil, convErr(rc)
	}
	defer C.wbxml_conv_xml2wbxml_destroy(conv)
	C.wbxml_conv_xml2wbxml_enable_preserve_whitespaces(conv)
	C.wbxml_conv_xml2wbxml_disable_string_table(conv)
	in := C.CBytes(x)
	defer C.free(in)
	var out *C.WB_UTINY
	var n C.WB_ULONG
	if rc := C.wbxml_conv_xml2wbxml_run(conv, (*C.WB_UTINY)(in), C.WB_ULONG(len(x)), &out, &n); rc != C.WBXML_OK {
		return nil, convErr(rc)
	}
	defer C.free(unsafe.Pointer(out))
	return C.GoBytes(unsafe.Pointer(out), C.int(n)), nil
}

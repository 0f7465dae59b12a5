package syncml

import (
	"errors"
	"fmt"
	"strconv"
)

// StatusCode is a SyncML status code as carried in Status/Data (RepPro 1.2 §10).
type StatusCode int

// Status codes used by OMA DM 1.2 (OMA-TS-SyncML_RepPro-V1_2 §10, with their
// DM meaning from OMA-TS-DM_RepPro-V1_2).
const (
	StatusInProgress             StatusCode = 101
	StatusOK                     StatusCode = 200
	StatusItemAdded              StatusCode = 201
	StatusAccepted               StatusCode = 202
	StatusNonAuthoritative       StatusCode = 203
	StatusNoContent              StatusCode = 204
	StatusResetContent           StatusCode = 205
	StatusPartialContent         StatusCode = 206
	StatusConflictMerged         StatusCode = 207
	StatusConflictClientWon      StatusCode = 208
	StatusConflictDuplicate      StatusCode = 209
	StatusDeleteNoArchive        StatusCode = 210
	StatusItemNotDeleted         StatusCode = 211
	StatusAuthAccepted           StatusCode = 212
	StatusChunkAccepted          StatusCode = 213
	StatusCancelled              StatusCode = 214
	StatusNotExecuted            StatusCode = 215
	StatusAtomicRollbackOK       StatusCode = 216
	StatusMultipleChoices        StatusCode = 300
	StatusMovedPermanently       StatusCode = 301
	StatusFound                  StatusCode = 302
	StatusSeeOther               StatusCode = 303
	StatusNotModified            StatusCode = 304
	StatusUseProxy               StatusCode = 305
	StatusBadRequest             StatusCode = 400
	StatusInvalidCredentials     StatusCode = 401
	StatusPaymentRequired        StatusCode = 402
	StatusForbidden              StatusCode = 403
	StatusNotFound               StatusCode = 404
	StatusCommandNotAllowed      StatusCode = 405
	StatusOptionalNotSupported   StatusCode = 406
	StatusMissingCredentials     StatusCode = 407
	StatusRequestTimeout         StatusCode = 408
	StatusConflict               StatusCode = 409
	StatusGone                   StatusCode = 410
	StatusSizeRequired           StatusCode = 411
	StatusIncompleteCommand      StatusCode = 412
	StatusEntityTooLarge         StatusCode = 413
	StatusURITooLong             StatusCode = 414
	StatusUnsupportedMediaType   StatusCode = 415
	StatusRequestedSizeTooBig    StatusCode = 416
	StatusRetryLater             StatusCode = 417
	StatusAlreadyExists          StatusCode = 418
	StatusConflictServerData     StatusCode = 419
	StatusDeviceFull             StatusCode = 420
	StatusUnknownSearchGrammar   StatusCode = 421
	StatusBadCGIScript           StatusCode = 422
	StatusSoftDeleteConflict     StatusCode = 423
	StatusSizeMismatch           StatusCode = 424
	StatusPermissionDenied       StatusCode = 425
	StatusPartialItemNotAccepted StatusCode = 426
	StatusItemNotEmpty           StatusCode = 427
	StatusMoveFailed             StatusCode = 428
	StatusCommandFailed          StatusCode = 500
	StatusNotImplemented         StatusCode = 501
	StatusBadGateway             StatusCode = 502
	StatusServiceUnavailable     StatusCode = 503
	StatusGatewayTimeout         StatusCode = 504
	StatusDTDNotSupported        StatusCode = 505
	StatusProcessingError        StatusCode = 506
	StatusAtomicFailed           StatusCode = 507
	StatusRefreshRequired        StatusCode = 508
	StatusDataStoreFailure       StatusCode = 510
	StatusServerFailure          StatusCode = 511
	StatusSyncFailed             StatusCode = 512
	StatusProtocolNotSupported   StatusCode = 513
	StatusOperationCancelled     StatusCode = 514
	StatusAtomicRollbackFailed   StatusCode = 516
	StatusAtomicResponseTooLarge StatusCode = 517
)

var statusNames = map[StatusCode]string{
	101: "In progress", 200: "OK", 201: "Item added", 202: "Accepted for processing",
	203: "Non-authoritative response", 204: "No content", 205: "Reset content",
	206: "Partial content", 207: "Conflict resolved with merge", 208: "Conflict resolved with client's command winning",
	209: "Conflict resolved with duplicate", 210: "Delete without archive", 211: "Item not deleted",
	212: "Authentication accepted", 213: "Chunked item accepted and buffered", 214: "Operation cancelled",
	215: "Not executed", 216: "Atomic roll back OK", 300: "Multiple choices", 301: "Moved permanently",
	302: "Found", 303: "See other", 304: "Not modified", 305: "Use proxy", 400: "Bad request",
	401: "Invalid credentials", 402: "Payment required", 403: "Forbidden", 404: "Not found",
	405: "Command not allowed", 406: "Optional feature not supported", 407: "Missing credentials",
	408: "Request timeout", 409: "Conflict", 410: "Gone", 411: "Size required", 412: "Incomplete command",
	413: "Request entity too large", 414: "URI too long", 415: "Unsupported media type or format",
	416: "Requested size too big", 417: "Retry later", 418: "Already exists",
	419: "Conflict resolved with server data", 420: "Device full", 421: "Unknown search grammar",
	422: "Bad CGI script", 423: "Soft-delete conflict", 424: "Size mismatch", 425: "Permission denied",
	426: "Partial item not accepted", 427: "Item not empty", 428: "Move failed", 500: "Command failed",
	501: "Command not implemented", 502: "Bad gateway", 503: "Service unavailable", 504: "Gateway timeout",
	505: "DTD version not supported", 506: "Processing error", 507: "Atomic failed",
	508: "Refresh required", 510: "Data store failure", 511: "Server failure",
	512: "Synchronization failed", 513: "Protocol version not supported", 514: "Operation cancelled",
	516: "Atomic roll back failed", 517: "Atomic response too large to fit",
}

// String returns "404 Not found" style text; unknown codes print as the bare number.
func (c StatusCode) String() string {
	if n, ok := statusNames[c]; ok {
		return strconv.Itoa(int(c)) + " " + n
	}
	return strconv.Itoa(int(c))
}

// Name returns the RepPro name of the code, or "" when the code is not assigned.
func (c StatusCode) Name() string { return statusNames[c] }

// Success reports whether c is a 2xx code.
func (c StatusCode) Success() bool { return c >= 200 && c < 300 }

// AlertCode is the value carried in Alert/Data.
type AlertCode int

// Alert codes of OMA DM 1.2 (OMA-TS-DM_RepPro-V1_2, Alert codes).
const (
	AlertDisplay             AlertCode = 1100
	AlertConfirmOrReject     AlertCode = 1101
	AlertTextInput           AlertCode = 1102
	AlertSingleChoice        AlertCode = 1103
	AlertMultipleChoice      AlertCode = 1104
	AlertServerInitiatedMgmt AlertCode = 1200
	AlertClientInitiatedMgmt AlertCode = 1201
	AlertNextMessage         AlertCode = 1222
	AlertSessionAbort        AlertCode = 1223
	AlertClientEvent         AlertCode = 1224
	AlertNoEndOfData         AlertCode = 1225
	AlertGeneric             AlertCode = 1226
)

var alertNames = map[AlertCode]string{
	1100: "DISPLAY", 1101: "CONFIRM_OR_REJECT", 1102: "TEXT_INPUT", 1103: "SINGLE_CHOICE",
	1104: "MULTIPLE_CHOICE", 1200: "SERVER-INITIATED MGMT", 1201: "CLIENT-INITIATED MGMT",
	1222: "NEXT MESSAGE", 1223: "SESSION ABORT", 1224: "CLIENT EVENT", 1225: "NO END OF DATA",
	1226: "GENERIC ALERT",
}

// String returns "1201 CLIENT-INITIATED MGMT" style text.
func (a AlertCode) String() string {
	if n, ok := alertNames[a]; ok {
		return strconv.Itoa(int(a)) + " " + n
	}
	return strconv.Itoa(int(a))
}

// Name returns the DM name of the alert code, or "" when unassigned.
func (a AlertCode) Name() string { return alertNames[a] }

// IsUI reports whether a is one of the user-interaction alerts 1100-1104.
func (a AlertCode) IsUI() bool { return a >= 1100 && a <= 1104 }

// StatusError is an error that carries the SyncML status it maps to on the wire.
// Every layer (codec, tree, engines) returns it so one place can turn errors into
// Status commands.
type StatusError struct {
	Code StatusCode
	Msg  string
	Err  error // optional cause
}

func (e *StatusError) Error() string {
	s := e.Code.String()
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *StatusError) Unwrap() error { return e.Err }

// Errorf returns a *StatusError with a formatted message.
func Errorf(code StatusCode, format string, args ...any) *StatusError {
	return &StatusError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// StatusOf maps an error to the status that reports it: 200 for nil, the carried
// code for a *StatusError anywhere in the chain, 500 otherwise.
func StatusOf(err error) StatusCode {
	if err == nil {
		return StatusOK
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code
	}
	return StatusCommandFailed
}

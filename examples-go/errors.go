package voicetelemetry

// Header section "Statuses and errors".

/*
#include <stdlib.h>
#include "vtgo.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Status is a vt_status: StatusOK or a negative code. The library may add codes in a minor
// version; treat any unknown negative value as an error.
type Status int32

// The status codes of voicetelemetry.h (enum vt_status_code).
const (
	StatusOK              Status = C.VT_OK
	StatusInvalidArgument Status = C.VT_E_INVALID_ARG
	StatusBadHandle       Status = C.VT_E_BAD_HANDLE
	StatusBufferTooSmall  Status = C.VT_E_BUFFER_TOO_SMALL
	StatusLimit           Status = C.VT_E_LIMIT
	StatusOrder           Status = C.VT_E_ORDER
	StatusInternal        Status = C.VT_E_INTERNAL
	StatusNotFound        Status = C.VT_E_NOT_FOUND
	StatusPlugin          Status = C.VT_E_PLUGIN
	StatusPermission      Status = C.VT_E_PERMISSION
)

// String is the library's static text for the code (vt_status_str), e.g. "invalid argument".
func (s Status) String() string {
	return C.GoString(C.vt_status_str(C.vt_status(s)))
}

// Error is a failed call: the status the library returned and its detail message (vt_last_error
// of the failing call, read on the same OS thread).
//
// Compare with the sentinels using errors.Is: errors.Is(err, ErrBadHandle) is true for every
// *Error whose Code is StatusBadHandle, whatever its message.
type Error struct {
	Code    Status
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "voicetelemetry: " + e.Code.String()
	}
	return "voicetelemetry: " + e.Code.String() + ": " + e.Message
}

// Is reports whether target is an *Error with the same code (so the sentinels match any message).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && e != nil && t.Code == e.Code
}

// Sentinels for errors.Is, one per status code.
var (
	ErrInvalidArgument = &Error{Code: StatusInvalidArgument}
	ErrBadHandle       = &Error{Code: StatusBadHandle}
	ErrBufferTooSmall  = &Error{Code: StatusBufferTooSmall}
	ErrLimit           = &Error{Code: StatusLimit}
	ErrOrder           = &Error{Code: StatusOrder}
	ErrInternal        = &Error{Code: StatusInternal}
	ErrNotFound        = &Error{Code: StatusNotFound}
	ErrPlugin          = &Error{Code: StatusPlugin}
	ErrPermission      = &Error{Code: StatusPermission}
)

// errorOf is the one place a failure becomes an error: e is the vtgo_err a vtgo.h helper made on
// the failing call's own OS thread (status + copy of vt_last_error). It is freed here. Helpers
// return nil on success, and the success path never reaches this function.
func errorOf(e *C.vtgo_err) error {
	err := &Error{Code: Status(e.status), Message: C.GoString(e.msg)}
	if e.owned != 0 {
		C.free(unsafe.Pointer(e))
	}
	return err
}

// invalidf is a failure detected on the Go side, before crossing (e.g. a NUL byte in a string,
// which C would silently cut).
func invalidf(format string, args ...any) error {
	return &Error{Code: StatusInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

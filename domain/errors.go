package domain

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError names one field of a command that is not acceptable and why.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ValidationError is returned when a command carries invalid data. It lists
// every field at fault, not just the first.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		parts = append(parts, f.Field+": "+f.Message)
	}
	return "invalid command: " + strings.Join(parts, "; ")
}

// fieldErrors collects field errors while a command is validated.
type fieldErrors []FieldError

func (fe *fieldErrors) add(field, code, format string, args ...any) {
	*fe = append(*fe, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return &ValidationError{Fields: fe}
}

// ErrIllegalTransition is wrapped by every error that refuses a command
// because of the state the signal is in.
var ErrIllegalTransition = errors.New("illegal transition")

// ErrNotFound is returned for a command on a signal that was never reported.
var ErrNotFound = errors.New("signal not found")

// TransitionError says which command the signal's current status refuses.
type TransitionError struct {
	Command string
	Status  Status
	Reason  string
}

func (e *TransitionError) Error() string {
	msg := fmt.Sprintf("cannot %s a signal that is %s", e.Command, e.Status)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Unwrap lets errors.Is(err, ErrIllegalTransition) match.
func (e *TransitionError) Unwrap() error { return ErrIllegalTransition }

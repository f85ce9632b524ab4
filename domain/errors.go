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

// ErrUnknownEscalation is the cause of a TransitionError for a command about
// an escalation the signal does not hold.
var ErrUnknownEscalation = errors.New("unknown escalation")

// ErrNotAddressed is the cause of a TransitionError when a colleague answers
// an escalation that was not addressed to their organisation, specialty and
// region, or that came from their own organisation.
var ErrNotAddressed = errors.New("escalation not addressed to this recipient")

// ErrUnknownQuestion is the cause of a TransitionError for a reply to a
// question the signal does not have.
var ErrUnknownQuestion = errors.New("unknown question")

// TransitionError says which command the signal's current status refuses.
// Cause, when set, is a more specific sentinel (ErrNotFound,
// ErrUnknownEscalation, ErrNotAddressed) that errors.Is matches as well as
// ErrIllegalTransition.
type TransitionError struct {
	Command string
	Status  Status
	Reason  string
	Cause   error
	// Aggregate names what refused, when it is not a signal ("lesson",
	// "peer-support request").
	Aggregate string
}

func (e *TransitionError) Error() string {
	var msg string
	switch {
	case e.Aggregate != "" && errors.Is(e.Cause, ErrNotFound):
		msg = fmt.Sprintf("cannot %s: no such %s", e.Command, e.Aggregate)
	case e.Aggregate != "":
		msg = fmt.Sprintf("cannot %s this %s", e.Command, e.Aggregate)
	case e.Status == StatusNone:
		msg = fmt.Sprintf("cannot %s a signal that was never reported", e.Command)
	default:
		msg = fmt.Sprintf("cannot %s a signal that is %s", e.Command, e.Status)
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Unwrap lets errors.Is(err, ErrIllegalTransition) match, and the cause
// when there is one.
func (e *TransitionError) Unwrap() []error {
	if e.Cause == nil {
		return []error{ErrIllegalTransition}
	}
	return []error{ErrIllegalTransition, e.Cause}
}

// indexed names one element of a list field, as in targets.regions[2].
func indexed(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }

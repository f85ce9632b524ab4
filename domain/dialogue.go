package domain

import (
	"encoding/hex"
	"slices"
	"time"

	"github.com/google/uuid"
)

// The dialogue between a safety officer and the reporter: the officer asks
// a question, the reporter (named, or anonymous through the receipt code of
// the filing) replies once. Feedback (SendFeedback) is the officer's side
// without a question.

// Dialogue commands.
const (
	CommandAsk   = "ask"
	CommandReply = "reply"
)

// Dialogue event types.
const (
	EventQuestionAsked   = "QuestionAsked"
	EventReporterReplied = "ReporterReplied"
)

// ReceiptHashLength is the length of a receipt hash: hex SHA-256.
const ReceiptHashLength = 64

// Question is a question to the reporter and, once given, the reply.
type Question struct {
	ID        uuid.UUID
	Text      string
	AskedAt   time.Time
	Reply     string
	RepliedAt time.Time
}

// Answered reports whether the reporter replied.
func (q Question) Answered() bool { return !q.RepliedAt.IsZero() }

// AskReporter asks the reporter a question.
type AskReporter struct {
	QuestionID uuid.UUID
	Question   string
	At         time.Time
}

// CommandName implements Command.
func (AskReporter) CommandName() string { return CommandAsk }

// ReplyToQuestion is the reporter's answer to a question.
type ReplyToQuestion struct {
	QuestionID uuid.UUID
	Reply      string
	At         time.Time
}

// CommandName implements Command.
func (ReplyToQuestion) CommandName() string { return CommandReply }

// QuestionAsked records a question to the reporter.
type QuestionAsked struct {
	SignalID   uuid.UUID `json:"signalId"`
	QuestionID uuid.UUID `json:"questionId"`
	Question   string    `json:"question" sensitive:"signal"`
	AskedAt    time.Time `json:"askedAt"`
}

// EventType implements Event.
func (QuestionAsked) EventType() string { return EventQuestionAsked }

// ReporterReplied records the reporter's reply to a question. It names no
// reporter: for an anonymous signal there is none to name.
type ReporterReplied struct {
	SignalID   uuid.UUID `json:"signalId"`
	QuestionID uuid.UUID `json:"questionId"`
	Reply      string    `json:"reply" sensitive:"signal"`
	RepliedAt  time.Time `json:"repliedAt"`
}

// EventType implements Event.
func (ReporterReplied) EventType() string { return EventReporterReplied }

// Question returns the signal's question with the id.
func (s Signal) Question(id uuid.UUID) (Question, bool) {
	i := slices.IndexFunc(s.Questions, func(q Question) bool { return q.ID == id })
	if i < 0 {
		return Question{}, false
	}
	return s.Questions[i], true
}

func decideAsk(s Signal, c AskReporter) ([]Event, error) {
	if err := permit(s, c.CommandName()); err != nil {
		return nil, err
	}
	var fe fieldErrors
	validateAt(&fe, c.At)
	if c.QuestionID == uuid.Nil {
		fe.add("questionId", "required", "a question id is required")
	} else if _, ok := s.Question(c.QuestionID); ok {
		fe.add("questionId", "taken", "the signal already has a question with this id")
	}
	validateText(&fe, "question", c.Question, true, MaxMessageLength)
	if err := fe.err(); err != nil {
		return nil, err
	}
	return []Event{QuestionAsked{SignalID: s.ID, QuestionID: c.QuestionID, Question: c.Question, AskedAt: c.At.UTC()}}, nil
}

func decideReply(s Signal, c ReplyToQuestion) ([]Event, error) {
	if err := permit(s, c.CommandName()); err != nil {
		return nil, err
	}
	var fe fieldErrors
	validateAt(&fe, c.At)
	validateText(&fe, "reply", c.Reply, true, MaxMessageLength)
	if c.QuestionID == uuid.Nil {
		fe.add("questionId", "required", "the question's id is required")
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	q, ok := s.Question(c.QuestionID)
	if !ok {
		return nil, &TransitionError{Command: c.CommandName(), Status: s.Status, Cause: ErrUnknownQuestion}
	}
	if q.Answered() {
		return nil, refuse(s, c.CommandName(), "the question was already answered")
	}
	return []Event{ReporterReplied{SignalID: s.ID, QuestionID: c.QuestionID, Reply: c.Reply, RepliedAt: c.At.UTC()}}, nil
}

func evolveDialogue(s Signal, e Event) Signal {
	switch e := e.(type) {
	case QuestionAsked:
		s.Questions = append(slices.Clip(s.Questions), Question{ID: e.QuestionID, Text: e.Question, AskedAt: e.AskedAt})
		s.UpdatedAt = e.AskedAt
	case ReporterReplied:
		qs := slices.Clone(s.Questions)
		for i := range qs {
			if qs[i].ID == e.QuestionID {
				qs[i].Reply, qs[i].RepliedAt = e.Reply, e.RepliedAt
			}
		}
		s.Questions = qs
		s.UpdatedAt = e.RepliedAt
	}
	return s
}

// validReceiptHash reports whether h is a lowercase hex SHA-256.
func validReceiptHash(h string) bool {
	if len(h) != ReceiptHashLength {
		return false
	}
	for _, c := range h {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	_, err := hex.DecodeString(h)
	return err == nil
}

package domain_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain"
)

const receiptHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func TestReportWithReceipt(t *testing.T) {
	t.Parallel()
	anonymous := func(hash string) domain.ReportSignal {
		return report(func(c *domain.ReportSignal) { c.Anonymous, c.Reporter, c.ReceiptHash = true, "", hash })
	}
	runSpecs(t, []spec{
		{
			name: "an anonymous filing keeps the receipt's hash",
			when: anonymous(receiptHash),
			then: []domain.Event{reported(func(e *domain.SignalReported) { e.Anonymous, e.Reporter, e.ReceiptHash = true, "", receiptHash })},
		},
		{name: "a named filing has no receipt", when: report(func(c *domain.ReportSignal) { c.ReceiptHash = receiptHash }), wantFields: []string{"receiptHash"}},
		{name: "not a hash", when: anonymous("the-code-itself"), wantFields: []string{"receiptHash"}},
		{name: "upper case hex", when: anonymous(strings.ToUpper(receiptHash)), wantFields: []string{"receiptHash"}},
	})
	s := domain.Fold([]domain.Event{reported(func(e *domain.SignalReported) { e.Anonymous, e.Reporter, e.ReceiptHash = true, "", receiptHash })})
	if s.ReceiptHash != receiptHash {
		t.Errorf("state receipt hash %q", s.ReceiptHash)
	}
}

func TestAsk(t *testing.T) {
	t.Parallel()
	ask := func(id uuid.UUID, q string) domain.AskReporter {
		return domain.AskReporter{QuestionID: id, Question: q, At: hour(2)}
	}
	runSpecs(t, []spec{
		{name: "a reported signal", given: history(), when: ask(questionID, questionAsked().Question), then: []domain.Event{questionAsked()}},
		{name: "a rejected signal", given: history(rejected()), when: ask(questionID, questionAsked().Question), then: []domain.Event{questionAsked()}},
		{name: "an id already used", given: history(questionAsked()), when: ask(questionID, "Again?"), wantFields: []string{"questionId"}},
		{name: "blank", given: history(), when: ask(questionID, " "), wantFields: []string{"question"}},
		{name: "too long", given: history(), when: ask(questionID, strings.Repeat("x", domain.MaxMessageLength+1)), wantFields: []string{"question"}},
		{name: "everything missing", given: history(), when: domain.AskReporter{}, wantFields: []string{"at", "questionId", "question"}},
		{name: "never reported", when: ask(questionID, "?"), wantErr: domain.ErrNotFound},
	})
}

func TestReply(t *testing.T) {
	t.Parallel()
	reply := func(id uuid.UUID, text string) domain.ReplyToQuestion {
		return domain.ReplyToQuestion{QuestionID: id, Reply: text, At: hour(3)}
	}
	runSpecs(t, []spec{
		{name: "an open question", given: history(questionAsked()), when: reply(questionID, reporterReplied().Reply), then: []domain.Event{reporterReplied()}},
		{name: "after closure", given: history(acknowledged(), questionAsked(), closed()), when: reply(questionID, reporterReplied().Reply), then: []domain.Event{reporterReplied()}},
		{name: "twice", given: history(questionAsked(), reporterReplied()), when: reply(questionID, "Again."), wantErr: domain.ErrIllegalTransition},
		{name: "an unknown question", given: history(questionAsked()), when: reply(question2ID, "?"), wantErr: domain.ErrUnknownQuestion},
		{name: "blank", given: history(questionAsked()), when: reply(questionID, "\t"), wantFields: []string{"reply"}},
		{name: "everything missing", given: history(questionAsked()), when: domain.ReplyToQuestion{}, wantFields: []string{"at", "reply", "questionId"}},
		{name: "never reported", when: reply(questionID, "x"), wantErr: domain.ErrNotFound},
	})
	s := domain.Fold(history(questionAsked(), reporterReplied()))
	q, ok := s.Question(questionID)
	if !ok || q.Reply != reporterReplied().Reply || !q.Answered() || q.Text != questionAsked().Question {
		t.Errorf("question after reply: %+v %v", q, ok)
	}
	erased := domain.Fold(history(questionAsked(), reporterReplied(), domain.SignalContentErased{SignalID: signalID, ErasedAt: hour(4)}))
	if q := erased.Questions[0]; q.Text != "" || q.Reply != "" {
		t.Errorf("erasure left the dialogue: %+v", q)
	}
	if s.Questions[0].Text == "" {
		t.Error("erasing one state changed another")
	}
}

package httpapi

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/adapters/commands"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections/signaldetail"
)

// An anonymous reporter follows their signal with a receipt code shown
// once, in the answer to the filing. The code is the signal's id (16
// bytes, no secret: it only says where to look) followed by 16 bytes from
// crypto/rand (the secret, 128 bits), in RFC 4648 base32 without padding,
// in groups of four letters and digits. The log keeps only the hex SHA-256
// of the code's canonical form; a code is accepted when its hash matches
// the one the signal was filed with. See docs/LEARNING.md.

const (
	receiptSecretBytes = 16
	receiptBytes       = 16 + receiptSecretBytes
	// receiptChars is the length of the canonical code (52 characters).
	receiptChars = (receiptBytes*8 + 4) / 5
	receiptGroup = 4
)

var receiptEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Audit actors that name no one: an anonymous filing and the holder of a
// receipt code.
const (
	anonymousActor     = "anonymous"
	receiptHolderActor = "receipt-holder"
	receiptHolderRole  = "anonymous_reporter"
)

// newReceipt makes a receipt code for the signal and its hash.
func newReceipt(id uuid.UUID) (code, hash string, err error) {
	raw := make([]byte, receiptBytes)
	copy(raw, id[:])
	if _, err := rand.Read(raw[16:]); err != nil {
		return "", "", fmt.Errorf("receipt: %w", err)
	}
	canonical := receiptEncoding.EncodeToString(raw)
	var b strings.Builder
	for i := 0; i < len(canonical); i += receiptGroup {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(canonical[i:min(i+receiptGroup, len(canonical))])
	}
	return b.String(), receiptHash(canonical), nil
}

func receiptHash(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return hex.EncodeToString(sum[:])
}

// parseReceipt reads a code as a person may type it (any case, with or
// without dashes and spaces) and returns the signal id and the canonical
// code.
func parseReceipt(code string) (uuid.UUID, string, bool) {
	if len(code) > 4*receiptChars {
		return uuid.Nil, "", false
	}
	canonical := strings.ToUpper(strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, code))
	if len(canonical) != receiptChars {
		return uuid.Nil, "", false
	}
	raw, err := receiptEncoding.DecodeString(canonical)
	if err != nil || len(raw) != receiptBytes {
		return uuid.Nil, "", false
	}
	id, err := uuid.FromBytes(raw[:16])
	if err != nil {
		return uuid.Nil, "", false
	}
	// Re-encoding makes the canonical form unique (base32 without padding
	// can carry trailing bits).
	return id, receiptEncoding.EncodeToString(raw), true
}

// receiptRequest is the body of POST /api/v1/receipts/signal.
type receiptRequest struct {
	Receipt string `json:"receipt"`
}

// receiptReplyRequest is the body of POST /api/v1/receipts/replies.
type receiptReplyRequest struct {
	Receipt    string    `json:"receipt"`
	QuestionID uuid.UUID `json:"questionId"`
	Reply      string    `json:"reply"`
}

// receiptView is what the holder of a receipt code sees: the status and
// the dialogue, nothing of the case.
type receiptView struct {
	ID         uuid.UUID      `json:"id"`
	Version    int            `json:"version"`
	Status     string         `json:"status"`
	ReportedAt time.Time      `json:"reportedAt"`
	UpdatedAt  time.Time      `json:"updatedAt"`
	Feedback   []feedbackView `json:"feedback"`
	Questions  []questionView `json:"questions"`
}

type questionView struct {
	ID        uuid.UUID  `json:"id"`
	Question  string     `json:"question"`
	AskedAt   time.Time  `json:"askedAt"`
	Reply     string     `json:"reply,omitempty"`
	RepliedAt *time.Time `json:"repliedAt,omitempty"`
}

func questionViews(qs []domain.Question) []questionView {
	out := make([]questionView, 0, len(qs))
	for _, q := range qs {
		qv := questionView{ID: q.ID, Question: q.Text, AskedAt: q.AskedAt, Reply: q.Reply}
		if q.Answered() {
			at := q.RepliedAt
			qv.RepliedAt = &at
		}
		out = append(out, qv)
	}
	return out
}

// bySignalReceipt finds the signal a receipt code was given for. Unknown
// codes, codes of signals not yet in the read model and codes whose hash
// does not match all answer the same 404.
func (s *Server) bySignalReceipt(r *http.Request, code string) (signaldetail.View, *Problem) {
	notFound := fieldProblem(http.StatusNotFound, "not-found", "Receipt not found", "receipt", "unknown", "no signal has this receipt code; check that it was typed as shown at filing")
	id, canonical, ok := parseReceipt(code)
	if !ok {
		return signaldetail.View{}, fieldProblem(http.StatusUnprocessableEntity, "validation", "Invalid receipt", "receipt", "invalid",
			fmt.Sprintf("a receipt code is %d letters A–Z and digits 2–7, in groups of four", receiptChars))
	}
	v, found, err := s.deps.Signals.Get(r.Context(), id)
	if err != nil {
		return signaldetail.View{}, s.commandProblem(r, err)
	}
	if !found || !v.Anonymous || v.ReceiptHash == "" ||
		subtle.ConstantTimeCompare([]byte(v.ReceiptHash), []byte(receiptHash(canonical))) != 1 {
		return signaldetail.View{}, notFound
	}
	return v, nil
}

// getByReceipt answers POST /api/v1/receipts/signal: the status and the
// dialogue of the signal a receipt code was given for. It is a POST so the
// code travels in the body, never in a URL that proxies log.
func (s *Server) getByReceipt(w http.ResponseWriter, r *http.Request) {
	body, prob := readBody(w, r)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	var req receiptRequest
	if prob := decodeStrict(body, &req); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	v, prob := s.bySignalReceipt(r, req.Receipt)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	if prob := s.recordAs(r, receiptHolderActor, receiptHolderRole, v.Organisation, "signal.receipt.read", v.ID.String()); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	out := receiptView{ID: v.ID, Version: v.Version, Status: string(v.Status), ReportedAt: v.ReportedAt, UpdatedAt: v.UpdatedAt,
		Feedback: make([]feedbackView, 0, len(v.Feedback)), Questions: questionViews(v.Questions)}
	for _, f := range v.Feedback {
		out.Feedback = append(out.Feedback, feedbackView{Message: f.Message, SentAt: f.SentAt})
	}
	writeJSON(w, http.StatusOK, out)
}

// replyByReceipt answers POST /api/v1/receipts/replies: the anonymous
// reporter answers a question. The events carry no actor.
func (s *Server) replyByReceipt(w http.ResponseWriter, r *http.Request) {
	body, prob := readBody(w, r)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	var req receiptReplyRequest
	if prob := decodeStrict(body, &req); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	v, prob := s.bySignalReceipt(r, req.Receipt)
	if prob != nil {
		writeProblem(w, r, prob)
		return
	}
	if prob := s.recordAs(r, receiptHolderActor, receiptHolderRole, v.Organisation, "signal."+domain.CommandReply, v.ID.String()); prob != nil {
		writeProblem(w, r, prob)
		return
	}
	cmd := domain.ReplyToQuestion{QuestionID: req.QuestionID, Reply: req.Reply, At: s.deps.Commands.Now().UTC()}
	res, err := s.deps.Commands.Execute(r.Context(), v.ID, nil, cmd, commands.Meta{CorrelationID: correlationID(r.Context())})
	if err != nil {
		writeProblem(w, r, s.commandProblem(r, err))
		return
	}
	s.waitForReadModel(r.Context(), res.Sequence)
	writeJSON(w, http.StatusOK, map[string]any{"id": res.ID, "version": res.Version})
}

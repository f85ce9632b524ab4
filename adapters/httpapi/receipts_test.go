package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/safesignal/safesignal/adapters/audit"
	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/eventstore"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Sync() error { return nil }

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type receiptAnswer struct {
	ID        string `json:"id"`
	Version   int    `json:"version"`
	Status    string `json:"status"`
	Feedback  []struct{ Message string }
	Questions []struct {
		ID        string `json:"id"`
		Question  string `json:"question"`
		Reply     string `json:"reply"`
		RepliedAt string `json:"repliedAt"`
	} `json:"questions"`
}

var receiptShape = regexp.MustCompile(`^[A-Z2-7]{4}(-[A-Z2-7]{4}){12}$`)

// TestAnonymousFilingLeavesNoIdentity files anonymously through HTTP, then
// reads every raw message of the event log and of the audit trail, and
// every log line, and finds neither the caller's subject nor the hash the
// audit trail would file an actor under.
func TestAnonymousFilingLeavesNoIdentity(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	logger := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), logs, zapcore.DebugLevel))
	h := newHarnessLogging(t, logger)
	const subject = "anna-de-vries-7731"
	body := validBody()
	body["anonymous"] = true
	res := h.do(http.MethodPost, "/api/v1/signals", h.token(reporter(subject, "umc-utrecht")), mustJSON(t, body), map[string]string{"Idempotency-Key": "anon-1"})
	var filed struct {
		ID      string `json:"id"`
		Receipt string `json:"receipt"`
	}
	res.json(t, &filed)
	if res.status != http.StatusCreated || !receiptShape.MatchString(filed.Receipt) {
		t.Fatalf("anonymous filing: %d %s", res.status, res.body)
	}
	// A replay answers with the same signal and no receipt: the code is
	// stored nowhere and cannot be shown again.
	again := h.do(http.MethodPost, "/api/v1/signals", h.token(reporter(subject, "umc-utrecht")), mustJSON(t, body), map[string]string{"Idempotency-Key": "anon-1"})
	if again.status != http.StatusCreated || strings.Contains(string(again.body), "receipt") || !strings.Contains(string(again.body), filed.ID) {
		t.Fatalf("replayed anonymous filing: %d %s", again.status, again.body)
	}
	actorHash := sha256.Sum256([]byte(subject))
	forbidden := []string{subject, hex.EncodeToString(actorHash[:16]), filed.Receipt, strings.ReplaceAll(filed.Receipt, "-", "")}

	ctx := context.Background()
	scan := func(stream string, check func(subject string, data []byte, header map[string][]string)) int {
		t.Helper()
		st, err := h.js.Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
			m, err := st.GetMsg(ctx, seq)
			if err != nil {
				t.Fatalf("%s seq %d: %v", stream, seq, err)
			}
			n++
			raw := m.Subject + string(m.Data)
			for k, vs := range m.Header {
				raw += k + strings.Join(vs, ",")
			}
			for _, f := range forbidden {
				if strings.Contains(raw, f) {
					t.Errorf("%s message %d holds %q: %s", stream, seq, f, raw)
				}
			}
			check(m.Subject, m.Data, m.Header)
		}
		return n
	}
	commits := scan(eventstore.DefaultConfig().Stream, func(subj string, data []byte, header map[string][]string) {
		envs, err := eventstore.DecodeCommit(data, http.Header(header).Get(eventstore.HeaderDigest))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range envs {
			if e.Actor != "" {
				t.Errorf("%s on %s has an actor %q", e.Type, subj, e.Actor)
			}
		}
	})
	if commits != 1 {
		t.Errorf("%d commits in the log, want 1", commits)
	}
	records := scan(audit.Stream, func(_ string, data []byte, _ map[string][]string) {
		if !strings.Contains(string(data), `"actor":"anonymous"`) || strings.Contains(string(data), filed.ID) {
			t.Errorf("audit record of the anonymous filing: %s", data)
		}
	})
	if records != 2 {
		t.Errorf("%d audit records, want one per filing request (2)", records)
	}
	if logs.String() == "" {
		t.Fatal("the logger wrote nothing; the test would not see a leak")
	}
	for _, f := range forbidden {
		if strings.Contains(logs.String(), f) {
			t.Errorf("the logs hold %q:\n%s", f, logs.String())
		}
	}
	// The decoded event has no reporter either, and the hash of the code,
	// not the code.
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	hist := h.do(http.MethodGet, "/api/v1/signals/"+filed.ID+"/history", officer, nil, nil)
	sum := sha256.Sum256([]byte(strings.ReplaceAll(filed.Receipt, "-", "")))
	if hist.status != http.StatusOK || strings.Contains(string(hist.body), subject) || !strings.Contains(string(hist.body), hex.EncodeToString(sum[:])) {
		t.Errorf("history: %d %s", hist.status, hist.body)
	}
}

// TestReceiptDialogue: the safety officer asks, the anonymous reporter
// reads and answers with the receipt code alone, the officer sees the
// answer; a named reporter has the same dialogue in their own list.
func TestReceiptDialogue(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := validBody()
	body["anonymous"] = true
	res := h.do(http.MethodPost, "/api/v1/signals", h.token(reporter("anna", "umc-utrecht")), mustJSON(t, body), nil)
	var filed struct {
		ID      string `json:"id"`
		Receipt string `json:"receipt"`
	}
	res.json(t, &filed)
	if res.status != http.StatusCreated || filed.Receipt == "" {
		t.Fatalf("file: %d %s", res.status, res.body)
	}
	officer := h.token(auth.Principal{Subject: "olga", Role: auth.RoleSafetyOfficer, Organisation: "umc-utrecht"})
	read := func(code string) (response, receiptAnswer) {
		t.Helper()
		r := h.do(http.MethodPost, "/api/v1/receipts/signal", "", mustJSON(t, map[string]string{"receipt": code}), nil)
		var a receiptAnswer
		if r.status == http.StatusOK {
			r.json(t, &a)
		}
		return r, a
	}
	if r, a := read(filed.Receipt); r.status != http.StatusOK || a.ID != filed.ID || a.Status != "reported" || len(a.Questions) != 0 {
		t.Fatalf("read by receipt: %d %s", r.status, r.body)
	}
	// Typed by hand: lower case, spaces instead of dashes.
	if r, _ := read(strings.ToLower(strings.ReplaceAll(filed.Receipt, "-", " "))); r.status != http.StatusOK {
		t.Fatalf("read by a hand-typed receipt: %d %s", r.status, r.body)
	}
	if r := h.do(http.MethodPost, "/api/v1/signals/"+filed.ID+"/feedback", officer, []byte(`{"message":"Thank you, we are looking into it."}`), map[string]string{"If-Match": `"1"`}); r.status != http.StatusOK {
		t.Fatalf("feedback: %d %s", r.status, r.body)
	}
	ask := h.do(http.MethodPost, "/api/v1/signals/"+filed.ID+"/ask", officer, []byte(`{"question":"Which ward was it?"}`), map[string]string{"If-Match": `"2"`})
	var asked struct {
		QuestionID string `json:"questionId"`
	}
	ask.json(t, &asked)
	if ask.status != http.StatusOK || asked.QuestionID == "" {
		t.Fatalf("ask: %d %s", ask.status, ask.body)
	}
	r, a := read(filed.Receipt)
	if r.status != http.StatusOK || len(a.Feedback) != 1 || len(a.Questions) != 1 || a.Questions[0].Question != "Which ward was it?" || a.Questions[0].ID != asked.QuestionID {
		t.Fatalf("dialogue by receipt: %d %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), "description") || strings.Contains(string(r.body), "Tenfold") {
		t.Errorf("the receipt view shows the case: %s", r.body)
	}
	reply := func(code, question, text string) response {
		return h.do(http.MethodPost, "/api/v1/receipts/replies", "", mustJSON(t, map[string]string{"receipt": code, "questionId": question, "reply": text}), nil)
	}
	if r := reply(filed.Receipt, asked.QuestionID, "The recovery ward."); r.status != http.StatusOK {
		t.Fatalf("reply: %d %s", r.status, r.body)
	}
	if r := reply(filed.Receipt, asked.QuestionID, "Again."); r.status != http.StatusConflict {
		t.Errorf("second reply: %d %s", r.status, r.body)
	}
	if r := reply(filed.Receipt, "0193a5f0-0000-7000-8000-0000000000ff", "?"); r.status != http.StatusNotFound || !strings.Contains(string(r.body), `"questionId"`) {
		t.Errorf("reply to an unknown question: %d %s", r.status, r.body)
	}
	detail := h.do(http.MethodGet, "/api/v1/signals/"+filed.ID, officer, nil, nil)
	if detail.status != http.StatusOK || !strings.Contains(string(detail.body), "The recovery ward.") {
		t.Fatalf("the officer does not see the reply: %d %s", detail.status, detail.body)
	}
	hist := h.do(http.MethodGet, "/api/v1/signals/"+filed.ID+"/history", officer, nil, nil)
	var history struct {
		Events []struct {
			Type  string `json:"type"`
			Actor string `json:"actor"`
		} `json:"events"`
	}
	hist.json(t, &history)
	last := history.Events[len(history.Events)-1]
	if last.Type != "ReporterReplied" || last.Actor != "" {
		t.Errorf("last event %+v", last)
	}

	// Codes that do not fit: a wrong secret for the right signal, garbage.
	wrong := []byte(strings.ReplaceAll(filed.Receipt, "-", ""))
	if wrong[len(wrong)-2] == 'A' {
		wrong[len(wrong)-2] = 'B'
	} else {
		wrong[len(wrong)-2] = 'A'
	}
	if r, _ := read(string(wrong)); r.status != http.StatusNotFound || !strings.Contains(string(r.body), `"receipt"`) {
		t.Errorf("wrong secret: %d %s", r.status, r.body)
	}
	for _, bad := range []string{"", "ABCD", strings.Repeat("1", 52), strings.Repeat("A", 1000)} {
		if r, _ := read(bad); r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), `"receipt"`) {
			t.Errorf("receipt %.20q: %d %s", bad, r.status, r.body)
		}
	}
	if r := h.do(http.MethodPost, "/api/v1/receipts/signal", "", []byte(`{"receipt":"x","extra":1}`), nil); r.status != http.StatusBadRequest {
		t.Errorf("unknown field: %d %s", r.status, r.body)
	}

	// A named reporter: the same dialogue in their own list.
	named := h.do(http.MethodPost, "/api/v1/signals", h.token(reporter("alice", "umc-utrecht")), mustJSON(t, validBody()), nil)
	if named.status != http.StatusCreated || strings.Contains(string(named.body), "receipt") {
		t.Fatalf("named filing: %d %s", named.status, named.body)
	}
	id := strings.TrimPrefix(named.header.Get("Location"), "/api/v1/signals/")
	ask = h.do(http.MethodPost, "/api/v1/signals/"+id+"/ask", officer, []byte(`{"question":"Was the pharmacy told?"}`), map[string]string{"If-Match": `"1"`})
	ask.json(t, &asked)
	if ask.status != http.StatusOK {
		t.Fatalf("ask the named reporter: %d %s", ask.status, ask.body)
	}
	mine := h.do(http.MethodGet, "/api/v1/me/signals", h.token(reporter("alice", "umc-utrecht")), nil, nil)
	if mine.status != http.StatusOK || !strings.Contains(string(mine.body), "Was the pharmacy told?") || !strings.Contains(string(mine.body), `"version":2`) {
		t.Fatalf("my signals (with the version to reply with): %d %s", mine.status, mine.body)
	}
	if r := h.do(http.MethodPost, "/api/v1/signals/"+id+"/reply", h.token(reporter("bob", "umc-utrecht")), mustJSON(t, map[string]string{"questionId": asked.QuestionID, "reply": "Not mine."}), map[string]string{"If-Match": `"2"`}); r.status != http.StatusNotFound {
		t.Errorf("another reporter replies: %d %s", r.status, r.body)
	}
	if r := h.do(http.MethodPost, "/api/v1/signals/"+id+"/reply", h.token(reporter("alice", "umc-utrecht")), mustJSON(t, map[string]string{"questionId": asked.QuestionID, "reply": "Yes, the same day."}), map[string]string{"If-Match": `"2"`}); r.status != http.StatusOK {
		t.Fatalf("named reply: %d %s", r.status, r.body)
	}
	if r, _ := read(filed.Receipt); r.status != http.StatusOK {
		t.Errorf("read by receipt: %d", r.status)
	}
}

// TestReceiptRateLimited: guessing codes is limited per client address,
// as failed sign-ins are.
func TestReceiptRateLimited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	code := strings.Repeat("A", 52)
	for i := range 200 {
		r := h.do(http.MethodPost, "/api/v1/receipts/signal", "", mustJSON(t, map[string]string{"receipt": code}), nil)
		if r.status == http.StatusTooManyRequests {
			if r.header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			return
		}
		if r.status != http.StatusNotFound {
			t.Fatalf("guess %d: %d %s", i, r.status, r.body)
		}
	}
	t.Fatal("200 guesses from one address were never limited")
}

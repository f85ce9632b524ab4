package policies

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/safesignal/safesignal/domain/identifiers"
)

// Notification kinds.
const (
	KindEscalated          = "signal.escalated"
	KindRuleEscalated      = "signal.escalated_by_rule"
	KindEscalationReminder = "escalation.reminder"
	KindDeadlineReminder   = "deadline.reminder"
)

// Notification is what receivers get: never the reporter's identity or
// the signal's description, only what was written for them.
type Notification struct {
	// ID is stable for one notification however often it is delivered:
	// receivers drop repeats by it.
	ID           string    `json:"id"`
	Kind         string    `json:"kind"`
	SignalID     uuid.UUID `json:"signalId"`
	Organisation string    `json:"organisation"`
	Region       string    `json:"region"`
	Specialty    string    `json:"specialty"`
	Category     string    `json:"category"`
	Harm         string    `json:"harm"`
	EscalationID string    `json:"escalationId,omitempty"`
	Targets      any       `json:"targets,omitempty"`
	Message      string    `json:"message,omitempty"`
	Summary      string    `json:"summary,omitempty"`
	DueAt        time.Time `json:"dueAt,omitzero"`
	At           time.Time `json:"at"`
}

// Notifier delivers a notification.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// Webhooks delivers to every configured webhook that subscribed to the
// notification's kind. An error makes the router retry; deliveries that
// already succeeded are sent again then, with the same id.
type Webhooks struct {
	hooks  []Webhook
	client *http.Client
	now    func() time.Time
}

// NewWebhooks returns a notifier over hooks.
func NewWebhooks(hooks []Webhook, client *http.Client) *Webhooks {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Webhooks{hooks: hooks, client: client, now: time.Now}
}

// Signature headers.
const (
	HeaderSignature = "Safesignal-Signature"
	HeaderDelivery  = "Safesignal-Delivery"
)

// Sign returns the signature header value of body at time t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Notify implements Notifier.
func (w *Webhooks) Notify(ctx context.Context, n Notification) error {
	// Notifications leave the organisation: personal numbers are masked.
	n.Message, n.Summary = identifiers.Mask(n.Message), identifiers.Mask(n.Summary)
	body, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("notification %s: %w", n.ID, err)
	}
	for _, h := range w.hooks {
		if len(h.Events) > 0 && !slices.Contains(h.Events, n.Kind) {
			continue
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("webhook %s: %w", h.Name, err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderDelivery, n.ID)
		req.Header.Set(HeaderSignature, Sign(h.Secret, w.now(), body))
		resp, err := w.client.Do(req)
		if err != nil {
			return fmt.Errorf("webhook %s: %w", h.Name, err)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return fmt.Errorf("webhook %s answered %d", h.Name, resp.StatusCode)
		}
	}
	return nil
}

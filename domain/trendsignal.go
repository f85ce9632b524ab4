package domain

import (
	"time"

	"github.com/google/uuid"
)

// EventTrendSignalDetected is the type name of TrendSignalDetected.
const EventTrendSignalDetected = "TrendSignalDetected"

// TrendEventTypes lists the event types of trend signals, an aggregate of
// their own beside signals.
func TrendEventTypes() []string { return []string{EventTrendSignalDetected} }

// TrendSignalDetected records that the national statistics crossed a
// rule: a control-chart rule on the weekly counts of a category (or a
// category within a specialty), or a disproportionality of a category in
// a specialty. It holds counts only, never a signal.
type TrendSignalDetected struct {
	// TrendSignalID is derived from Key, so the same detection is one
	// aggregate however often it is appended.
	TrendSignalID uuid.UUID `json:"trendSignalId"`
	// Key is rule, series and the first day of the run or window.
	Key       string    `json:"key"`
	Rule      string    `json:"rule"`
	Category  Category  `json:"category"`
	Specialty Specialty `json:"specialty,omitempty"`
	Direction string    `json:"direction,omitempty"`
	// From and To are the first and last day the rule looked at.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Points are the weekly counts of the run (control-chart rules), with
	// the limits they were held against.
	Points []int   `json:"points,omitempty"`
	Centre float64 `json:"centre,omitempty"`
	Upper  float64 `json:"upper,omitempty"`
	Lower  float64 `json:"lower,omitempty"`
	// A, B, C, D, PRR, ChiSquare and ROR with its interval describe a
	// disproportionality (zero otherwise).
	A         int     `json:"a,omitempty"`
	B         int     `json:"b,omitempty"`
	C         int     `json:"c,omitempty"`
	D         int     `json:"d,omitempty"`
	PRR       float64 `json:"prr,omitempty"`
	ChiSquare float64 `json:"chiSquare,omitempty"`
	ROR       float64 `json:"ror,omitempty"`
	RORLower  float64 `json:"rorLower,omitempty"`
	RORUpper  float64 `json:"rorUpper,omitempty"`
	// PValue is the chance of a hit this strong with nothing changed;
	// the signal passed the false discovery rate among Tested series or
	// cells (zero in events from before the correction).
	PValue     float64   `json:"pValue,omitempty"`
	Tested     int       `json:"tested,omitempty"`
	DetectedAt time.Time `json:"detectedAt"`
}

// EventType implements Event.
func (TrendSignalDetected) EventType() string { return EventTrendSignalDetected }

// TrendSignalID returns the id of the trend signal with a key.
func TrendSignalID(key string) uuid.UUID {
	return uuid.NewSHA1(trendSignalNamespace(), []byte(key))
}

// trendSignalNamespace is the UUIDv5 namespace of trend signal ids.
func trendSignalNamespace() uuid.UUID { return uuid.MustParse("5b3c1a2e-7d4f-5e60-8a9b-0c1d2e3f4a5b") }

package domain_test

import (
	"bufio"
	"errors"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/safesignal/safesignal/domain"
)

// fixture is a history that leaves a signal in a status, ready for every
// command the status allows: the escalation fixture addresses haukeland
// (who acknowledged) and karolinska (who did not).
type fixture struct {
	name   string
	status domain.Status
	events []domain.Event
}

func fixtures() []fixture {
	escalatedAndAcked := []domain.Event{acknowledged(), escalated(), escalationAcknowledged(haukeland())}
	with := func(events ...domain.Event) []domain.Event {
		return history(append(slices.Clone(escalatedAndAcked), events...)...)
	}
	return []fixture{
		{"never reported", domain.StatusNone, nil},
		{"reported", domain.StatusReported, history()},
		{"acknowledged", domain.StatusAcknowledged, with()},
		{"rejected after acknowledgement", domain.StatusRejected, with(rejected())},
		{"rejected unacknowledged", domain.StatusRejected, history(rejected())},
		{"duplicate after acknowledgement", domain.StatusDuplicate, with(markedDuplicate())},
		{"duplicate unacknowledged", domain.StatusDuplicate, history(markedDuplicate())},
		{"closed", domain.StatusClosed, with(closed())},
	}
}

// prepare adds what a command needs beyond the status.
func prepare(f fixture, command string) []domain.Event {
	if command == domain.CommandRecordRegulatorNotification && f.status == domain.StatusAcknowledged {
		return append(slices.Clone(f.events), classifiedReportable(), deadlineSet())
	}
	if command == domain.CommandReply {
		return append(slices.Clone(f.events), questionAsked())
	}
	return f.events
}

// TestTransitionMatrix runs every command on a signal in every status. A
// command the table allows must succeed and lead to a status the table
// names; any other is a TransitionError. Every entry of the table must be
// reached.
func TestTransitionMatrix(t *testing.T) {
	t.Parallel()
	reached := map[domain.Transition]bool{}
	for _, f := range fixtures() {
		state := domain.Fold(f.events)
		if state.Status != f.status {
			t.Fatalf("fixture %s is %q, want %q", f.name, state.Status, f.status)
		}
		for _, name := range domain.CommandNames() {
			given := prepare(f, name)
			events, err := domain.Decide(domain.Fold(given), validCommand(name))
			if !domain.Permitted(name, f.status) {
				var te *domain.TransitionError
				if !errors.As(err, &te) || te.Command != name || te.Status != f.status {
					t.Errorf("%s on %s: want a TransitionError, got %v (events %v)", name, f.name, err, events)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s on %s: %v", name, f.name, err)
				continue
			}
			to := domain.Fold(append(slices.Clone(given), events...)).Status
			tr := domain.Transition{Command: name, From: f.status, To: to}
			if !slices.Contains(domain.Transitions(), tr) {
				t.Errorf("%s on %s led to %q, which the table does not have", name, f.name, to)
			}
			reached[tr] = true
			for _, e := range events {
				if !slices.Contains(domain.EventTypes(), e.EventType()) {
					t.Errorf("%s emitted %s, which EventTypes does not list", name, e.EventType())
				}
			}
		}
	}
	for _, tr := range domain.Transitions() {
		if !reached[tr] {
			t.Errorf("no fixture reaches %+v", tr)
		}
	}
}

func TestCommandAndEventNames(t *testing.T) {
	t.Parallel()
	for _, name := range domain.CommandNames() {
		if got := validCommand(name).CommandName(); got != name {
			t.Errorf("the command for %q names itself %q", name, got)
		}
		if !slices.ContainsFunc(domain.Transitions(), func(tr domain.Transition) bool { return tr.Command == name }) {
			t.Errorf("command %q has no transition", name)
		}
	}
	types := domain.EventTypes()
	slices.Sort(types)
	if len(slices.Compact(types)) != len(domain.EventTypes()) {
		t.Errorf("event types are not unique: %v", domain.EventTypes())
	}
}

func TestTransitionError(t *testing.T) {
	t.Parallel()
	_, err := domain.Decide(domain.Signal{}, domain.AcknowledgeSignal{At: now})
	if !errors.Is(err, domain.ErrIllegalTransition) || !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("never reported: %v", err)
	}
	if got, want := err.Error(), "cannot acknowledge a signal that was never reported"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	_, err = domain.Decide(domain.Fold(history(acknowledged(), closed())), validCommand(domain.CommandEscalate))
	if errors.Is(err, domain.ErrNotFound) || errors.Is(err, domain.ErrNotAddressed) {
		t.Errorf("a plain transition error matches a cause it does not have: %v", err)
	}
	if got, want := err.Error(), "cannot escalate a signal that is closed: allowed only when the signal is acknowledged"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

// TestLifecycleDocMatchesTransitions reads docs/LIFECYCLE.md and checks
// its state diagram, command table and regulation table against the code.
func TestLifecycleDocMatchesTransitions(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../docs/LIFECYCLE.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		diagram    []domain.Transition
		allowed    = map[string][]domain.Status{}
		docEvents  []string
		regulation = map[string]string{}
		inDiagram  bool
		inBlock    bool
	)
	edge := regexp.MustCompile(`^\s*(\S+)\s*-->\s*(\S+)\s*:\s*(.+)$`)
	// Command rows have four columns and a command in the first; rows of
	// the regulation table start with a country code.
	commandRow := regexp.MustCompile("^\\| `[a-z-]+` \\|([^|]*\\|){3}$")
	countryRow := regexp.MustCompile(`^\| [A-Z]{2} \|`)
	ticked := regexp.MustCompile("`([^`]+)`")
	status := func(s string) domain.Status {
		if s == "[*]" {
			return domain.StatusNone
		}
		return domain.Status(s)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```"):
			inBlock = !inBlock
			inDiagram = false
		case inBlock && strings.TrimSpace(line) == "%% lifecycle":
			inDiagram = true
		case inDiagram:
			m := edge.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			label, _, _ := strings.Cut(m[3], "[")
			for _, c := range strings.Split(label, ",") {
				diagram = append(diagram, domain.Transition{Command: strings.TrimSpace(c), From: status(m[1]), To: status(m[2])})
			}
		case commandRow.MatchString(line):
			cols := strings.Split(line, "|")
			cmd := strings.Trim(strings.TrimSpace(cols[1]), "`")
			for _, m := range ticked.FindAllStringSubmatch(cols[2], -1) {
				docEvents = append(docEvents, m[1])
			}
			var from []domain.Status
			for _, m := range ticked.FindAllStringSubmatch(cols[3], -1) {
				from = append(from, domain.Status(m[1]))
			}
			if strings.Contains(cols[3], "(new signal)") {
				from = append(from, domain.StatusNone)
			}
			allowed[cmd] = from
		case countryRow.MatchString(line):
			cols := strings.Split(line, "|")
			regulation[strings.TrimSpace(cols[1])] = line
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	code := domain.Transitions()
	for _, tr := range code {
		if !slices.Contains(diagram, tr) {
			t.Errorf("the diagram lacks %s --> %s: %s", tr.From, tr.To, tr.Command)
		}
	}
	for _, tr := range diagram {
		if !slices.Contains(code, tr) {
			t.Errorf("the diagram has %s --> %s: %s, which the code does not allow", tr.From, tr.To, tr.Command)
		}
	}

	for _, name := range domain.CommandNames() {
		var want []domain.Status
		for _, tr := range code {
			if tr.Command == name && !slices.Contains(want, tr.From) {
				want = append(want, tr.From)
			}
		}
		got, ok := allowed[name]
		slices.Sort(got)
		slices.Sort(want)
		if !ok || !slices.Equal(got, want) {
			t.Errorf("the command table allows %s in %v, the code in %v", name, got, want)
		}
	}
	if len(allowed) != len(domain.CommandNames()) {
		t.Errorf("the command table has %d commands, the code %d", len(allowed), len(domain.CommandNames()))
	}
	slices.Sort(docEvents)
	types := domain.EventTypes()
	slices.Sort(types)
	if !slices.Equal(slices.Compact(docEvents), types) {
		t.Errorf("the command table names events %v, the code has %v", docEvents, types)
	}

	for _, r := range domain.RegulatoryRules() {
		row, ok := regulation[r.Country]
		if !ok {
			t.Errorf("the regulation table has no row for %s", r.Country)
			continue
		}
		cols := strings.Split(row, "|")
		if strings.TrimSpace(cols[2]) != r.Regulator || strings.TrimSpace(cols[3]) != r.Notification || strings.TrimSpace(cols[4]) != strconv.Itoa(r.WorkingDays) {
			t.Errorf("the regulation row %q does not match %+v", row, r)
		}
	}
	if len(regulation) != len(domain.RegulatoryRules()) {
		t.Errorf("the regulation table has %d rows, the code %d rules", len(regulation), len(domain.RegulatoryRules()))
	}
}

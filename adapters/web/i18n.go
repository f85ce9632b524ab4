package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/safesignal/safesignal/adapters/auth"
	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/domain/identifiers"
	"golang.org/x/text/language"
)

//go:embed i18n/*.json
var i18nFS embed.FS

// Languages of the interface, in the order of the switcher; the first is
// the fallback.
var Languages = []string{"en", "nl", "nb", "nn", "sv", "da"}

// catalogue is one language's messages.
type catalogue struct {
	lang string
	msgs map[string]string
}

var catalogues = loadCatalogues()

var matcher = language.NewMatcher([]language.Tag{
	language.English, language.Dutch, language.MustParse("nb"), language.MustParse("nn"), language.Swedish, language.Danish,
})

func loadCatalogues() map[string]*catalogue {
	out := map[string]*catalogue{}
	for _, l := range Languages {
		b, err := i18nFS.ReadFile("i18n/" + l + ".json")
		if err != nil {
			panic(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			panic(fmt.Sprintf("i18n/%s.json: %v", l, err))
		}
		out[l] = &catalogue{lang: l, msgs: m}
	}
	return out
}

// T returns the message of key; a missing key shows as the key itself
// (which the tests look for).
func (c *catalogue) T(key string) string {
	if m, ok := c.msgs[key]; ok {
		return m
	}
	return key
}

func (c *catalogue) has(key string) bool { _, ok := c.msgs[key]; return ok }

// F returns the message of key with {0}, {1}, ... replaced by args.
func (c *catalogue) F(key string, args ...any) string {
	m := c.T(key)
	for i, a := range args {
		m = strings.ReplaceAll(m, fmt.Sprintf("{%d}", i), fmt.Sprint(a))
	}
	return m
}

// chooseLanguage takes the language cookie, then Accept-Language.
func chooseLanguage(r *http.Request) *catalogue {
	if c, err := r.Cookie(langCookie); err == nil {
		if cat, ok := catalogues[c.Value]; ok {
			return cat
		}
	}
	accept := r.Header.Get("Accept-Language")
	// Plain "no" (Norwegian) means Bokmål for most readers.
	accept = strings.ReplaceAll(accept, "no-", "nb-")
	if strings.HasPrefix(accept, "no") || strings.Contains(accept, ",no") {
		accept = strings.Replace(accept, "no", "nb", 1)
	}
	tags, _, _ := language.ParseAcceptLanguage(accept)
	_, idx, conf := matcher.Match(tags...)
	if conf == language.No {
		return catalogues["en"]
	}
	return catalogues[Languages[idx]]
}

// TermKeys lists the catalogue keys of every taxonomy term the pages show,
// for the tests.
func TermKeys() []string {
	var out []string
	add := func(group string, codes ...string) {
		for _, c := range codes {
			out = append(out, group+"."+c)
		}
	}
	for _, k := range domain.Kinds() {
		add("kind", string(k), string(k)+".help")
	}
	for _, c := range domain.Categories() {
		add("category", string(c))
	}
	for _, h := range domain.Harms() {
		add("harm", string(h), string(h)+".help")
	}
	for _, s := range domain.Specialties() {
		add("specialty", string(s))
	}
	for _, s := range domain.Statuses() {
		add("status", string(s))
	}
	for _, f := range domain.ContributingFactors() {
		add("factor", string(f))
	}
	for _, r := range domain.RejectionReasons() {
		add("reason", string(r))
	}
	for _, o := range domain.CloseOutcomes() {
		add("outcome", string(o))
	}
	for _, r := range domain.EscalationResponses() {
		add("response", string(r))
	}
	for _, s := range []domain.EscalationState{domain.EscalationStateOpen, domain.EscalationStateAcknowledged, domain.EscalationStateResponded} {
		add("escstate", string(s))
	}
	for _, e := range []string{domain.EventSignalReported, domain.EventSignalAcknowledged, domain.EventSignalClassified, domain.EventRegulatoryDeadlineSet,
		domain.EventSignalRejected, domain.EventSignalMarkedDuplicate, domain.EventSignalEscalated, domain.EventEscalationAcknowledged,
		domain.EventEscalationResponded, domain.EventFeedbackSent, domain.EventSignalClosed, domain.EventSignalReopened, domain.EventRegulatorNotified,
		domain.EventSignalContentErased, domain.EventReporterIdentityErased, domain.EventQuestionAsked, domain.EventReporterReplied} {
		add("event", e)
	}
	add("lessonkind", domain.LessonFromSignal, domain.LessonGoodPractice)
	add("peersource", domain.PeerSupportAtFiling, domain.PeerSupportDirect)
	for _, r := range auth.Roles() {
		add("role", string(r))
	}
	for _, l := range domain.Languages() {
		add("lang", string(l))
	}
	for _, k := range identifiers.Kinds() {
		add("pin", string(k))
	}
	for _, cmd := range []string{domain.CommandAcknowledge, domain.CommandClassify, domain.CommandReject, domain.CommandLinkDuplicate, domain.CommandEscalate,
		domain.CommandAcknowledgeEscalation, domain.CommandRespondEscalation, domain.CommandFeedback, domain.CommandClose, domain.CommandReopen, domain.CommandRecordRegulatorNotification,
		domain.CommandAsk, domain.CommandReply, domain.CommandPublishLesson, domain.CommandTranslateLesson, domain.CommandMarkLessonApplied,
		domain.CommandRequestPeerSupport, domain.CommandAcknowledgePeerSupport} {
		add("cmd", cmd)
	}
	return out
}

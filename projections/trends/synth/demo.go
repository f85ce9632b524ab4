package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/safesignal/safesignal/domain"
)

// DemoOptions shape the demonstration data set of `safesignal seed`.
type DemoOptions struct {
	Seed uint64
	// End is the last day; the data covers Weeks weeks before it.
	End   time.Time
	Weeks int
	// PerOrgWeek is the mean number of signals per organisation and week.
	PerOrgWeek float64
	// Rise is the category that rises fourfold in the last RiseWeeks
	// weeks, for detection to find.
	Rise      domain.Category
	RiseWeeks int
}

// DemoOrganisation is an organisation of the demonstration network.
type DemoOrganisation struct{ ID, Region string }

// DemoOrganisations are the synthetic hospitals, two or three per
// country, named demo-* so they are never taken for real ones.
func DemoOrganisations() []DemoOrganisation {
	return []DemoOrganisation{
		{"demo-utrecht", "NL-UT"}, {"demo-amsterdam", "NL-NH"}, {"demo-rotterdam", "NL-ZH"},
		{"demo-bergen", "NO-46"}, {"demo-oslo", "NO-03"},
		{"demo-stockholm", "SE-AB"}, {"demo-goteborg", "SE-O"},
		{"demo-kobenhavn", "DK-84"}, {"demo-aarhus", "DK-82"},
	}
}

// categoryWeights are rough shares of incident types in hospital
// reporting systems: medication and clinical process lead.
var categoryWeights = map[domain.Category]float64{
	domain.CategoryMedication: 24, domain.CategoryClinicalProcess: 18, domain.CategoryPatientAccident: 12,
	domain.CategoryClinicalAdministration: 9, domain.CategoryDocumentation: 8, domain.CategoryMedicalDevice: 7,
	domain.CategoryBehaviour: 5, domain.CategoryInfrastructure: 4, domain.CategoryResourcesManagement: 4,
	domain.CategoryHealthcareAssociatedInfection: 4, domain.CategoryBlood: 2, domain.CategoryNutrition: 2,
	domain.CategoryOxygenGas: 1,
}

// Demo files a year of signals across the demonstration network: a
// winter peak, weekday filing, reclassifications, rejections, duplicates
// and closures, and a planted rise of one category in the last weeks.
func (l *Log) Demo(o DemoOptions) error {
	if o.Weeks <= 0 {
		o.Weeks = 52
	}
	if o.PerOrgWeek <= 0 {
		o.PerOrgWeek = 6
	}
	if o.Rise == "" {
		o.Rise = domain.CategoryMedicalDevice
	}
	if o.RiseWeeks <= 0 {
		o.RiseWeeks = 8
	}
	if o.End.IsZero() {
		o.End = time.Now().UTC()
	}
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x5851f42d4c957f2d))
	cats := domain.Categories()
	var total float64
	for _, c := range cats {
		total += categoryWeights[c]
	}
	pick := func() domain.Category {
		x := r.Float64() * total
		for _, c := range cats {
			if x -= categoryWeights[c]; x < 0 {
				return c
			}
		}
		return cats[0]
	}
	specialties := domain.Specialties()
	kinds := domain.Kinds()
	start := o.End.AddDate(0, 0, -7*o.Weeks)
	for w := range o.Weeks {
		weekStart := start.AddDate(0, 0, 7*w)
		season := 1 + 0.3*math.Cos(2*math.Pi*float64(weekStart.YearDay())/365) // winter peak
		for _, org := range DemoOrganisations() {
			n := poisson(r, o.PerOrgWeek*season)
			for range n {
				cat := pick()
				reported := weekStart.Add(time.Duration(r.IntN(5*24)) * time.Hour).Add(time.Duration(r.IntN(3600)) * time.Second)
				if !reported.Before(o.End) {
					continue
				}
				if err := l.demoSignal(r, org, specialties, kinds, cat, reported); err != nil {
					return err
				}
			}
			if w >= o.Weeks-o.RiseWeeks {
				// The planted rise: three times the usual count again.
				for range poisson(r, 3*o.PerOrgWeek*season*categoryWeights[o.Rise]/total) {
					reported := weekStart.Add(time.Duration(r.IntN(5*24)) * time.Hour)
					if !reported.Before(o.End) {
						continue
					}
					if err := l.demoSignal(r, org, specialties, kinds, o.Rise, reported); err != nil {
						return err
					}
				}
			}
		}
	}
	// Triage: most are acknowledged; some reclassified, rejected, linked
	// as duplicates, closed.
	ids := l.ids
	for i, id := range ids {
		s := l.state[id]
		at := s.ReportedAt.Add(time.Duration(2+r.IntN(70)) * time.Hour)
		if !at.Before(o.End) {
			continue
		}
		var err error
		switch x := r.Float64(); {
		case x < 0.03:
			err = l.Reject(id, at)
		case x < 0.05 && i > 0:
			err = l.Duplicate(id, ids[i-1], at)
		case x < 0.13:
			err = l.Classify(id, s.Kind, pick(), s.Harm, at)
		case x < 0.60:
			err = l.Close(id, at)
		case x < 0.85:
			err = l.Acknowledge(id, at)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (l *Log) demoSignal(r *rand.Rand, org DemoOrganisation, specialties []domain.Specialty, kinds []domain.Kind, cat domain.Category, reported time.Time) error {
	kind := kinds[r.IntN(len(kinds))]
	harm := domain.HarmNone
	if kind == domain.KindHarmfulIncident {
		harm = []domain.Harm{domain.HarmMild, domain.HarmMild, domain.HarmMild, domain.HarmModerate, domain.HarmModerate, domain.HarmSevere}[r.IntN(6)]
	}
	_, err := l.Report(Filing{
		Organisation: org.ID, Region: org.Region, Specialty: specialties[r.IntN(len(specialties))],
		Kind: kind, Category: cat, Harm: harm, ReportedAt: reported,
		OccurredAt:  reported.Add(-time.Duration(r.IntN(48)) * time.Hour),
		Description: fmt.Sprintf("Synthetic demonstration signal (%s, %s); not a real event.", cat, kind),
	})
	return err
}

// poisson draws from a Poisson distribution of mean lambda (Knuth).
func poisson(r *rand.Rand, lambda float64) int {
	limit, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= r.Float64()
		if p <= limit {
			return k
		}
		k++
	}
}

package synth_test

import (
	"context"
	"testing"
	"time"

	"github.com/safesignal/safesignal/domain"
	"github.com/safesignal/safesignal/projections/trends/detect"
	"github.com/safesignal/safesignal/projections/trends/synth"
)

// TestDemoRiseIsDetected checks, for several end dates and seeds, that
// the demonstration data's planted rise is raised by a control-chart rule
// on its category, whatever day `safesignal seed` runs.
func TestDemoRiseIsDetected(t *testing.T) {
	t.Parallel()
	for seed := range uint64(8) {
		for day := range 7 {
			end := time.Date(2026, 11, 16+day, 9, 0, 0, 0, time.UTC)
			l := synth.New()
			if err := l.Demo(synth.DemoOptions{Seed: seed + 1, End: end}); err != nil {
				t.Fatal(err)
			}
			d := detect.New(detect.Options{})
			if err := d.Apply(context.Background(), l.Events(), l.Last()); err != nil {
				t.Fatal(err)
			}
			signals, err := d.Signals(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, s := range signals {
				if s.Series.Category == domain.CategoryMedicalDevice && s.Series.Specialty == "" && s.Limits != nil && s.Dir == "up" &&
					s.To.After(end.AddDate(0, 0, -7*9)) && len(s.Points) > 0 {
					found = true
				}
			}
			if !found {
				t.Errorf("seed %d, end %s: the planted rise of medical_device was not raised (%d signals)", seed+1, end.Format("2006-01-02"), len(signals))
			}
		}
	}
}

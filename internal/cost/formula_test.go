package cost

import (
	"errors"
	"testing"
)

func TestFormula(t *testing.T) {
	for _, tc := range []struct {
		name    string
		hours   float64
		price   Rate
		servers int
		scalar  float64
		want    float64
	}{
		{"seed top min, per server", 8, 0.270, 4, 3, 25.92},
		{"seed top max, per server", 8, 0.270, 4, 5, 43.20},
		{"seed top min, as the seed writes it", 8, 1.08, 4, 3, 103.68},
		{"seed top max, as the seed writes it", 8, 1.08, 4, 5, 172.80},
		{"seed development, as the seed writes it", 16, 0.224, 4, 3, 43.008},
		{"seed development, per server", 16, 0.056, 4, 3, 10.752},
		{"online, database pausing on", 10, 0.056, 1, 1.2, 0.672},
		{"offline", 100, 4.18, 16, 0, 0},
		{"no hours", 0, 1.63, 1, 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Formula(tc.hours, tc.price, tc.servers, tc.scalar); !near(float64(got), tc.want, 1e-9) {
				t.Errorf("Formula = %v, want %v", float64(got), tc.want)
			}
		})
	}
}

func TestStates(t *testing.T) {
	want := map[string][2]float64{"top-active": {5, 5}, "average": {4, 4}, "active": {2, 3},
		"online-idle": {2, 2}, "online-paused": {1.2, 1.2}, "offline": {0, 0}}
	got := States()
	if len(got) != len(want) {
		t.Fatalf("%d states, want %d", len(got), len(want))
	}
	for _, s := range got {
		if w, ok := want[s.Name]; !ok || s.Low != w[0] || s.High != w[1] || s.Description == "" {
			t.Errorf("state %+v, want %v", s, w)
		}
	}
}

func TestParseScalar(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		err  error
	}{
		{"3", 3, nil},
		{"1.2", 1.2, nil},
		{"5x", 5, nil},
		{"offline", 0, nil},
		{"online-paused", 1.2, nil},
		{"online-idle", 2, nil},
		{"active", 3, nil}, // a range means its upper end, as the seed's example does
		{"top-active", 5, nil},
		{"-1", 0, ErrOutOfRange},
		{"NaN", 0, ErrOutOfRange},
		{"lots", 0, ErrUnknownState},
	} {
		got, err := ParseScalar("state-scalar", tc.in)
		if !errors.Is(err, tc.err) || (tc.err == nil && got != tc.want) {
			t.Errorf("ParseScalar(%q) = %v, %v; want %v, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseScalars(t *testing.T) {
	seed := SeedScalars()
	if seed != (Scalars{TopMin: 3, TopMax: 5, Setup: 3, Off: 0}) {
		t.Fatalf("seed scalars %+v", seed)
	}
	for _, tc := range []struct {
		in   string
		want Scalars
		err  error
	}{
		{"", seed, nil},
		{"off=online-paused", Scalars{3, 5, 3, 1.2}, nil},
		{"top-min=2, top-max=4,setup=2,off=2", Scalars{2, 4, 2, 2}, nil},
		{"peak=5", seed, ErrUnknownState},
		{"off", seed, ErrUnknownState},
		{"off=-2", seed, ErrOutOfRange},
	} {
		got, err := ParseScalars(seed, tc.in)
		if !errors.Is(err, tc.err) || (tc.err == nil && got != tc.want) {
			t.Errorf("ParseScalars(%q) = %+v, %v; want %+v, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

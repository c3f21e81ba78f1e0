package cost

import "fmt"

// Example is the seed's worked example ("EXAMPLE COST ESTIMATE"), kept so operators who have read the seed can see
// where toncon's figures differ from it and why.
type Example struct {
	Plan Plan `json:"plan"`
	// Printed is what the seed prints. It rounds development to $43 before adding it to the totals, and its upper
	// total, $216.80, is a slip for $172.80 + $43 = $215.80.
	Printed Figures `json:"printed"`
	// Seed is the seed's method, computed: the 2×2 chart's all-server prices × 4 servers again.
	Seed Figures `json:"seed"`
	// Correct is the one-server price × 4 servers, which is what THE FORMULA means and what toncon cost prints.
	Correct     Figures `json:"correct"`
	Explanation string  `json:"explanation"`
}

// SeedExamplePlan is the seed's event: 500 people for 4 hours on 2 days on Enterprise 2×2 c5.xlarge, 16 hours of
// development on t3.medium, offline in between, scalars 3× to 5× at the top and 3× for development. The seed calls
// c5.xlarge "sufficient", which the chart bears out only for mostly inactive avatars (800; 480 active), so the
// plan says inactive.
func SeedExamplePlan() Plan {
	p := DefaultPlan()
	p.CCU, p.Activity = 500, Inactive
	p.HoursPerDay, p.Days = 4, 2
	p.SetupHours = 16
	p.Topology, p.Server = "2x2", "c5.xlarge"
	return p
}

// SeedExample works the seed's example both ways and explains the difference.
func SeedExample() Example {
	res, err := Estimate(SeedExamplePlan())
	if err != nil {
		panic("cost: the seed's example no longer fits the charts: " + err.Error()) // the data is constant
	}
	ex := Example{
		Plan:    res.Plan,
		Printed: Figures{TopMin: 103.68, TopMax: 172.80, Setup: 43, Off: 0, Base: 43, TotalMin: 146.68, TotalMax: 216.80},
		Seed:    res.SeedMethod.Figures,
		Correct: res.Figures,
	}
	c, s := ex.Correct, ex.Seed
	ex.Explanation = fmt.Sprintf(
		"The seed prices 500 people for 4 h on 2 days on Enterprise 2×2 c5.xlarge as "+
			"(4 h × 2 days) × $1.08 × 4 servers × 3–5 = $103.68–$172.80. But $1.08/h is the 4-server chart's price, "+
			"already all four servers (4 × $0.270), so multiplying by 4 servers again counts the servers twice. "+
			"With one server's price, top capacity is (4 h × 2 days) × $0.270 × 4 × 3–5 = %s–%s. "+
			"Its development line does the same: $0.224/h is the 4-server chart's t3.medium (4 × $0.056), so "+
			"16 h × $0.224 × 4 × 3 = %s becomes 16 h × $0.056 × 4 × 3 = %s. "+
			"The seed's total is $146.68–$216.80: it rounds development to $43 before adding, and its upper figure "+
			"has an addition slip besides ($172.80 + $43 = $215.80); its method, unrounded, gives %s–%s. "+
			"With one server's price the total is %s–%s. "+
			"toncon cost prints the second figures and shows the seed's method beside them for multi-server layouts. "+
			"Note too that for 500 people with active avatars the chart's 2×2 c5.xlarge holds only 480; "+
			"it is sufficient for mostly inactive ones (800).",
		c.TopMin, c.TopMax, s.Setup, c.Setup, s.TotalMin, s.TotalMax, c.TotalMin, c.TotalMax)
	return ex
}

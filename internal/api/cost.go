package api

import (
	"net/http"

	"toncon/internal/cost"
)

// The planner behind the /cost page: the same model as `toncon cost`, so the page and the command agree.

type chartsResponse struct {
	Formula        string       `json:"formula"`
	Charts         []cost.Chart `json:"charts"`
	States         []cost.State `json:"states"`
	Scalars        cost.Scalars `json:"seed_scalars"`
	Measured       bool         `json:"measured"` // the server has a capacity file from toncon loadtest
	CapacitySource string       `json:"capacity_source,omitempty"`
	SeedExample    cost.Example `json:"seed_example"`
}

func (a *API) costCharts(w http.ResponseWriter, r *http.Request) {
	capacity := a.cfg.Capacity
	if r.URL.Query().Get("measured") != "true" {
		capacity = nil
	}
	res := chartsResponse{Formula: cost.FormulaText, Charts: cost.Charts(capacity), States: cost.States(),
		Scalars: cost.SeedScalars(), Measured: a.cfg.Capacity != nil, SeedExample: cost.SeedExample()}
	if a.cfg.Capacity != nil {
		res.CapacitySource = a.cfg.Capacity.Source()
	}
	writeJSON(w, http.StatusOK, res)
}

// costEstimate takes a plan (any fields left out keep toncon's defaults) and returns the estimate.
func (a *API) costEstimate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		cost.Plan
		Measured bool `json:"measured"`
	}
	req.Plan = cost.DefaultPlan()
	if !decodeBody(w, r, &req) {
		return
	}
	p := req.Plan
	p.Capacity = nil // a client cannot supply capacity figures; only the server's own file counts
	if req.Measured {
		if a.cfg.Capacity == nil {
			writeError(w, http.StatusUnprocessableEntity, "invalid_plan", "this server has no measured capacity; start it with --capacity FILE from toncon loadtest capacity")
			return
		}
		p.Capacity = a.cfg.Capacity
	}
	res, err := cost.Estimate(p)
	if err != nil { // every planner error is about the input, and its message says what to change
		writeError(w, http.StatusUnprocessableEntity, "invalid_plan", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, res)
}

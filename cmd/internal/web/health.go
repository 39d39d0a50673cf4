package web

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"
)

// health is the /healthz answer.
type health struct {
	// Status is "ok" or "unhealthy".
	Status string `json:"status"`
	// SnapshotAgeMS is the wall-clock time since a shard's snapshot time
	// last moved forward; null before the first snapshot.
	SnapshotAgeMS *int64 `json:"snapshot_age_ms"`
	// Time is the newest snapshot time.
	Time       string                    `json:"time,omitempty"`
	Shards     int                       `json:"shards"`
	LiveShards int                       `json:"live_shards"`
	Names      int                       `json:"names"`
	Overflow   uint64                    `json:"overflow"`
	Streams    int                       `json:"streams"`
	Errors     []string                  `json:"errors,omitempty"`
	Checks     map[string]map[string]any `json:"checks,omitempty"`

	// Unauthorized counts requests answered 401 (Config.Auth).
	Unauthorized uint64 `json:"unauthorized"`
	// Rejected counts snapshots refused (HistoryStats.Rejected): no
	// shard, a shard out of range, a zero time or one too far ahead.
	Rejected uint64 `json:"rejected"`
}

// healthz serves GET /healthz: 200 when the newest snapshot is younger
// than MaxAge and every check passes, else 503, with
//
//	{"status":"ok","snapshot_age_ms":412,"time":"2026-11-24T10:00:01Z","shards":2,
//	 "live_shards":2,"names":150,"overflow":0,"streams":1,"checks":{"bus":{...}},
//	 "unauthorized":0,"rejected":0}
//
// and "errors":[...] saying what is wrong when it is not.
func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	st := s.h.Stats()
	now := s.h.now()
	out := health{
		Status:     "ok",
		Shards:     st.Shards,
		LiveShards: st.LiveShards,
		Names:      st.Names,
		Overflow:   st.Overflow,
		Streams:    len(s.streams),
	}
	out.Unauthorized, out.Rejected = s.unauthorized.Load(), st.Rejected
	if st.Shards == 0 {
		out.Errors = append(out.Errors, "no snapshot yet")
	} else {
		age := now.Sub(st.Advanced)
		ms := age.Milliseconds()
		out.SnapshotAgeMS = &ms
		out.Time = st.Time.Format(time.RFC3339Nano)
		if age >= s.cfg.MaxAge {
			out.Errors = append(out.Errors, fmt.Sprintf("newest snapshot is %v old, over %v", age.Round(time.Millisecond), s.cfg.MaxAge))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.cfg.Health)) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.HealthTimeout)
		fields, err := s.cfg.Health[name](ctx)
		cancel()
		c := make(map[string]any, len(fields)+1)
		maps.Copy(c, fields)
		if err != nil {
			c["error"] = err.Error()
			out.Errors = append(out.Errors, name+": "+err.Error())
		}
		if out.Checks == nil {
			out.Checks = make(map[string]map[string]any)
		}
		out.Checks[name] = c
	}
	status := http.StatusOK
	if len(out.Errors) > 0 {
		out.Status, status = "unhealthy", http.StatusServiceUnavailable
	}
	b, err := json.Marshal(out)
	if err != nil { // a check's fields that do not encode
		out.Checks = nil
		out.Status, status = "unhealthy", http.StatusServiceUnavailable
		out.Errors = append(out.Errors, "checks: "+err.Error())
		b, _ = json.Marshal(out)
	}
	writeJSON(w, status, append(b, '\n'))
}

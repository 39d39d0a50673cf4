package window

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/pulsehq/pulse/stat"
)

// Snapshot is the merged view at a time: every stat's value as its
// definition reports it. Its JSON form, written and read only here, is
//
//	{"time":"2026-11-24T10:00:01Z","stats":{"router.requests":412.5,...}}
//
// with the time in RFC 3339 UTC and the stats in name order.
type Snapshot struct {
	Time  time.Time
	Stats map[string]stat.Value
}

// AppendJSON appends the snapshot's JSON form to dst.
func (s Snapshot) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"time":"`...)
	dst = s.Time.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","stats":{`...)
	names := make([]string, 0, len(s.Stats))
	for n := range s.Stats {
		names = append(names, n)
	}
	slices.Sort(names)
	for i, n := range names {
		if i > 0 {
			dst = append(dst, ',')
		}
		k, _ := json.Marshal(n)
		dst = append(dst, k...)
		dst = append(dst, ':')
		dst = s.Stats[n].AppendJSON(dst)
	}
	return append(dst, "}}"...)
}

// MarshalJSON returns the snapshot's JSON form.
func (s Snapshot) MarshalJSON() ([]byte, error) { return s.AppendJSON(nil), nil }

// MaxSnapshotJSON is the largest snapshot UnmarshalJSON reads: 16 MiB.
const MaxSnapshotJSON = 16 << 20

// UnmarshalJSON reads the form MarshalJSON writes. Input over
// MaxSnapshotJSON, unknown keys or a missing time are errors.
func (s *Snapshot) UnmarshalJSON(b []byte) error {
	if len(b) > MaxSnapshotJSON {
		return fmt.Errorf("window: snapshot: %d bytes exceed %d", len(b), MaxSnapshotJSON)
	}
	var raw struct {
		Time  *time.Time                 `json:"time"`
		Stats map[string]json.RawMessage `json:"stats"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&raw); err != nil {
		return fmt.Errorf("window: snapshot: %w", err)
	}
	if raw.Time == nil {
		return fmt.Errorf("window: snapshot: no time")
	}
	out := Snapshot{Time: raw.Time.UTC(), Stats: make(map[string]stat.Value, len(raw.Stats))}
	for n, r := range raw.Stats {
		var v stat.Value
		if err := v.UnmarshalJSON(r); err != nil {
			return fmt.Errorf("window: snapshot: stat %q: %w", n, err)
		}
		out.Stats[n] = v
	}
	*s = out
	return nil
}

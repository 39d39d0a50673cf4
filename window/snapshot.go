package window

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/pulsehq/pulse/internal/jsonstr"
	"github.com/pulsehq/pulse/stat"
)

// Snapshot is the merged view at a time: every stat's value as its
// definition reports it. Its JSON form, written and read only here, is
//
//	{"time":"2026-11-24T10:00:01Z","stats":{"router.requests":412.5,...}}
//
// with the time in RFC 3339 UTC and the stats in name order, each in the
// JSON form of stat.Value (see the package documentation, section
// Snapshots).
//
// Read one stat with Value, Number, Quantile or TopKey, and compare two
// snapshots within each stat's bound with Set.Diff.
type Snapshot struct {
	Time  time.Time
	Stats map[string]stat.Value
}

// Value returns the value of the stat named name, and false when the
// snapshot has no such stat.
func (s Snapshot) Value(name string) (stat.Value, bool) {
	v, ok := s.Stats[name]
	return v, ok
}

// Number returns the number the stat named name reports, and true; or 0
// and false when the snapshot has no such stat or its value is not a
// number (null, quantiles or a top-k list).
func (s Snapshot) Number(name string) (float64, bool) { return s.Stats[name].Number() }

// Quantile returns the value at quantile q of the quantiles stat named
// name, and true; or 0 and false when the snapshot has no such stat or
// the stat does not report q (see stat.Value.Quantile).
func (s Snapshot) Quantile(name string, q float64) (float64, bool) {
	return s.Stats[name].Quantile(q)
}

// TopKey returns the value of key in the top-k stat named name, and
// true; or 0 and false when the snapshot has no such stat or its list
// does not show key (see stat.Value.TopKey).
func (s Snapshot) TopKey(name, key string) (float64, bool) { return s.Stats[name].TopKey(key) }

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
		dst = jsonstr.Append(dst, n)
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

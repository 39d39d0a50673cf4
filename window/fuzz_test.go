package window

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/stat"
)

// FuzzSnapshotJSON decodes arbitrary bytes as a snapshot, as a web process
// reads them from the bus: an error or a snapshot whose JSON is a fixed
// point of marshal and unmarshal, never a panic.
func FuzzSnapshotJSON(f *testing.F) {
	snap := Snapshot{Time: time.Date(2026, 3, 14, 17, 2, 0, 0, time.UTC), Stats: map[string]stat.Value{
		"n":   stat.Number(12.5),
		"nil": stat.Null(),
		"q":   stat.QuantilesValue([]stat.Quantile{{Q: 0.5, Value: 18}, {Q: 0.999, Value: 412}}),
		"top": stat.TopValue([]stat.TopValueEntry{{Key: "a", Value: 4.5}, {Key: "b\u00ff", Value: 1}}),
		"est": stat.TopValueBound([]stat.TopValueEntry{{Key: "a", Value: 4.5}}, 0.5),
	}}
	b, _ := json.Marshal(snap)
	f.Add(b)
	f.Add([]byte(`{"time":"2026-03-14T17:02:00Z","stats":{}}`))
	f.Add([]byte(`{"time":"x","stats":{"a":[[1,2]]}}`))
	f.Add([]byte(`{"stats":{"a":{"p50":1}}}`))
	f.Add([]byte(strings.Repeat("[", 100)))
	f.Add([]byte(`{"time":"2026-03-14T17:02:00Z","stats":{"a":{"top":[["k",1]],"bound":0}}}`))
	f.Add([]byte(`{"time":"2026-03-14T17:02:00Z","stats":{"a":{"top":[],"bound":1e308,"p50":1}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Snapshot
		if err := json.Unmarshal(data, &s); err != nil {
			return
		}
		b1, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var s2 Snapshot
		if err := json.Unmarshal(b1, &s2); err != nil {
			t.Fatalf("re-decode of %s: %v", b1, err)
		}
		b2, _ := json.Marshal(s2)
		if string(b1) != string(b2) {
			t.Fatalf("not a fixed point:\n%s\n%s", b1, b2)
		}
	})
}

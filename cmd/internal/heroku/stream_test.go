package heroku_test

import (
	"crypto/tls"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/redistest"
	"github.com/pulsehq/pulse/fragment"
	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
)

// batches reads every batch on shard 0's stream (pulse:received:0) of s,
// as a merger would, decoded.
func batches(t testing.TB, s *redistest.Server) ([]fragment.Batch, [][]byte) {
	t.Helper()
	opt, err := redis.ParseURL(s.URL())
	require.NoError(t, err)
	if opt.TLSConfig != nil {
		opt.TLSConfig = &tls.Config{InsecureSkipVerify: true} // the test's own server
	}
	c := redis.NewClient(opt)
	defer c.Close()
	xs, err := c.XRange(t.Context(), "pulse:received:0", "-", "+").Result()
	require.NoError(t, err)
	var out []fragment.Batch
	var raw [][]byte
	for _, x := range xs {
		b := []byte(x.Values["b"].(string))
		var batch fragment.Batch
		require.NoError(t, batch.UnmarshalBinary(b), "entry %s", x.ID)
		out = append(out, batch)
		raw = append(raw, b)
	}
	return out, raw
}

// events sums the receivers' own count of events folded (pulse.events)
// over the batches.
func events(t testing.TB, bs []fragment.Batch) uint64 {
	t.Helper()
	var n uint64
	for _, b := range bs {
		for _, f := range b.Fragments {
			if f.Name != window.StatEvents {
				continue
			}
			d, err := f.Delta()
			require.NoError(t, err)
			n += d.Stat.(*stat.Count).Count()
		}
	}
	return n
}

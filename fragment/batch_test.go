package fragment

import (
	"bytes"
	"encoding/binary"
	"flag"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/batch-v1.bin")

const goldenPath = "testdata/batch-v1.bin"

func encode(t testing.TB, b *Batch) []byte {
	t.Helper()
	data, err := b.MarshalBinary()
	require.NoError(t, err)
	return data
}

func decode(t testing.TB, data []byte) Batch {
	t.Helper()
	var b Batch
	require.NoError(t, b.UnmarshalBinary(data))
	return b
}

// assertSameBatch compares batches field by field, times with Equal.
func assertSameBatch(t *testing.T, want, got Batch) {
	t.Helper()
	assert.Equal(t, want.Source, got.Source)
	assert.Equal(t, want.Seq, got.Seq)
	assert.True(t, want.Time.Equal(got.Time), "time %v, want %v", got.Time, want.Time)
	require.Len(t, got.Fragments, len(want.Fragments))
	for i, w := range want.Fragments {
		g := got.Fragments[i]
		assert.Equal(t, w.Name, g.Name, "fragment %d", i)
		assert.Equal(t, w.Kind, g.Kind, "fragment %d", i)
		assert.True(t, w.Start.Equal(g.Start), "fragment %d start %v, want %v", i, g.Start, w.Start)
		assert.Equal(t, w.Width, g.Width, "fragment %d", i)
		assert.Equal(t, w.Stat, g.Stat, "fragment %d", i)
	}
}

func TestRoundTripEveryKind(t *testing.T) {
	for _, k := range stat.Kinds() {
		t.Run(k.String(), func(t *testing.T) {
			empty, err := stat.New(k)
			require.NoError(t, err)
			fill := fillers[k]
			require.NotNil(t, fill, "fillers has no %s", k)
			stats := []stat.Stat{empty, fill(rand.New(rand.NewPCG(uint64(k), 3)))}
			var ds []window.Delta
			for i, s := range stats {
				ds = append(ds, window.Delta{Name: "x." + k.String(), Kind: k, Start: t0.Add(time.Duration(i-1) * time.Second), Width: time.Second, Stat: s})
			}
			b := mustBatch(t, "recv", 1, t0, ds)
			data := encode(t, &b)
			got := decode(t, data)
			assertSameBatch(t, b, got)
			assert.Equal(t, data, encode(t, &got), "re-encoding gives the same bytes")
			for i, f := range got.Fragments {
				d, err := f.Delta()
				require.NoError(t, err)
				assert.Equal(t, ds[i].Name, d.Name)
				assert.True(t, ds[i].Start.Equal(d.Start))
				assert.Equal(t, ds[i].Stat.String(), d.Stat.String())
				want, _ := ds[i].Stat.MarshalBinary()
				gotb, _ := d.Stat.MarshalBinary()
				assert.Equal(t, want, gotb)
			}
		})
	}
}

func TestRoundTripMixed(t *testing.T) {
	tests := []struct {
		name           string
		names, buckets int
		at             time.Time
	}{
		{"empty", 0, 0, t0},
		{"one", 1, 1, t0},
		{"many names", 300, 1, t0.Add(999 * time.Millisecond)},
		{"long ago buckets", 3, 200, t0},
		{"before 1970", 5, 2, time.Unix(-86400, 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := realisticDeltas(tt.names, tt.buckets, 9)
			b := mustBatch(t, "web.1", math.MaxUint64, tt.at, ds)
			data := encode(t, &b)
			assertSameBatch(t, b, decode(t, data))
		})
	}
}

func TestGolden(t *testing.T) {
	b := goldenBatch(t)
	data := encode(t, &b)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(goldenPath), 0o755))
		require.NoError(t, os.WriteFile(goldenPath, data, 0o644))
	}
	golden, err := os.ReadFile(goldenPath)
	require.NoError(t, err, "run go test -run TestGolden -update to create it")
	assert.Equal(t, golden, data, "the v1 encoding changed; that needs a new format version")
	assertSameBatch(t, b, decode(t, golden))
}

func TestFlippedBit(t *testing.T) {
	b := goldenBatch(t)
	data := encode(t, &b)
	bodyStart := headerLen + uvarintLen(uint64(len(data)-headerLen-1-crcLen))
	for i := range len(data) * 8 {
		bad := bytes.Clone(data)
		bad[i/8] ^= 1 << (i % 8)
		var got Batch
		err := got.UnmarshalBinary(bad)
		require.Error(t, err, "bit %d", i)
		switch {
		case i/8 < len(Magic):
			require.ErrorIs(t, err, ErrCorrupt, "bit %d", i)
		case i/8 < headerLen:
			require.ErrorIs(t, err, ErrVersion, "bit %d", i)
		case i/8 < bodyStart:
			require.ErrorIs(t, err, ErrCorrupt, "bit %d", i)
		default:
			require.ErrorIs(t, err, ErrChecksum, "bit %d", i)
		}
		assert.Zero(t, got.Seq, "a failed decode leaves the batch unchanged")
	}
}

func TestTruncated(t *testing.T) {
	b := goldenBatch(t)
	data := encode(t, &b)
	for n := range len(data) {
		err := new(Batch).UnmarshalBinary(data[:n])
		require.ErrorIs(t, err, ErrCorrupt, "length %d", n)
	}
	err := new(Batch).UnmarshalBinary(append(bytes.Clone(data), 0))
	require.ErrorIs(t, err, ErrCorrupt, "trailing byte")
}

// reseal returns data with its body length and checksum recomputed, so
// that tests and the fuzzer reach the body decoder.
func reseal(body []byte) []byte {
	data := append([]byte(Magic), Version, 0)
	data = binary.AppendUvarint(data, uint64(len(body)))
	data = append(data, body...)
	return binary.LittleEndian.AppendUint32(data, crc32.Checksum(data, castagnoli))
}

// body builds a body from parts: uvarints for uint64 and int, zig-zag
// varints for int64, raw bytes for string and []byte.
func body(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case int:
			b = binary.AppendUvarint(b, uint64(v))
		case uint64:
			b = binary.AppendUvarint(b, v)
		case int64:
			b = binary.AppendVarint(b, v)
		case string:
			b = append(b, v...)
		case []byte:
			b = append(b, v...)
		}
	}
	return b
}

func TestDecodeErrors(t *testing.T) {
	count := []byte{1, 1, 2} // a Count of 1
	ok := body(1, "r", 1, int64(0), 1, 1_000_000_000, 1, []byte{1}, 0, 0, 1, "x", 1, 0, int64(0), len(count), count)
	require.NoError(t, new(Batch).UnmarshalBinary(reseal(ok)), "the base body is valid")
	bigName := strings.Repeat("n", 257)
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"bad magic", append([]byte("PLSX"), reseal(ok)[4:]...), ErrCorrupt},
		{"version 2", func() []byte { d := reseal(ok); d[4] = 2; return d }(), ErrVersion},
		{"flags", func() []byte { d := reseal(ok); d[5] = 1; return d }(), ErrVersion},
		{"too big", make([]byte, DefaultMaxBatch+1), ErrLimit},
		{"source too long", reseal(body(257, bigName)), ErrLimit},
		{"name too long", reseal(body(1, "r", 1, int64(0), 1, 1, 1, []byte{1}, 0, 0, 257, bigName, 0)), ErrLimit},
		{"fragment count beyond limit", reseal(body(1, "r", 1, int64(0), 0, 0, 100_001)), ErrLimit},
		{"fragment count beyond input", reseal(body(1, "r", 1, int64(0), 1, 1, 1, []byte{1}, 0, 0, 1, "x", 1000, 0, int64(0), 3, count)), ErrCorrupt},
		{"entry count beyond input", reseal(body(1, "r", 1, int64(0), 0, 0, 99_999)), ErrCorrupt},
		{"width zero", reseal(body(1, "r", 1, int64(0), 1, 0, 0, 0)), ErrCorrupt},
		{"width index out of range", reseal(body(1, "r", 1, int64(0), 1, 1, 1, []byte{1}, 1, 0, 1, "x", 0)), ErrCorrupt},
		{"invalid kind", reseal(body(1, "r", 1, int64(0), 1, 1, 1, []byte{0}, 0, 0, 1, "x", 0)), ErrCorrupt},
		{"entry index out of range", reseal(body(1, "r", 1, int64(0), 1, 1, 1, []byte{1}, 0, 0, 1, "x", 1, 1, int64(0), len(count), count)), ErrCorrupt},
		{"stat too short", reseal(body(1, "r", 1, int64(0), 1, 1, 1, []byte{1}, 0, 0, 1, "x", 1, 0, int64(0), 1, []byte{1})), ErrCorrupt},
		{"stat of another kind", reseal(body(1, "r", 1, int64(0), 1, 1, 1, []byte{2}, 0, 0, 1, "x", 1, 0, int64(0), len(count), count)), ErrCorrupt},
		{"stat length beyond input", reseal(body(1, "r", 1, int64(0), 1, 1, 1, []byte{1}, 0, 0, 1, "x", 1, 0, int64(0), 4, count)), ErrCorrupt},
		{"bucket beyond 2262", reseal(body(1, "r", 1, int64(0), 1, 2, 1, []byte{1}, 0, 0, 1, "x", 1, 0, int64(math.MaxInt64), len(count), count)), ErrCorrupt},
		{"shared prefix beyond the previous name", reseal(body(1, "r", 1, int64(0), 1, 1, 2, []byte{1}, 0, 0, 1, "x", []byte{1}, 0, 2, 1, "y", 0)), ErrCorrupt},
		{"first name shares a prefix", reseal(body(1, "r", 1, int64(0), 1, 1, 1, []byte{1}, 0, 1, 1, "x", 0)), ErrCorrupt},
		{"shared prefix and suffix too long", reseal(body(1, "r", 1, int64(0), 1, 1, 2, []byte{1}, 0, 0, 256, bigName[:256], []byte{1}, 0, 200, 57, bigName[:57], 0)), ErrLimit},
		{"trailing body bytes", reseal(append(bytes.Clone(ok), 0)), ErrCorrupt},
		{"overlong uvarint", reseal(body(1, "r", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})), ErrCorrupt},
		{"body length lies", func() []byte { d := reseal(ok); d[6]++; return d }(), ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Batch{Seq: 99}
			err := b.UnmarshalBinary(tt.data)
			require.ErrorIs(t, err, tt.want)
			assert.Equal(t, uint64(99), b.Seq, "unchanged on error")
			assert.True(t, strings.HasPrefix(err.Error(), "fragment: "), err.Error())
		})
	}
}

func TestLimits(t *testing.T) {
	ds := realisticDeltas(10, 2, 1)
	b := mustBatch(t, "web.1", 1, t0, ds)
	data := encode(t, &b)
	tests := []struct {
		name string
		lim  Limits
		want error
	}{
		{"defaults", Limits{}, nil},
		{"batch just fits", Limits{MaxBatch: len(data)}, nil},
		{"batch one byte over", Limits{MaxBatch: len(data) - 1}, ErrLimit},
		{"fragments just fit", Limits{MaxFragments: 20}, nil},
		{"fragments over", Limits{MaxFragments: 19}, ErrLimit},
		{"names just fit", Limits{MaxName: len("heroku.dyno.load.9")}, nil},
		{"name over", Limits{MaxName: len("heroku.dyno.load.9") - 1}, ErrLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Batch
			err := got.UnmarshalLimits(data, tt.lim)
			out, encErr := b.AppendBinaryLimits([]byte("prefix"), tt.lim)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want, "decode")
				require.ErrorIs(t, encErr, tt.want, "encode")
				assert.Equal(t, []byte("prefix"), out, "dst unchanged on error")
				return
			}
			require.NoError(t, err)
			require.NoError(t, encErr)
			assert.Equal(t, data, out[len("prefix"):])
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	frag := func(mod func(f *Fragment)) Batch {
		f := Fragment{Name: "x", Kind: stat.KindCount, Start: t0, Width: time.Second, Stat: []byte{1, 1, 2}}
		mod(&f)
		return Batch{Source: "r", Time: t0, Fragments: []Fragment{f}}
	}
	tests := []struct {
		name string
		b    Batch
		want error
	}{
		{"misaligned start", frag(func(f *Fragment) { f.Start = t0.Add(time.Millisecond) }), ErrInvalid},
		{"zero width", frag(func(f *Fragment) { f.Width = 0 }), ErrInvalid},
		{"invalid kind", frag(func(f *Fragment) { f.Kind = 0 }), ErrInvalid},
		{"stat of another kind", frag(func(f *Fragment) { f.Kind = stat.KindSum }), ErrInvalid},
		{"empty stat", frag(func(f *Fragment) { f.Stat = nil }), ErrInvalid},
		{"zero start", frag(func(f *Fragment) { f.Start = time.Time{} }), ErrInvalid},
		{"zero time", Batch{Source: "r"}, ErrInvalid},
		{"long source", Batch{Source: strings.Repeat("s", 257), Time: t0}, ErrLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.b.MarshalBinary()
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestDeltaErrors(t *testing.T) {
	_, err := Fragment{Name: "x", Kind: stat.KindCount, Stat: []byte{1, 9, 2}}.Delta()
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorIs(t, err, stat.ErrVersion)
	_, err = Fragment{Name: "x", Kind: stat.KindSum, Stat: []byte{1, 1, 2}}.Delta()
	require.ErrorIs(t, err, ErrCorrupt)
	_, _, err = NewFragment(nil, window.Delta{Name: "x", Kind: stat.KindSum, Stat: new(stat.Count)})
	require.ErrorIs(t, err, ErrInvalid)
	_, _, err = NewFragment(nil, window.Delta{Name: "x", Kind: stat.KindSum})
	require.ErrorIs(t, err, ErrInvalid)
}

// TestDecodeAllocs checks that a decode costs a constant number of
// allocations whatever the batch holds, and that a hostile header costs
// none.
func TestDecodeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	for _, names := range []int{1, 10, 200} {
		b := mustBatch(t, "web.1", 1, t0, realisticDeltas(names, 2, 1))
		data := encode(t, &b)
		var got Batch
		allocs := testing.AllocsPerRun(100, func() { _ = got.UnmarshalBinary(data) })
		assert.LessOrEqual(t, allocs, 5.0, "%d names", names)
	}
	hostile := reseal(body(1, "r", 1, int64(0), 0, 0, 100_000))
	var got Batch
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		require.Error(t, got.UnmarshalBinary(hostile))
	}
	runtime.ReadMemStats(&after)
	perRun := (after.TotalAlloc - before.TotalAlloc) / 100
	assert.Less(t, perRun, uint64(1024), "a header claiming 100 000 fragments allocates only its error")
}

func TestEncodeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	buf := make([]byte, 0, 1<<20)
	for _, tt := range []struct {
		names int
		want  float64
	}{{1, 2}, {16, 2}, {100, 6}} {
		b := mustBatch(t, "web.1", 1, t0, realisticDeltas(tt.names, 2, 1))
		allocs := testing.AllocsPerRun(20, func() { _, _ = b.AppendBinary(buf[:0]) })
		assert.LessOrEqual(t, allocs, tt.want, "%d names", tt.names)
	}
}

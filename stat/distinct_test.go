package stat

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func init() {
	contractCases = append(contractCases,
		contractCase{
			name: "distinct",
			zero: func() Stat { return new(Distinct) },
			observe: func(s Stat, r *rand.Rand, i int) {
				// Keys repeat: 1000 observations of about 600 keys.
				s.(*Distinct).ObserveString("dyno." + strconv.Itoa(r.IntN(1500)))
			},
		},
		contractCase{
			name: "distinct dense p=10",
			zero: func() Stat { d, _ := NewDistinct(10); return d },
			observe: func(s Stat, r *rand.Rand, i int) {
				var k [8]byte
				binary.LittleEndian.PutUint64(k[:], r.Uint64()%50000)
				s.(*Distinct).ObserveKey(k[:])
			},
			n: 20000,
		},
	)
}

func TestNewDistinct(t *testing.T) {
	tests := []struct {
		name string
		p    uint8
		err  error
	}{
		{"min", 4, nil},
		{"default", 14, nil},
		{"max", 18, nil},
		{"too small", 3, ErrLimit},
		{"too large", 19, ErrLimit},
		{"zero", 0, ErrLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewDistinct(tt.p)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				assert.Contains(t, err.Error(), strconv.Itoa(int(tt.p)))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.p, d.Precision())
			d.ObserveString("a")
			assert.Equal(t, uint64(1), d.Estimate())
		})
	}
}

func TestDistinctZeroAndMerge(t *testing.T) {
	var d Distinct
	assert.Zero(t, d.Estimate())
	assert.Equal(t, uint8(14), d.Precision())
	p16, err := NewDistinct(16)
	require.NoError(t, err)
	p16.ObserveString("x")
	// An empty zero value adopts the other's precision.
	require.NoError(t, d.Merge(p16))
	assert.Equal(t, uint8(16), d.Precision())
	assert.Equal(t, uint64(1), d.Estimate())

	var p14 Distinct
	p14.ObserveString("y")
	err = p14.Merge(p16)
	require.ErrorIs(t, err, ErrIncompatible)
	assert.Equal(t, "stat: merge distinct p=14 with p=16: incompatible stats", err.Error())
	assert.Equal(t, uint64(1), p14.Estimate())

	var typedNil *Distinct
	require.NoError(t, p14.Merge(typedNil))
	require.ErrorIs(t, p14.Merge(new(Quantiles)), ErrIncompatible)

	// ObserveString and ObserveKey agree.
	var a, b Distinct
	for i := range 300 {
		a.ObserveString("k" + strconv.Itoa(i))
		b.ObserveKey([]byte("k" + strconv.Itoa(i)))
	}
	assert.Equal(t, mustMarshal(t, &a), mustMarshal(t, &b))
	assert.Equal(t, "distinct p=14 ~300", a.String())
}

// distinctKeys returns n distinct 8-byte keys from seed.
func distinctKeys(seed uint64, n int) [][]byte {
	r := rand.New(rand.NewPCG(seed, 7))
	seen := make(map[uint64]bool, n)
	keys := make([][]byte, 0, n)
	for len(keys) < n {
		v := r.Uint64()
		if seen[v] {
			continue
		}
		seen[v] = true
		keys = append(keys, binary.LittleEndian.AppendUint64(nil, v))
	}
	return keys
}

// TestDistinctCanonical proves that the encoding depends only on the set of
// keys: the same keys in forward and reverse order, repeated, with and
// without Estimate calls in between, and merged from shards give identical
// bytes, in the sparse form, near the sparse-to-dense switch and dense.
func TestDistinctCanonical(t *testing.T) {
	for _, n := range []int{1, 50, 1000, 4000, 5500, 6500, 8000, 30000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			keys := distinctKeys(uint64(n), n)
			var fwd, rev, est, twice Distinct
			shards := make([]Distinct, 16)
			for i, k := range keys {
				fwd.ObserveKey(k)
				rev.ObserveKey(keys[n-1-i])
				est.ObserveKey(keys[(i*7919)%n])
				if i%97 == 0 {
					est.Estimate()
				}
				twice.ObserveKey(k)
				twice.ObserveKey(keys[i/2])
				shards[(i*31)%16].ObserveKey(k)
			}
			var merged Distinct
			for i := range shards {
				shards[i].Estimate() // compact some shards only
				if i%2 == 0 {
					shards[i].Estimate()
				}
				require.NoError(t, merged.Merge(&shards[i]))
			}
			want := mustMarshal(t, &fwd)
			for name, d := range map[string]*Distinct{"reverse": &rev, "estimate": &est, "twice": &twice, "merged": &merged} {
				assert.Equal(t, want, mustMarshal(t, d), name)
			}
			// A read does not change the encoding.
			e := fwd.Estimate()
			assert.Equal(t, want, mustMarshal(t, &fwd))
			var back Distinct
			require.NoError(t, back.UnmarshalBinary(want))
			assert.Equal(t, want, mustMarshal(t, &back))
			assert.Equal(t, e, back.Estimate())
			t.Logf("n=%d form=%d bytes=%d estimate=%d", n, want[3], len(want), e)
		})
	}
}

// TestDistinctExactWhileSmall measures the sparse form's exactness that
// Distinct's doc comment states: over 200 seeds, the estimate of n keys is
// n unless keys collide in 25 bits, which happens with probability about
// n²/2²⁶; the error, when there is one, is a key or two.
func TestDistinctExactWhileSmall(t *testing.T) {
	for _, n := range []int{1, 10, 100, 1000, 3000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			const seeds = 200
			inexact, worst := 0, 0
			for seed := range uint64(seeds) {
				var d Distinct
				for _, k := range distinctKeys(seed*1000+uint64(n), n) {
					d.ObserveKey(k)
				}
				if diff := int(d.Estimate()) - n; diff != 0 {
					inexact++
					worst = max(worst, -diff, diff)
				}
			}
			p := float64(n) * float64(n) / (1 << 26)
			t.Logf("n=%d inexact %d/%d (n²/2²⁶ = %.3f), worst %d", n, inexact, seeds, p, worst)
			// Binomial: allow 4 standard deviations above the expected count.
			assert.LessOrEqual(t, float64(inexact), seeds*p+4*math.Sqrt(seeds*p)+1)
			assert.LessOrEqual(t, worst, 3)
			if n <= 100 {
				assert.Zero(t, inexact)
			}
		})
	}
}

// TestDistinctAccuracy holds Distinct's stated bound at p = 14: relative
// error ≤ 3 % for every seed and mean |error| ≤ 1 % over the seeds, at each
// cardinality 10² … 10⁶, all 20 seeds (under -race 10⁶ only with
// PULSE_LONG=1).
func TestDistinctAccuracy(t *testing.T) {
	const seeds = 20
	long := os.Getenv("PULSE_LONG") == "1"
	checkpoints := []int{100, 1000, 10000, 100000, 1000000}
	sum := make([]float64, len(checkpoints))
	cnt := make([]int, len(checkpoints))
	for seed := range uint64(seeds) {
		top := 1000000
		if !long && raceEnabled {
			top = 100000
		}
		r := rand.New(rand.NewPCG(seed, 99))
		var d Distinct
		var k [16]byte
		next := 0
		for i := 1; i <= top; i++ {
			// Distinct keys: a counter under a random prefix per seed.
			binary.LittleEndian.PutUint64(k[:8], r.Uint64())
			binary.LittleEndian.PutUint64(k[8:], uint64(i))
			d.ObserveKey(k[:])
			if i == checkpoints[next] {
				rel := (float64(d.Estimate()) - float64(i)) / float64(i)
				assert.LessOrEqual(t, math.Abs(rel), 0.03, "seed %d n %d", seed, i)
				sum[next] += math.Abs(rel)
				cnt[next]++
				next++
				if next == len(checkpoints) {
					break
				}
			}
		}
	}
	for i, n := range checkpoints {
		if cnt[i] == 0 {
			require.True(t, raceEnabled, "n %d unchecked", n) // 10⁶ is skipped under -race
			continue
		}
		mean := sum[i] / float64(cnt[i])
		t.Logf("n=%d seeds=%d mean |error| %.3f%%", n, cnt[i], 100*mean)
		assert.LessOrEqual(t, mean, 0.01, "n %d", n)
	}
}

func TestDistinctUnmarshalErrors(t *testing.T) {
	var dense Distinct
	for i := range 100000 {
		dense.ObserveString(strconv.Itoa(i))
	}
	good := mustMarshal(t, &dense)
	require.Equal(t, byte(distinctDense), good[3])
	require.Len(t, good, 4+3<<14/4)
	hdr := func(p, form byte, rest ...byte) []byte {
		return append([]byte{byte(KindDistinct), 1, p, form}, rest...)
	}
	allZero := hdr(4, distinctDense, make([]byte, 12)...)
	tooBig := hdr(4, distinctDense, bytes.Repeat([]byte{0xff}, 12)...) // registers of 63 > 61
	tests := []struct {
		name string
		in   []byte
		err  error
		msg  string
	}{
		{"precision 3", hdr(3, 0), ErrLimit, "precision 3"},
		{"precision 19", hdr(19, 0), ErrLimit, "precision 19"},
		{"unknown form", hdr(14, 3), ErrCorrupt, "form 3"},
		{"empty with trailing byte", hdr(14, 0, 0), ErrCorrupt, "trailing"},
		{"dense of the wrong size", good[:len(good)-3], ErrCorrupt, "take 12288 bytes, have 12285"},
		{"dense p=14 claimed as p=16", append(hdr(16, 2), good[4:]...), ErrCorrupt, "take 49152 bytes"},
		{"dense all zero", allZero, ErrCorrupt, "every register 0"},
		{"register too large", tooBig, ErrCorrupt, "register"},
		{"sparse no keys", hdr(14, 1, 0), ErrCorrupt, "no keys"},
		{"sparse more keys than m", hdr(4, 1, 17), ErrLimit, "17 exceeds 16"},
		{"sparse keys beyond input", hdr(14, 1, 5, 1, 2), ErrCorrupt, "cannot fit"},
		{"sparse repeated key", hdr(14, 1, 2, 2, 0), ErrCorrupt, "repeats"},
		{"sparse key beyond 32 bits", hdr(14, 1, 2, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f), ErrCorrupt, "32 bits"},
		{"sparse too many bytes for p=4", hdr(4, 1, append([]byte{9}, bytes.Repeat([]byte{0x80, 0x01}, 9)...)...), ErrCorrupt, "exceed 16"},
		{"sparse invalid key", hdr(14, 1, 1, 0x7f), ErrCorrupt, "not a sparse key"},
		// Keys that no hash gives, which the old decoder accepted: each
		// counted as a distinct key in the sparse estimate.
		{"sparse key with z = 0", hdr(14, 1, 1, 1), ErrCorrupt, "0x00000001, is not a sparse key"},
		{"sparse key with z = 41", hdr(14, 1, 1, 41<<1|1), ErrCorrupt, "is not a sparse key"},
		{"sparse long-form key with low index bits", hdr(14, 1, 1, 0x83, 0x01), ErrCorrupt, "0x00000083, is not a sparse key"},
		{"sparse short-form key without low index bits", hdr(14, 1, 1, 0x80, 0x20), ErrCorrupt, "0x00001000, is not a sparse key"},
		{"sparse short-form key beyond 26 bits", hdr(14, 1, 1, 0x82, 0x80, 0x80, 0x20), ErrCorrupt, "0x04000002, is not a sparse key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recv := dense.Clone()
			err := recv.UnmarshalBinary(tt.in)
			require.ErrorIs(t, err, tt.err)
			assertSentinel(t, err)
			assert.Contains(t, err.Error(), tt.msg)
			assert.Equal(t, good, mustMarshal(t, recv))
		})
	}
}

// TestDistinctLargestRegister: a register holds at most 65 − p, and a hash
// whose 64 − p bits below the index are all zero gives exactly that (so a
// decoder that stopped at 64 − p would reject real sketches). One more is
// ErrCorrupt.
func TestDistinctLargestRegister(t *testing.T) {
	for _, p := range []uint8{MinDistinctPrecision, DefaultDistinctPrecision, MaxDistinctPrecision} {
		d, err := NewDistinct(p)
		require.NoError(t, err)
		d.sketch().InsertHash(^uint64(0) << (64 - p)) // index all ones, the rest zero
		for i := range 1 << p {                       // enough keys to make it dense
			d.ObserveString(strconv.Itoa(i))
		}
		b := mustMarshal(t, d)
		require.Equal(t, byte(distinctDense), b[3])
		last := b[len(b)-1] >> 2 // the last register, 6 bits at the top
		assert.Equal(t, 65-p, last, "p=%d", p)
		var back Distinct
		require.NoError(t, back.UnmarshalBinary(b), "p=%d", p)
		assert.Equal(t, b, mustMarshal(t, &back))

		b[len(b)-1] += 1 << 2 // 66 − p
		err = back.UnmarshalBinary(b)
		require.ErrorIs(t, err, ErrCorrupt)
		assert.Contains(t, err.Error(), fmt.Sprintf("= %d exceeds %d", 66-p, 65-p))
	}
}

func TestDistinctSmallMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	// An empty Distinct is 16 bytes and allocates nothing to encode into a
	// buffer, to read or to merge into another.
	assert.Equal(t, uintptr(16), unsafe.Sizeof(Distinct{}))
	buf := make([]byte, 0, 64)
	var d, into Distinct
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = d.AppendBinary(buf[:0])
		_ = d.Estimate()
		_ = into.Merge(&d)
	})
	assert.Zero(t, allocs)
}

func TestDistinctObserveAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	var d Distinct
	for i := range 100000 {
		d.ObserveString(strconv.Itoa(i)) // dense from here on
	}
	k := []byte("request-id-0000")
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		k[len(k)-1] = byte(i)
		i++
		d.ObserveKey(k)
		d.ObserveString("web.1")
	})
	assert.Zero(t, allocs)
}

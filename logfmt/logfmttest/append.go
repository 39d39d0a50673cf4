package logfmttest

import (
	"math"
	"math/rand/v2"
	"strconv"
)

const hexDigits = "0123456789abcdef"

// appendUUID appends a version 4 UUID made from two random words.
func appendUUID(dst []byte, hi, lo uint64) []byte {
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // variant 10
	var b [36]byte
	j := 0
	for i := 0; i < 16; i++ {
		var x byte
		if i < 8 {
			x = byte(hi >> (56 - 8*i))
		} else {
			x = byte(lo >> (56 - 8*(i-8)))
		}
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j] = hexDigits[x>>4]
		b[j+1] = hexDigits[x&0xf]
		j += 2
	}
	return append(dst, b[:]...)
}

// appendHex appends the n low hex digits of x.
func appendHex(dst []byte, x uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, hexDigits[(x>>(4*uint(i)))&0xf])
	}
	return dst
}

// appendInt appends a non-negative or negative integer in decimal.
func appendInt(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }

// appendPad appends v as exactly width decimal digits, zero-padded.
func appendPad(dst []byte, v int64, width int) []byte {
	var b [20]byte
	for i := width - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, b[:width]...)
}

var pow10 = [...]float64{1, 10, 100, 1000, 10000, 100000, 1000000}

// appendFixed appends v (clamped at zero) with exactly decimals digits
// after the point, like strconv's 'f' format but without its cost.
func appendFixed(dst []byte, v float64, decimals int) []byte {
	if !(v > 0) {
		v = 0
	}
	scaled := int64(math.Round(v * pow10[decimals]))
	p := int64(pow10[decimals])
	dst = appendInt(dst, scaled/p)
	if decimals == 0 {
		return dst
	}
	dst = append(dst, '.')
	return appendPad(dst, scaled%p, decimals)
}

// appendTrim appends v with up to decimals digits, trailing zeros dropped,
// as add-on metrics print them (0.2, 41.27, 0.0712).
func appendTrim(dst []byte, v float64, decimals int) []byte {
	n := len(dst)
	dst = appendFixed(dst, v, decimals)
	if decimals == 0 {
		return dst
	}
	for dst[len(dst)-1] == '0' {
		dst = dst[:len(dst)-1]
	}
	if dst[len(dst)-1] == '.' {
		dst = dst[:len(dst)-1]
	}
	if len(dst) == n {
		dst = append(dst, '0')
	}
	return dst
}

// octets holds the decimal forms of 0 to 255.
var octets = func() (o [256]string) {
	for i := range o {
		o[i] = itoa(i)
	}
	return o
}()

// appendIP appends a random public-looking IPv4 address.
func appendIP(dst []byte, x uint64) []byte {
	a := 1 + x%223
	if a == 10 || a == 127 || a == 100 || a == 172 || a == 192 {
		a++
	}
	dst = append(dst, octets[a]...)
	for i := 0; i < 3; i++ {
		x >>= 8
		dst = append(dst, '.')
		dst = append(dst, octets[x&0xff]...)
	}
	return dst
}

// aliasTable draws an index with probability proportional to its weight in
// constant time (Vose's alias method).
type aliasTable struct {
	thresh []uint64 // of 1<<32
	alias  []int32
}

func newAliasTable(w []float64) aliasTable {
	n := len(w)
	t := aliasTable{thresh: make([]uint64, n), alias: make([]int32, n)}
	var sum float64
	for _, x := range w {
		sum += x
	}
	p := make([]float64, n)
	var small, large []int
	for i, x := range w {
		p[i] = x / sum * float64(n)
		if p[i] < 1 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		t.thresh[s] = uint64(p[s] * (1 << 32))
		t.alias[s] = int32(l)
		p[l] -= 1 - p[s]
		if p[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range append(small, large...) {
		t.thresh[i] = 1 << 32
		t.alias[i] = int32(i)
	}
	return t
}

// pick draws an index using one random word.
func (t *aliasTable) pick(u uint64) int {
	i := int((u >> 32) * uint64(len(t.thresh)) >> 32)
	if u&0xffffffff < t.thresh[i] {
		return i
	}
	return int(t.alias[i])
}

// rng is the generator's source of randomness: PCG, so the same seed gives
// the same stream on every platform.
type rng struct {
	pcg rand.PCG
	r   *rand.Rand
}

func newRNG(seed, stream uint64) *rng {
	g := &rng{pcg: *rand.NewPCG(seed, stream)}
	g.r = rand.New(&g.pcg)
	return g
}

func (g *rng) u64() uint64 { return g.pcg.Uint64() }

// float returns a uniform float in [0, 1).
func (g *rng) float() float64 { return float64(g.pcg.Uint64()>>11) / (1 << 53) }

// intn returns a uniform int in [0, n).
func (g *rng) intn(n int) int { return int((g.pcg.Uint64() >> 32) * uint64(n) >> 32) }

// between returns a uniform float in [lo, hi).
func (g *rng) between(lo, hi float64) float64 { return lo + (hi-lo)*g.float() }

// lognormal returns a lognormal value with the given median and sigma.
func (g *rng) lognormal(median, sigma float64) float64 {
	return median * math.Exp(sigma*g.r.NormFloat64())
}

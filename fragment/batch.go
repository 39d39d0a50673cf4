package fragment

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"time"

	"github.com/pulsehq/pulse/stat"
)

// Format constants of version 1; see the package documentation.
const (
	// Magic opens every batch: "PLSB".
	Magic = "PLSB"
	// Version is the format version this package writes.
	Version = 1
	// headerLen is magic, version and flags, before the body length.
	headerLen = len(Magic) + 2
	// crcLen is the trailing CRC-32C.
	crcLen = 4
)

// Default limits, used where a Limits field is zero.
const (
	DefaultMaxBatch     = 16 << 20
	DefaultMaxFragments = 100_000
	DefaultMaxName      = 256
)

// castagnoli is the CRC-32C table.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Limits bounds what encoding and decoding accept. The zero value of each
// field means its default.
type Limits struct {
	// MaxBatch is the largest encoded batch in bytes, header and checksum
	// included. Zero means DefaultMaxBatch (16 MiB).
	MaxBatch int
	// MaxFragments is the most fragments, and the most name-table
	// entries, in a batch. Zero means DefaultMaxFragments (100 000).
	MaxFragments int
	// MaxName is the longest stat name or source, in bytes. Zero means
	// DefaultMaxName (256).
	MaxName int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBatch <= 0 {
		l.MaxBatch = DefaultMaxBatch
	}
	if l.MaxFragments <= 0 {
		l.MaxFragments = DefaultMaxFragments
	}
	if l.MaxName <= 0 {
		l.MaxName = DefaultMaxName
	}
	return l
}

// Batch is one receiver cut for one merger shard.
type Batch struct {
	// Source identifies the sending receiver. It must be unique per
	// process incarnation (for example host, pid and start time), since
	// Seen dedupes on (Source, Seq).
	Source string
	// Seq increases with every cut of Source.
	Seq uint64
	// Time is the time of the cut, between the years 1678 and 2262.
	Time time.Time
	// Fragments are the cut's deltas for this shard.
	Fragments []Fragment
}

// MarshalBinary returns AppendBinary(nil).
func (b *Batch) MarshalBinary() ([]byte, error) { return b.AppendBinary(nil) }

// AppendBinary appends the batch's version 1 encoding, described in the
// package documentation, to dst, under the default Limits. The same batch
// always gives the same bytes. On error dst is returned unchanged.
func (b *Batch) AppendBinary(dst []byte) ([]byte, error) {
	return b.AppendBinaryLimits(dst, Limits{})
}

// entryKey is one name-table entry.
type entryKey struct {
	name  string
	kind  stat.Kind
	width time.Duration
}

// linearEntries is how many name-table entries the encoder searches
// linearly before it builds a map.
const linearEntries = 16

// AppendBinaryLimits is AppendBinary under the given limits.
func (b *Batch) AppendBinaryLimits(dst []byte, lim Limits) ([]byte, error) {
	lim = lim.withDefaults()
	orig := dst
	fail := func(err error) ([]byte, error) { return orig, err }
	if len(b.Source) > lim.MaxName {
		return fail(fmt.Errorf("fragment: source length %d exceeds %d: %w", len(b.Source), lim.MaxName, ErrLimit))
	}
	if len(b.Fragments) > lim.MaxFragments {
		return fail(fmt.Errorf("fragment: %d fragments exceed %d: %w", len(b.Fragments), lim.MaxFragments, ErrLimit))
	}
	if !inNanoRange(b.Time) {
		return fail(fmt.Errorf("fragment: batch time %v outside the years 1678–2262: %w", b.Time, ErrInvalid))
	}
	tns := b.Time.UnixNano()

	// Tables of widths and (name, kind, width) entries in order of first
	// appearance, so the encoding depends only on the batch.
	var (
		wbuf    [4]int64
		widths  = wbuf[:0]
		entries = make([]entryKey, 0, len(b.Fragments))
		index   = make([]int, len(b.Fragments)) // per fragment
		byKey   map[entryKey]int
		last    = -1
	)
	for i := range b.Fragments {
		f := &b.Fragments[i]
		if err := checkFragment(f, lim); err != nil {
			return fail(err)
		}
		k := entryKey{f.Name, f.Kind, f.Width}
		e := -1
		switch {
		case last >= 0 && entries[last] == k:
			e = last
		case byKey != nil:
			if j, ok := byKey[k]; ok {
				e = j
			}
		default:
			for j := range entries {
				if entries[j] == k {
					e = j
					break
				}
			}
		}
		if e < 0 {
			e = len(entries)
			entries = append(entries, k)
			if byKey != nil {
				byKey[k] = e
			} else if len(entries) > linearEntries {
				byKey = make(map[entryKey]int, len(b.Fragments))
				for j, k := range entries {
					byKey[k] = j
				}
			}
			w := int64(f.Width)
			found := false
			for _, x := range widths {
				if x == w {
					found = true
					break
				}
			}
			if !found {
				widths = append(widths, w)
			}
		}
		index[i], last = e, e
	}

	// The body's length precedes it, so measure it first.
	size := uvarintLen(uint64(len(b.Source))) + len(b.Source) + uvarintLen(b.Seq) + varintLen(tns)
	size += uvarintLen(uint64(len(widths)))
	for _, w := range widths {
		size += uvarintLen(uint64(w))
	}
	size += uvarintLen(uint64(len(entries)))
	prev := ""
	for _, k := range entries {
		shared := commonPrefix(prev, k.name)
		size += 1 + uvarintLen(uint64(widthIndex(widths, int64(k.width)))) +
			uvarintLen(uint64(shared)) + uvarintLen(uint64(len(k.name)-shared)) + len(k.name) - shared
		prev = k.name
	}
	size += uvarintLen(uint64(len(b.Fragments)))
	for i := range b.Fragments {
		f := &b.Fragments[i]
		size += uvarintLen(uint64(index[i])) + varintLen(bucketOffset(f, tns)) + uvarintLen(uint64(len(f.Stat))) + len(f.Stat)
	}
	total := headerLen + uvarintLen(uint64(size)) + size + crcLen
	if total > lim.MaxBatch {
		return fail(fmt.Errorf("fragment: batch of %d bytes exceeds %d: %w", total, lim.MaxBatch, ErrLimit))
	}

	dst = growBytes(dst, total)
	start := len(dst)
	dst = append(dst, Magic...)
	dst = append(dst, Version, 0)
	dst = binary.AppendUvarint(dst, uint64(size))
	dst = binary.AppendUvarint(dst, uint64(len(b.Source)))
	dst = append(dst, b.Source...)
	dst = binary.AppendUvarint(dst, b.Seq)
	dst = binary.AppendVarint(dst, tns)
	dst = binary.AppendUvarint(dst, uint64(len(widths)))
	for _, w := range widths {
		dst = binary.AppendUvarint(dst, uint64(w))
	}
	dst = binary.AppendUvarint(dst, uint64(len(entries)))
	prev = ""
	for _, k := range entries {
		shared := commonPrefix(prev, k.name)
		dst = append(dst, byte(k.kind))
		dst = binary.AppendUvarint(dst, uint64(widthIndex(widths, int64(k.width))))
		dst = binary.AppendUvarint(dst, uint64(shared))
		dst = binary.AppendUvarint(dst, uint64(len(k.name)-shared))
		dst = append(dst, k.name[shared:]...)
		prev = k.name
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.Fragments)))
	for i := range b.Fragments {
		f := &b.Fragments[i]
		dst = binary.AppendUvarint(dst, uint64(index[i]))
		dst = binary.AppendVarint(dst, bucketOffset(f, tns))
		dst = binary.AppendUvarint(dst, uint64(len(f.Stat)))
		dst = append(dst, f.Stat...)
	}
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
	return dst, nil
}

// checkFragment checks that f can be encoded.
func checkFragment(f *Fragment, lim Limits) error {
	switch {
	case len(f.Name) > lim.MaxName:
		return fmt.Errorf("fragment: name length %d exceeds %d: %w", len(f.Name), lim.MaxName, ErrLimit)
	case !f.Kind.Valid():
		return fmt.Errorf("fragment: %q: invalid kind %s: %w", f.Name, f.Kind, ErrInvalid)
	case len(f.Stat) < 2 || f.Stat[0] != byte(f.Kind):
		return fmt.Errorf("fragment: %q of kind %s: stat bytes do not begin with its tag: %w", f.Name, f.Kind, ErrInvalid)
	case f.Width <= 0:
		return fmt.Errorf("fragment: %q: width %v is not positive: %w", f.Name, f.Width, ErrInvalid)
	case !inNanoRange(f.Start) || f.Start.UnixNano()%int64(f.Width) != 0:
		return fmt.Errorf("fragment: %q: start %v is not a multiple of width %v: %w", f.Name, f.Start, f.Width, ErrInvalid)
	}
	return nil
}

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// inNanoRange reports whether t.UnixNano is defined.
func inNanoRange(t time.Time) bool { return !t.Before(minTime) && !t.After(maxTime) }

// bucketOffset returns the fragment's bucket number minus the bucket
// number of the batch time tns.
func bucketOffset(f *Fragment, tns int64) int64 {
	w := int64(f.Width)
	return f.Start.UnixNano()/w - floorDiv(tns, w)
}

// commonPrefix returns the length of the longest common prefix of a and b.
func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func widthIndex(widths []int64, w int64) int {
	for i, x := range widths {
		if x == w {
			return i
		}
	}
	return -1
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func varintLen(v int64) int {
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	return uvarintLen(u)
}

// growBytes makes room for n more bytes in b.
func growBytes(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), len(b)+n)
	copy(nb, b)
	return nb
}

// UnmarshalBinary decodes a batch under the default Limits. See
// UnmarshalLimits.
func (b *Batch) UnmarshalBinary(data []byte) error {
	return b.UnmarshalLimits(data, Limits{})
}

// UnmarshalLimits decodes a version 1 batch, replacing b's fields. It
// checks the checksum before it reads the body, and every count and length
// against the bytes that remain and against lim before it allocates. It
// never keeps data: names are copied into one string and the stats' bytes
// into one buffer, so a decode costs a constant number of allocations. It
// reuses b.Fragments' capacity. On error b is unchanged and the error
// wraps ErrCorrupt, ErrChecksum, ErrVersion or ErrLimit.
func (b *Batch) UnmarshalLimits(data []byte, lim Limits) error {
	lim = lim.withDefaults()
	d := decoder{b: data}
	if len(data) > lim.MaxBatch {
		return fmt.Errorf("fragment: batch of %d bytes exceeds %d: %w", len(data), lim.MaxBatch, ErrLimit)
	}
	if len(data) < headerLen+1+crcLen {
		return fmt.Errorf("fragment: %d bytes, shorter than the smallest batch: %w", len(data), ErrCorrupt)
	}
	if string(data[:len(Magic)]) != Magic {
		return fmt.Errorf("fragment: bad magic %q: %w", data[:len(Magic)], ErrCorrupt)
	}
	if v := data[len(Magic)]; v != Version {
		return fmt.Errorf("fragment: format version %d, want %d: %w", v, Version, ErrVersion)
	}
	if fl := data[len(Magic)+1]; fl != 0 {
		return fmt.Errorf("fragment: unknown flags %#02x: %w", fl, ErrVersion)
	}
	d.off = headerLen
	size := d.uvarint("body length", uint64(len(data)))
	if d.err != nil {
		return d.err
	}
	if want := uint64(len(data) - d.off - crcLen); size != want {
		return fmt.Errorf("fragment: body length %d, but %d bytes hold body and checksum: %w", size, len(data)-d.off, ErrCorrupt)
	}
	end := len(data) - crcLen
	if got, want := crc32.Checksum(data[:end], castagnoli), binary.LittleEndian.Uint32(data[end:]); got != want {
		return fmt.Errorf("fragment: crc-32c %#08x, batch says %#08x: %w", got, want, ErrChecksum)
	}
	d.b = data[:end]

	// First pass: validate everything and measure.
	srcOff, srcLen := d.bytesN("source", lim.MaxName)
	seq := d.uvarint("seq", math.MaxUint64)
	tns := d.varint("time")
	nw := d.count("width count", uint64(lim.MaxFragments), 1)
	widthsOff := d.off
	for range nw {
		d.uvarint("width", math.MaxInt64)
		if d.err == nil && d.prev == 0 {
			d.fail(ErrCorrupt, "width 0")
		}
	}
	ne := d.count("entry count", uint64(lim.MaxFragments), 4)
	entriesOff := d.off
	namesLen, prevLen := srcLen, 0
	for range ne {
		k := stat.Kind(d.byte1("kind"))
		if d.err == nil && !k.Valid() {
			d.fail(ErrCorrupt, "invalid kind tag %d", k)
		}
		d.uvarint("width index", uint64(nw-1))
		if d.err == nil && nw == 0 {
			d.fail(ErrCorrupt, "width index with no widths")
		}
		shared := int(d.uvarint("shared name prefix", uint64(prevLen)))
		_, n := d.bytesN("name suffix", lim.MaxName-shared)
		namesLen += shared + n
		prevLen = shared + n
	}
	nf := d.count("fragment count", uint64(lim.MaxFragments), 5)
	fragsOff := d.off
	statsLen := 0
	for range nf {
		d.uvarint("entry index", uint64(ne-1))
		if d.err == nil && ne == 0 {
			d.fail(ErrCorrupt, "entry index with no entries")
		}
		d.varint("bucket offset")
		_, n := d.bytesN("stat", math.MaxInt)
		if d.err == nil && n < 2 {
			d.fail(ErrCorrupt, "stat of %d bytes", n)
		}
		statsLen += n
	}
	if err := d.finish(); err != nil {
		return err
	}

	// Second pass: the input is known good; decode into owned memory.
	names := make([]byte, 0, namesLen)
	names = append(names, data[srcOff:srcOff+srcLen]...)
	type entry struct {
		kind       stat.Kind
		width      int64
		nameOff, n int
	}
	entries := make([]entry, ne)
	widths := make([]int64, nw)
	d.off = widthsOff
	for i := range widths {
		widths[i] = int64(d.uvarint("", math.MaxUint64))
	}
	d.off = entriesOff
	prevLen = 0
	for i := range entries {
		e := &entries[i]
		e.kind = stat.Kind(d.byte1(""))
		e.width = widths[d.uvarint("", math.MaxUint64)]
		shared := int(d.uvarint("", math.MaxUint64))
		off, n := d.bytesN("", math.MaxInt)
		prevOff := len(names) - prevLen
		e.nameOff, e.n = len(names), shared+n
		names = append(names, names[prevOff:prevOff+shared]...)
		names = append(names, data[off:off+n]...)
		prevLen = e.n
	}
	namesStr := string(names)
	stats := make([]byte, 0, statsLen)
	frags := b.Fragments[:0]
	if cap(frags) < nf {
		frags = make([]Fragment, 0, nf)
	}
	d.off = fragsOff
	for range nf {
		e := entries[d.uvarint("", math.MaxUint64)]
		off := d.varint("")
		so, sn := d.bytesN("", math.MaxInt)
		bucket, ok := addBucket(floorDiv(tns, e.width), off, e.width)
		if !ok {
			return fmt.Errorf("fragment: bucket offset %d at width %d ns is outside the years 1678–2262: %w", off, e.width, ErrCorrupt)
		}
		if data[so] != byte(e.kind) {
			return fmt.Errorf("fragment: %q of kind %s: stat tag %d: %w", namesStr[e.nameOff:e.nameOff+e.n], e.kind, data[so], ErrCorrupt)
		}
		s := len(stats)
		stats = append(stats, data[so:so+sn]...)
		frags = append(frags, Fragment{
			Name:  namesStr[e.nameOff : e.nameOff+e.n],
			Kind:  e.kind,
			Start: time.Unix(0, bucket*e.width).UTC(),
			Width: time.Duration(e.width),
			Stat:  stats[s:len(stats):len(stats)],
		})
	}
	*b = Batch{Source: namesStr[:srcLen], Seq: seq, Time: time.Unix(0, tns).UTC(), Fragments: frags}
	return nil
}

// addBucket returns base + off if that bucket's start, times width, fits
// in int64 nanoseconds.
func addBucket(base, off, width int64) (int64, bool) {
	b := base + off
	if (off > 0 && b < base) || (off < 0 && b > base) {
		return 0, false
	}
	if b > math.MaxInt64/width || b < math.MinInt64/width {
		return 0, false
	}
	return b, true
}

// decoder reads a batch body. The first error sticks; later reads return
// zero values.
type decoder struct {
	b    []byte
	off  int
	prev uint64 // the last uvarint read
	err  error
}

func (d *decoder) fail(sentinel error, format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("fragment: at byte %d: %s: %w", d.off, fmt.Sprintf(format, args...), sentinel)
	}
}

func (d *decoder) byte1(what string) byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail(ErrCorrupt, "%s: truncated", what)
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

func (d *decoder) uvarint(what string, max uint64) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail(ErrCorrupt, "%s: truncated or overlong uvarint", what)
		return 0
	}
	if v > max {
		d.fail(ErrCorrupt, "%s %d exceeds %d", what, v, max)
		return 0
	}
	d.off += n
	d.prev = v
	return v
}

func (d *decoder) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail(ErrCorrupt, "%s: truncated or overlong varint", what)
		return 0
	}
	d.off += n
	return v
}

// bytesN reads a uvarint length of at most max (beyond it: ErrLimit) and
// skips that many bytes, returning their offset and length.
func (d *decoder) bytesN(what string, max int) (int, int) {
	if d.err != nil {
		return 0, 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail(ErrCorrupt, "%s length: truncated or overlong uvarint", what)
		return 0, 0
	}
	if v > uint64(max) {
		d.fail(ErrLimit, "%s length %d exceeds %d", what, v, max)
		return 0, 0
	}
	if left := len(d.b) - d.off - n; v > uint64(left) {
		d.fail(ErrCorrupt, "%s length %d exceeds the %d bytes left", what, v, left)
		return 0, 0
	}
	d.off += n
	off := d.off
	d.off += int(v)
	return off, int(v)
}

// count reads an element count of at most max (beyond it: ErrLimit) that
// the remaining bytes can hold at minSize bytes each (beyond it:
// ErrCorrupt).
func (d *decoder) count(what string, max uint64, minSize int) int {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail(ErrCorrupt, "%s: truncated or overlong uvarint", what)
		return 0
	}
	if v > max {
		d.fail(ErrLimit, "%s %d exceeds %d", what, v, max)
		return 0
	}
	d.off += n
	if left := len(d.b) - d.off; v > uint64(left/minSize) {
		d.fail(ErrCorrupt, "%s %d cannot fit in the %d bytes left", what, v, left)
		return 0
	}
	return int(v)
}

func (d *decoder) finish() error {
	if d.err == nil && d.off != len(d.b) {
		d.fail(ErrCorrupt, "%d trailing bytes", len(d.b)-d.off)
	}
	return d.err
}

package fragment

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"time"

	"github.com/pulsehq/pulse/internal/wire"
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
	if err := b.check(lim); err != nil {
		return dst, err
	}
	tns := b.Time.UnixNano()
	var wbuf [4]int64
	t, err := b.tables(wbuf[:0], lim)
	if err != nil {
		return dst, err
	}
	size := b.bodySize(tns, t)
	total := headerLen + uvarintLen(uint64(size)) + size + crcLen
	if total > lim.MaxBatch {
		return dst, fmt.Errorf("fragment: batch of %d bytes exceeds %d: %w", total, lim.MaxBatch, ErrLimit)
	}
	dst = growBytes(dst, total)
	start := len(dst)
	dst = append(dst, Magic...)
	dst = append(dst, Version, 0)
	dst = binary.AppendUvarint(dst, uint64(size))
	dst = b.appendBody(dst, tns, t)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli)), nil
}

// check checks the batch's own fields against lim.
func (b *Batch) check(lim Limits) error {
	switch {
	case len(b.Source) > lim.MaxName:
		return fmt.Errorf("fragment: source length %d exceeds %d: %w", len(b.Source), lim.MaxName, ErrLimit)
	case len(b.Fragments) > lim.MaxFragments:
		return fmt.Errorf("fragment: %d fragments exceed %d: %w", len(b.Fragments), lim.MaxFragments, ErrLimit)
	case !inNanoRange(b.Time):
		return fmt.Errorf("fragment: batch time %v outside the years 1678–2262: %w", b.Time, ErrInvalid)
	}
	return nil
}

// batchTables are the tables a batch encodes before its fragments: widths
// and (name, kind, width) entries in order of first appearance, so the
// encoding depends only on the batch, and each fragment's entry.
type batchTables struct {
	widths  []int64
	entries []entryKey
	index   []int // per fragment
}

// tables checks every fragment and builds the tables, appending the widths
// to widths.
func (b *Batch) tables(widths []int64, lim Limits) (batchTables, error) {
	t := batchTables{
		widths:  widths,
		entries: make([]entryKey, 0, len(b.Fragments)),
		index:   make([]int, len(b.Fragments)),
	}
	var byKey map[entryKey]int
	last := -1
	for i := range b.Fragments {
		f := &b.Fragments[i]
		if err := checkFragment(f, lim); err != nil {
			return t, err
		}
		k := entryKey{f.Name, f.Kind, f.Width}
		e := -1
		switch {
		case last >= 0 && t.entries[last] == k:
			e = last
		case byKey != nil:
			if j, ok := byKey[k]; ok {
				e = j
			}
		default:
			e = slices.Index(t.entries, k)
		}
		if e < 0 {
			e = len(t.entries)
			t.entries = append(t.entries, k)
			if byKey != nil {
				byKey[k] = e
			} else if len(t.entries) > linearEntries {
				byKey = make(map[entryKey]int, len(b.Fragments))
				for j, k := range t.entries {
					byKey[k] = j
				}
			}
			if w := int64(f.Width); !slices.Contains(t.widths, w) {
				t.widths = append(t.widths, w)
			}
		}
		t.index[i], last = e, e
	}
	return t, nil
}

// bodySize returns the length of the body appendBody writes, which
// precedes it.
func (b *Batch) bodySize(tns int64, t batchTables) int {
	size := uvarintLen(uint64(len(b.Source))) + len(b.Source) + uvarintLen(b.Seq) + varintLen(tns)
	size += uvarintLen(uint64(len(t.widths)))
	for _, w := range t.widths {
		size += uvarintLen(uint64(w))
	}
	size += uvarintLen(uint64(len(t.entries)))
	prev := ""
	for _, k := range t.entries {
		shared := commonPrefix(prev, k.name)
		size += 1 + uvarintLen(uint64(widthIndex(t.widths, int64(k.width)))) +
			uvarintLen(uint64(shared)) + uvarintLen(uint64(len(k.name)-shared)) + len(k.name) - shared
		prev = k.name
	}
	size += uvarintLen(uint64(len(b.Fragments)))
	for i := range b.Fragments {
		f := &b.Fragments[i]
		size += uvarintLen(uint64(t.index[i])) + varintLen(bucketOffset(f, tns)) + uvarintLen(uint64(len(f.Stat))) + len(f.Stat)
	}
	return size
}

// appendBody appends the body: source, seq, time, the tables and the
// fragments.
func (b *Batch) appendBody(dst []byte, tns int64, t batchTables) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b.Source)))
	dst = append(dst, b.Source...)
	dst = binary.AppendUvarint(dst, b.Seq)
	dst = binary.AppendVarint(dst, tns)
	dst = binary.AppendUvarint(dst, uint64(len(t.widths)))
	for _, w := range t.widths {
		dst = binary.AppendUvarint(dst, uint64(w))
	}
	dst = binary.AppendUvarint(dst, uint64(len(t.entries)))
	prev := ""
	for _, k := range t.entries {
		shared := commonPrefix(prev, k.name)
		dst = append(dst, byte(k.kind))
		dst = binary.AppendUvarint(dst, uint64(widthIndex(t.widths, int64(k.width))))
		dst = binary.AppendUvarint(dst, uint64(shared))
		dst = binary.AppendUvarint(dst, uint64(len(k.name)-shared))
		dst = append(dst, k.name[shared:]...)
		prev = k.name
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.Fragments)))
	for i := range b.Fragments {
		f := &b.Fragments[i]
		dst = binary.AppendUvarint(dst, uint64(t.index[i]))
		dst = binary.AppendVarint(dst, bucketOffset(f, tns))
		dst = binary.AppendUvarint(dst, uint64(len(f.Stat)))
		dst = append(dst, f.Stat...)
	}
	return dst
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
	r, err := openBatch(data, lim)
	if err != nil {
		return err
	}
	body := r // the second pass starts here
	shape := validateBody(&r, lim)
	if err := r.Finish(); err != nil {
		return wireError(r.Failure())
	}
	return shape.decode(&body, data, b)
}

// openBatch checks a batch's frame (size, magic, version, flags, body
// length and checksum) and returns a reader of its body, at the body's
// offset in data.
func openBatch(data []byte, lim Limits) (wire.Reader, error) {
	if len(data) > lim.MaxBatch {
		return wire.Reader{}, fmt.Errorf("fragment: batch of %d bytes exceeds %d: %w", len(data), lim.MaxBatch, ErrLimit)
	}
	if len(data) < headerLen+1+crcLen {
		return wire.Reader{}, fmt.Errorf("fragment: %d bytes, shorter than the smallest batch: %w", len(data), ErrCorrupt)
	}
	if string(data[:len(Magic)]) != Magic {
		return wire.Reader{}, fmt.Errorf("fragment: bad magic %q: %w", data[:len(Magic)], ErrCorrupt)
	}
	if v := data[len(Magic)]; v != Version {
		return wire.Reader{}, fmt.Errorf("fragment: format version %d, want %d: %w", v, Version, ErrVersion)
	}
	if fl := data[len(Magic)+1]; fl != 0 {
		return wire.Reader{}, fmt.Errorf("fragment: unknown flags %#02x: %w", fl, ErrVersion)
	}
	end := len(data) - crcLen
	r := wire.NewReader(data[:end])
	r.Bytes("header", headerLen)
	size := r.Uvarint("body length")
	if r.Failed() {
		return wire.Reader{}, wireError(r.Failure())
	}
	if want := uint64(r.Remaining()); size != want {
		return wire.Reader{}, fmt.Errorf("fragment: body length %d, but %d bytes hold body and checksum: %w", size, r.Remaining()+crcLen, ErrCorrupt)
	}
	if got, want := crc32.Checksum(data[:end], castagnoli), binary.LittleEndian.Uint32(data[end:]); got != want {
		return wire.Reader{}, fmt.Errorf("fragment: crc-32c %#08x, batch says %#08x: %w", got, want, ErrChecksum)
	}
	return r, nil
}

// wireError wraps a body read's failure in the package's sentinel for its
// class: ErrLimit for limits, ErrCorrupt for the rest.
func wireError(e *wire.Error) error {
	sentinel := ErrCorrupt
	if e.Class == wire.Limit {
		sentinel = ErrLimit
	}
	return fmt.Errorf("fragment: at byte %d: %s: %w", e.Off, e.Msg, sentinel)
}

// bodyShape is what validateBody measured: the counts of each table and the
// bytes the decoded names and stats take.
type bodyShape struct {
	nw, ne, nf         int
	srcLen             int
	namesLen, statsLen int
}

// validateBody reads the whole body, checking every count, length, index
// and kind, without allocating.
func validateBody(r *wire.Reader, lim Limits) bodyShape {
	var sh bodyShape
	sh.srcLen = len(r.LenBytes("source", lim.MaxName))
	r.Uvarint("seq")
	r.Varint("time")
	sh.nw = r.Len("width count", uint64(lim.MaxFragments), 1)
	for range sh.nw {
		off := r.Offset()
		if w := r.Uvarint("width"); !r.Failed() && (w == 0 || w > math.MaxInt64) {
			r.FailAt(off, wire.Corrupt, "width %d is outside 1 … 2⁶³−1", w)
		}
	}
	sh.ne = r.Len("entry count", uint64(lim.MaxFragments), 4)
	sh.namesLen = sh.srcLen
	prevLen := 0
	for range sh.ne {
		off := r.Offset()
		if k := stat.Kind(r.Byte("kind")); !r.Failed() && !k.Valid() {
			r.FailAt(off, wire.Corrupt, "invalid kind tag %d", k)
		}
		index(r, "width index", sh.nw)
		shared := index(r, "shared name prefix", prevLen+1)
		n := len(r.LenBytes("name suffix", lim.MaxName-shared))
		sh.namesLen += shared + n
		prevLen = shared + n
	}
	sh.nf = r.Len("fragment count", uint64(lim.MaxFragments), 5)
	for range sh.nf {
		index(r, "entry index", sh.ne)
		r.Varint("bucket offset")
		off := r.Offset()
		n := len(r.LenBytes("stat", math.MaxInt))
		if !r.Failed() && n < 2 {
			r.FailAt(off, wire.Corrupt, "stat of %d bytes", n)
		}
		sh.statsLen += n
	}
	return sh
}

// index reads a uvarint index below n; beyond it is corrupt.
func index(r *wire.Reader, what string, n int) int {
	off := r.Offset()
	i := r.Uvarint(what)
	switch {
	case r.Failed():
	case n == 0:
		r.FailAt(off, wire.Corrupt, "%s with nothing to index", what)
	case i >= uint64(n):
		r.FailAt(off, wire.Corrupt, "%s %d exceeds %d", what, i, n-1)
	default:
		return int(i)
	}
	return 0
}

// decode reads a body that validateBody accepted into owned memory: the
// names into one string and the stats' bytes into one buffer. r is at the
// body's start.
func (sh bodyShape) decode(r *wire.Reader, data []byte, b *Batch) error {
	names := make([]byte, 0, sh.namesLen)
	names = append(names, r.LenBytes("source", math.MaxInt)...)
	seq := r.Uvarint("seq")
	tns := r.Varint("time")
	r.Uvarint("width count")
	widths := make([]int64, sh.nw)
	for i := range widths {
		widths[i] = int64(r.Uvarint("width"))
	}
	type entry struct {
		kind       stat.Kind
		width      int64
		nameOff, n int
	}
	entries := make([]entry, sh.ne)
	r.Uvarint("entry count")
	prevLen := 0
	for i := range entries {
		e := &entries[i]
		e.kind = stat.Kind(r.Byte("kind"))
		e.width = widths[r.Uvarint("width index")]
		shared := int(r.Uvarint("shared name prefix"))
		suffix := r.LenBytes("name suffix", math.MaxInt)
		prevOff := len(names) - prevLen
		e.nameOff, e.n = len(names), shared+len(suffix)
		names = append(names, names[prevOff:prevOff+shared]...)
		names = append(names, suffix...)
		prevLen = e.n
	}
	namesStr := string(names)
	stats := make([]byte, 0, sh.statsLen)
	frags := b.Fragments[:0]
	if cap(frags) < sh.nf {
		frags = make([]Fragment, 0, sh.nf)
	}
	r.Uvarint("fragment count")
	for range sh.nf {
		e := entries[r.Uvarint("entry index")]
		off := r.Varint("bucket offset")
		st := r.LenBytes("stat", math.MaxInt)
		name := namesStr[e.nameOff : e.nameOff+e.n]
		bucket, ok := addBucket(floorDiv(tns, e.width), off, e.width)
		if !ok {
			return fmt.Errorf("fragment: bucket offset %d at width %d ns is outside the years 1678–2262: %w", off, e.width, ErrCorrupt)
		}
		if st[0] != byte(e.kind) {
			return fmt.Errorf("fragment: %q of kind %s: stat tag %d: %w", name, e.kind, st[0], ErrCorrupt)
		}
		s := len(stats)
		stats = append(stats, st...)
		frags = append(frags, Fragment{
			Name:  name,
			Kind:  e.kind,
			Start: time.Unix(0, bucket*e.width).UTC(),
			Width: time.Duration(e.width),
			Stat:  stats[s:len(stats):len(stats)],
		})
	}
	*b = Batch{Source: namesStr[:sh.srcLen], Seq: seq, Time: time.Unix(0, tns).UTC(), Fragments: frags}
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

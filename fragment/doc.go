// Package fragment is the wire format between receivers and mergers: the
// versioned binary batch of stat deltas a receiver sends to a merger
// shard.
//
// The common path is one call each way. A receiver calls [Sender.Cut] at
// every flush: it cuts the deltas of its set, advances the set's manual
// clock, and returns one encoded batch per merger shard, numbered per
// source. A merger calls [Applier.Apply] on each batch it receives: it
// decodes it, drops it if it has seen (Source, Seq) before, applies every
// fragment to its set, and says what it did ([ApplyResult]):
//
//	// receiver, every flush
//	batches, err := sender.Cut(set, time.Now(), batches)
//	for shard, b := range batches { bus.Publish(shard, b) }
//
//	// merger, each tick, then for each batch
//	set.Advance(time.Now())
//	res, err := applier.Apply(b)
//	snap, err := set.Snapshot(set.Settled(flush + grace))
//
// Underneath, and for other transports, the steps are separate: a
// receiver cuts its windows ([window.Set.Cut]), groups the deltas by
// merger shard ([Shard], [Batches]) and sends each [Batch] as bytes
// ([Batch.AppendBinary]); a merger decodes a batch
// ([Batch.UnmarshalBinary]), drops it if it has seen (Source, Seq) before
// ([Seen]), and applies each [Fragment] ([Fragment.Delta], then
// [window.Set.Apply]). Stats' bytes are decoded once, at the merger.
//
// Time: a batch carries the time of its cut, for a merger to see how far
// each receiver has got; a merger never sets its clock from it. Its clock
// is its own (see package window, section Clock): Apply into a set whose
// clock is unset is an error, and the batch is kept unseen for a retry.
//
// # Batch format, version 1
//
// This is the specification; a second implementation that follows it
// interoperates. [uvarint] is an unsigned LEB128 varint and [varint] a
// zig-zag signed one, exactly as encoding/binary's AppendUvarint and
// AppendVarint write them, at most 10 bytes. Encoders write the shortest
// form; decoders accept any form of at most 10 bytes.
//
//	[4 bytes]  magic "PLSB" (0x50 0x4C 0x53 0x42)
//	[byte]     format version: 1
//	[byte]     flags: 0. Version 1 defines no flags; a decoder rejects any
//	           set bit as an unknown version (ErrVersion)
//	[uvarint]  L, the body length in bytes. The whole batch is exactly
//	           6 + len(this uvarint) + L + 4 bytes, at most MaxBatch
//	           (default 16 MiB)
//	body, L bytes:
//	  [uvarint]  source length, ≤ MaxName (default 256)
//	  [bytes]    source: the receiver's identity
//	  [uvarint]  seq: the cut's sequence number, increasing per source
//	  [varint]   time: the cut's time in Unix nanoseconds
//	  [uvarint]  W, the number of widths
//	  W × [uvarint] width in nanoseconds, ≥ 1 and ≤ 2⁶³−1
//	  [uvarint]  N, the number of name entries, ≤ MaxFragments (default
//	             100 000)
//	  N × entry:
//	    [byte]     kind tag (stat.Kind), a valid kind
//	    [uvarint]  width index, < W
//	    [uvarint]  shared: how many leading bytes the name shares with the
//	               previous entry's name, ≤ that name's length (0 for the
//	               first entry)
//	    [uvarint]  suffix length; shared + suffix length ≤ MaxName
//	    [bytes]    suffix: the name is the previous name's first shared
//	               bytes followed by the suffix
//	  [uvarint]  F, the number of fragments, ≤ MaxFragments
//	  F × fragment:
//	    [uvarint]  entry index, < N: the fragment's name, kind and width
//	    [varint]   bucket offset: start ÷ width − ⌊time ÷ width⌋, so the
//	               bucket start is (⌊time ÷ width⌋ + offset) × width
//	               nanoseconds, which must fit in an int64
//	    [uvarint]  stat length, ≥ 2
//	    [bytes]    the stat's own binary encoding (see package stat); its
//	               first byte is the entry's kind tag
//	[4 bytes]  CRC-32C (Castagnoli polynomial) of every byte before it,
//	           from the magic to the end of the body, little-endian
//
// The encoder writes widths and entries in the order of their first
// appearance among the fragments, fragments in the batch's order, and
// each entry's shared count as the longest common prefix with the
// previous name, so the same batch always encodes to the same bytes.
//
// A decoder checks, in order: the size against MaxBatch (ErrLimit), the
// magic (ErrCorrupt), the version and flags (ErrVersion), the body length
// against the input (ErrCorrupt), and the checksum (ErrChecksum). Only then
// does it read the body, checking each count and length against its limit
// (ErrLimit for names and counts) and against the bytes that remain
// (ErrCorrupt: a count may claim no more elements than the rest could hold
// at the smallest element size, 1 byte per width, 4 per entry and 5 per
// fragment), every index and shared count against what precedes it, and
// that no bytes remain. It
// allocates only after the whole body has been validated, and then a
// constant number of times: the stats' bytes (at most the input's size),
// the names (at most N × MaxName bytes, since front coding lets a short
// entry repeat a long prefix: 25.6 MB at the default limits), N entries of
// 40 bytes and F fragments of 80 bytes. The stats' bytes are not decoded here;
// [Fragment.Delta] decodes them.
//
// Design note: names are the largest part of a fragment's overhead. A
// batch names each (name, kind, width) once in a table, and each fragment
// refers to it by index. The table is front-coded (each name stores only
// what differs from the previous one), which pays off because a cut lists
// its stats in name order ([window.Set.Cut]) and related stats share
// prefixes ("router.status.2xx", "router.status.5xx"). A bucket start is
// an offset in bucket widths from the cut's time: one byte for every
// bucket within 64 widths of the cut. A fragment then costs 3 bytes beyond
// its stat's own bytes (index, offset, length, for the first 128 entries
// and stats under 128 bytes), plus its share of the table (4 bytes and
// the name's new suffix per distinct name). The benchmarks in
// bench_test.go report it as overhead-B/frag; see BENCHMARKS.md.
//
// Design note: the checksum covers the header too, so a flipped bit
// anywhere is caught: in the magic, version, flags or length as a
// malformed batch, elsewhere as a checksum mismatch. The version is
// checked before the checksum, so a later version is free to change the
// checksum or the framing after the version byte.
//
// # Compatibility
//
// A version-1 batch will decode with every later release of this module:
// testdata/batch-v1.bin is decoded by the tests of every release. A change
// to the format gets a new version number, and decoders keep reading
// every earlier version. Flags are reserved for additions a version-1
// decoder may not ignore. The stats' own encodings are versioned by
// package stat, separately. [Shard] is part of the contract too: its hash
// (64-bit FNV-1a of the name's bytes, modulo n) never changes.
//
// # Concurrency
//
// Values are owned by one goroutine and are not safe for concurrent use,
// except [Seen], which is.
package fragment

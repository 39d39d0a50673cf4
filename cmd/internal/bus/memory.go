package bus

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// DefaultMaxEntries caps each stream of a Memory by default: far more
	// than a receiver flushing every second leaves in DefaultRetention.
	DefaultMaxEntries = 10_000
	// DefaultMaxBytes caps each stream of a Memory by default: 64 MiB.
	DefaultMaxBytes = 64 << 20
)

// MemoryOptions configures a Memory. Zero fields mean defaults.
type MemoryOptions struct {
	// Retention is how long a batch stays readable. Zero means
	// DefaultRetention.
	Retention time.Duration
	// SnapshotRetention is how long a snapshot stays readable. Zero means
	// DefaultSnapshotRetention.
	SnapshotRetention time.Duration
	// MaxEntries caps the entries of each stream; the oldest beyond it are
	// evicted. Zero means DefaultMaxEntries.
	MaxEntries int
	// MaxBytes caps the payload bytes of each stream; the oldest beyond it
	// are evicted. Zero means DefaultMaxBytes. It must be at least
	// MaxMessage.
	MaxBytes int64
	// MaxMessage is the largest payload accepted. Zero means
	// DefaultMaxMessage.
	MaxMessage int
}

// MemoryStats counts what a Memory holds and what it dropped.
type MemoryStats struct {
	// Entries and Bytes are what the streams hold now, expired entries
	// that no call has trimmed yet included.
	Entries int
	Bytes   int64
	// Expired counts entries dropped for their age, as retention says.
	Expired uint64
	// Evicted counts entries dropped before their time because a stream
	// went over MaxEntries or MaxBytes: the overflow a role should log.
	Evicted uint64
}

// Memory is the in-process Bus: the reference implementation and the
// all-in-one's default. Each stream is a slice of entries capped by age,
// by entry count and by bytes, so a Memory holds at most
// (shards in use + 1) × MaxBytes of payload. Blocked reads wake when an entry is
// published to their stream.
//
// Publishing copies the payload. Reads return the stored bytes without
// copying: every reader shares them and none may modify them.
//
// A Memory is safe for use by multiple goroutines.
type Memory struct {
	opt     MemoryOptions
	done    chan struct{} // closed by Close
	closed  atomic.Bool
	expired atomic.Uint64
	evicted atomic.Uint64

	mu      sync.Mutex
	batches map[int]*stream
	snaps   *stream
}

var _ Bus = (*Memory)(nil)

// NewMemory returns an empty Memory, or an error wrapping ErrInvalid for
// negative options or MaxBytes below MaxMessage.
func NewMemory(opt MemoryOptions) (*Memory, error) {
	if opt.Retention < 0 || opt.SnapshotRetention < 0 || opt.MaxEntries < 0 || opt.MaxBytes < 0 || opt.MaxMessage < 0 {
		return nil, fmt.Errorf("bus: memory options %+v: negative: %w", opt, ErrInvalid)
	}
	if opt.Retention == 0 {
		opt.Retention = DefaultRetention
	}
	if opt.SnapshotRetention == 0 {
		opt.SnapshotRetention = DefaultSnapshotRetention
	}
	if opt.MaxEntries == 0 {
		opt.MaxEntries = DefaultMaxEntries
	}
	if opt.MaxBytes == 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	if opt.MaxMessage == 0 {
		opt.MaxMessage = DefaultMaxMessage
	}
	if opt.MaxBytes < int64(opt.MaxMessage) {
		return nil, fmt.Errorf("bus: memory MaxBytes %d below MaxMessage %d: %w", opt.MaxBytes, opt.MaxMessage, ErrInvalid)
	}
	m := &Memory{
		opt:     opt,
		done:    make(chan struct{}),
		batches: make(map[int]*stream),
	}
	m.snaps = m.newStream(opt.SnapshotRetention)
	return m, nil
}

// PublishBatch implements Bus.
func (m *Memory) PublishBatch(ctx context.Context, shard int, b []byte) error {
	const op = "memory publish batch"
	if err := m.check(ctx, op, len(b)); err != nil {
		return err
	}
	if err := checkShard(op, shard); err != nil {
		return err
	}
	m.batchStream(shard).append(time.Now(), shard, b)
	return nil
}

// ReadBatches implements Bus.
func (m *Memory) ReadBatches(ctx context.Context, shard int, after string, max int, block time.Duration) ([]Message, error) {
	const op = "memory read batches"
	if err := m.check(ctx, op, 0); err != nil {
		return nil, err
	}
	if err := checkShard(op, shard); err != nil {
		return nil, err
	}
	p, err := checkRead(op, after, max)
	if err != nil {
		return nil, err
	}
	return m.batchStream(shard).read(ctx, op, p, max, block)
}

// PublishSnapshot implements Bus.
func (m *Memory) PublishSnapshot(ctx context.Context, shard int, snap []byte) error {
	const op = "memory publish snapshot"
	if err := m.check(ctx, op, len(snap)); err != nil {
		return err
	}
	if err := checkShard(op, shard); err != nil {
		return err
	}
	m.snaps.append(time.Now(), shard, snap)
	return nil
}

// ReadSnapshots implements Bus.
func (m *Memory) ReadSnapshots(ctx context.Context, after string, max int, block time.Duration) ([]Message, error) {
	const op = "memory read snapshots"
	if err := m.check(ctx, op, 0); err != nil {
		return nil, err
	}
	p, err := checkRead(op, after, max)
	if err != nil {
		return nil, err
	}
	return m.snaps.read(ctx, op, p, max, block)
}

// Close drops every stream and wakes blocked reads, which return
// ErrClosed.
func (m *Memory) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	close(m.done)
	m.mu.Lock()
	streams := make([]*stream, 0, len(m.batches)+1)
	for _, s := range m.batches {
		streams = append(streams, s)
	}
	streams = append(streams, m.snaps)
	m.mu.Unlock()
	for _, s := range streams {
		s.mu.Lock()
		s.entries, s.head, s.bytes = nil, 0, 0
		s.mu.Unlock()
	}
	return nil
}

// Stats returns the Memory's counters. Entries and Bytes are read stream
// by stream, so under concurrent publishing they are approximate.
func (m *Memory) Stats() MemoryStats {
	m.mu.Lock()
	streams := make([]*stream, 0, len(m.batches)+1)
	for _, s := range m.batches {
		streams = append(streams, s)
	}
	streams = append(streams, m.snaps)
	m.mu.Unlock()
	st := MemoryStats{Expired: m.expired.Load(), Evicted: m.evicted.Load()}
	for _, s := range streams {
		s.mu.Lock()
		st.Entries += len(s.entries) - s.head
		st.Bytes += s.bytes
		s.mu.Unlock()
	}
	return st
}

// check returns the error for a done ctx, a closed bus or a payload of n
// bytes over MaxMessage.
func (m *Memory) check(ctx context.Context, op string, n int) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bus: %s: %w", op, err)
	}
	if m.closed.Load() {
		return fmt.Errorf("bus: %s: %w", op, ErrClosed)
	}
	return checkSize(op, n, m.opt.MaxMessage)
}

func (m *Memory) batchStream(shard int) *stream {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.batches[shard]
	if s == nil {
		s = m.newStream(m.opt.Retention)
		m.batches[shard] = s
	}
	return s
}

func (m *Memory) newStream(retention time.Duration) *stream {
	return &stream{m: m, retention: retention, wake: make(chan struct{})}
}

// stream is one stream of a Memory: entries[head:] in position order.
type stream struct {
	m         *Memory
	retention time.Duration

	mu      sync.Mutex
	entries []entry
	head    int
	bytes   int64
	last    pos           // the last position handed out, kept across trims
	wake    chan struct{} // closed and replaced by every append
}

type entry struct {
	pos pos
	msg Message
}

// append stores a copy of b at the next position: Redis's rule, the
// current millisecond with seq 0, or the last position's successor when
// the clock has not moved past it.
func (s *stream) append(now time.Time, shard int, b []byte) {
	data := make([]byte, len(b))
	copy(data, b)
	p := pos{}
	if ms := now.UnixMilli(); ms > 0 {
		p.ms = uint64(ms)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.last.less(p) {
		p = s.last.next()
	}
	s.last = p
	s.entries = append(s.entries, entry{pos: p, msg: Message{ID: p.String(), Shard: shard, Data: data}})
	s.bytes += int64(len(data))
	s.trim(now)
	for len(s.entries)-s.head > s.m.opt.MaxEntries || s.bytes > s.m.opt.MaxBytes {
		s.drop()
		s.m.evicted.Add(1)
	}
	close(s.wake)
	s.wake = make(chan struct{})
}

// trim drops the entries older than retention at now. s.mu is held.
func (s *stream) trim(now time.Time) {
	c := cutoff(now, s.retention)
	for s.head < len(s.entries) && s.entries[s.head].pos.less(c) {
		s.drop()
		s.m.expired.Add(1)
	}
}

// drop removes the oldest entry, compacting the slice once half of it is
// dropped. s.mu is held.
func (s *stream) drop() {
	s.bytes -= int64(len(s.entries[s.head].msg.Data))
	s.entries[s.head] = entry{}
	s.head++
	if s.head == len(s.entries) {
		s.entries, s.head = s.entries[:0], 0
	} else if s.head >= 64 && s.head*2 >= len(s.entries) {
		n := copy(s.entries, s.entries[s.head:])
		clear(s.entries[n:])
		s.entries, s.head = s.entries[:n], 0
	}
}

// read returns up to max entries after p, waiting up to block for one.
func (s *stream) read(ctx context.Context, op string, p pos, max int, block time.Duration) ([]Message, error) {
	var timer *time.Timer
	for {
		s.mu.Lock()
		s.trim(time.Now())
		live := s.entries[s.head:]
		i := sort.Search(len(live), func(i int) bool { return p.less(live[i].pos) })
		if n := min(len(live)-i, max); n > 0 {
			out := make([]Message, n)
			for j := range out {
				out[j] = live[i+j].msg
			}
			s.mu.Unlock()
			return out, nil
		}
		wake := s.wake
		s.mu.Unlock()

		if block <= 0 {
			return nil, nil
		}
		if timer == nil {
			timer = time.NewTimer(block)
			defer timer.Stop()
		}
		select {
		case <-wake:
		case <-timer.C:
			return nil, nil
		case <-ctx.Done():
			return nil, fmt.Errorf("bus: %s: %w", op, ctx.Err())
		case <-s.m.done:
			return nil, fmt.Errorf("bus: %s: %w", op, ErrClosed)
		}
	}
}

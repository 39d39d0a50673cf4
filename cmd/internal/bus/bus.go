package bus

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Message is one entry of a stream: its position and its bytes.
type Message struct {
	// ID is the entry's position, "<ms>-<seq>". Pass it as the after
	// argument of the next read to continue after this entry.
	ID string
	// Shard is the batch stream's shard, or the shard of the merger that
	// published a snapshot (-1 for an entry in Redis that another writer
	// added without one, or with one outside [0, MaxShards)).
	Shard int
	// Data is the payload as published. It must not be modified.
	Data []byte
}

// Bus carries fragment batches from receivers to merger shards, and
// snapshots from mergers to webs. Implementations are safe for use by
// multiple goroutines.
type Bus interface {
	// PublishBatch appends an encoded fragment batch to shard's stream.
	// The bus copies b.
	PublishBatch(ctx context.Context, shard int, b []byte) error
	// ReadBatches returns up to max batches of shard's stream after
	// position after ([Start] for the oldest retained, [At](t) for the
	// first stored at or after t), oldest first. When there are none it
	// blocks up to block for at least one; on timeout it returns no
	// messages and a nil error, and block ≤ 0 does not block. It returns
	// ctx.Err() promptly once ctx is done. A read holds up to max
	// payloads of up to MaxMessage bytes each, so max bounds its memory.
	ReadBatches(ctx context.Context, shard int, after string, max int, block time.Duration) ([]Message, error)
	// PublishSnapshot publishes the JSON snapshot of merger shard. The
	// bus copies snap.
	PublishSnapshot(ctx context.Context, shard int, snap []byte) error
	// ReadSnapshots is ReadBatches for the snapshot stream, which every
	// merger shard publishes to.
	ReadSnapshots(ctx context.Context, after string, max int, block time.Duration) ([]Message, error)
	// Close releases the bus. Blocked reads return ErrClosed, as does
	// every later call. Closing twice is not an error.
	Close() error
}

// Start is the position before every entry: a read after Start returns
// the oldest entry retained.
const Start = "0-0"

const (
	// DefaultRetention is how long a batch stays readable by default:
	// a merger's longest span (1 min), its lateness (5 s) and a margin
	// for a merger restart and clock skew.
	DefaultRetention = 3 * time.Minute
	// DefaultSnapshotRetention is how long a snapshot stays readable by
	// default: the web's 10 minutes of history plus 1 min.
	DefaultSnapshotRetention = 11 * time.Minute
	// DefaultMaxMessage is the largest batch or snapshot a bus accepts by
	// default, 16 MiB: fragment.DefaultMaxBatch and
	// window.MaxSnapshotJSON.
	DefaultMaxMessage = 16 << 20
	// MaxShards bounds shard numbers: a shard is in [0, MaxShards).
	MaxShards = 1024
)

var (
	// ErrInvalid is wrapped by errors for a bad argument: a shard out of
	// range, a malformed position, a max below 1, bad options.
	ErrInvalid = errors.New("invalid argument")
	// ErrTooLarge is wrapped by the error for a payload over the bus's
	// MaxMessage.
	ErrTooLarge = errors.New("message too large")
	// ErrClosed is wrapped by the error of any call on a closed bus.
	ErrClosed = errors.New("bus closed")
)

// At returns the position just before the first entry stored at or after
// t: a read after At(t) returns the entries stored in the millisecond
// that holds t and later. A zero t, or one at or before the Unix epoch,
// gives Start.
func At(t time.Time) string {
	if t.IsZero() {
		return Start
	}
	ms := t.UnixMilli()
	if ms <= 0 {
		return Start
	}
	return pos{ms: uint64(ms)}.prev().String()
}

// PositionTime returns the time a position names: the millisecond of an
// entry's ID. It returns an error wrapping ErrInvalid for a malformed
// position.
func PositionTime(p string) (time.Time, error) {
	q, err := parsePos(p)
	if err != nil {
		return time.Time{}, fmt.Errorf("bus: %w", err)
	}
	if q.ms > math.MaxInt64 {
		return time.Time{}, fmt.Errorf("bus: position %q: time out of range: %w", p, ErrInvalid)
	}
	return time.UnixMilli(int64(q.ms)), nil
}

// pos is a parsed position.
type pos struct{ ms, seq uint64 }

func (p pos) less(q pos) bool { return p.ms < q.ms || p.ms == q.ms && p.seq < q.seq }

func (p pos) String() string {
	var b [41]byte
	return string(p.append(b[:0]))
}

func (p pos) append(b []byte) []byte {
	b = strconv.AppendUint(b, p.ms, 10)
	b = append(b, '-')
	return strconv.AppendUint(b, p.seq, 10)
}

// next returns the smallest position after p.
func (p pos) next() pos {
	if p.seq == math.MaxUint64 {
		return pos{ms: p.ms + 1}
	}
	return pos{ms: p.ms, seq: p.seq + 1}
}

// prev returns the largest position before p, which is not Start.
func (p pos) prev() pos {
	if p.seq == 0 {
		return pos{ms: p.ms - 1, seq: math.MaxUint64}
	}
	return pos{ms: p.ms, seq: p.seq - 1}
}

// parsePos reads "<ms>-<seq>" or "<ms>" (seq 0), as XREAD does. The
// special IDs of Redis ("$", "+", ">") are not positions.
func parsePos(s string) (pos, error) {
	ms, seq := s, ""
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			ms, seq = s[:i], s[i+1:]
			if seq == "" {
				return pos{}, fmt.Errorf("position %q: %w", s, ErrInvalid)
			}
			break
		}
	}
	var p pos
	var err error
	if p.ms, err = parseDigits(ms); err != nil {
		return pos{}, fmt.Errorf("position %q: %w", s, ErrInvalid)
	}
	if seq != "" {
		if p.seq, err = parseDigits(seq); err != nil {
			return pos{}, fmt.Errorf("position %q: %w", s, ErrInvalid)
		}
	}
	return p, nil
}

// parseDigits parses a non-empty run of decimal digits that fits in a
// uint64; unlike strconv.ParseUint it refuses signs and underscores.
func parseDigits(s string) (uint64, error) {
	if s == "" || len(s) > 20 {
		return 0, ErrInvalid
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, ErrInvalid
		}
	}
	return strconv.ParseUint(s, 10, 64)
}

// cutoff returns the position before which entries are older than
// retention at now: the smallest position of millisecond now − retention.
func cutoff(now time.Time, retention time.Duration) pos {
	ms := now.Add(-retention).UnixMilli()
	if ms <= 0 {
		return pos{}
	}
	return pos{ms: uint64(ms)}
}

// checkShard returns an error wrapping ErrInvalid for a shard outside
// [0, MaxShards).
func checkShard(op string, shard int) error {
	if shard < 0 || shard >= MaxShards {
		return fmt.Errorf("bus: %s: shard %d outside [0, %d): %w", op, shard, MaxShards, ErrInvalid)
	}
	return nil
}

// checkRead validates a read's arguments and returns the parsed position.
func checkRead(op string, after string, max int) (pos, error) {
	if max < 1 {
		return pos{}, fmt.Errorf("bus: %s: max %d below 1: %w", op, max, ErrInvalid)
	}
	p, err := parsePos(after)
	if err != nil {
		return pos{}, fmt.Errorf("bus: %s: %w", op, err)
	}
	return p, nil
}

// checkSize returns an error wrapping ErrTooLarge for n > limit.
func checkSize(op string, n, limit int) error {
	if n > limit {
		return fmt.Errorf("bus: %s: %d bytes exceed %d: %w", op, n, limit, ErrTooLarge)
	}
	return nil
}

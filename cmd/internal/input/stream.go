package input

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"golang.org/x/time/rate"
)

// streamConfig is what reading one stream connection needs.
type streamConfig struct {
	maxFrame    int
	readTimeout time.Duration
	flushAfter  time.Duration
	queueWait   time.Duration // ≤ 0: drop at once
}

// streamCounters are the counters a stream input adds to.
type streamCounters struct {
	jobs, bytes, overlong        counter
	dropped, droppedBytes, lines counter
	readTimeouts, connErrors     counter
}

// A stream reads connections of one input (syslog or aorta) into jobs.
type stream struct {
	input   string
	cfg     streamConfig
	c       streamCounters
	q       *Queue
	st      *Stats
	log     *slog.Logger
	dropLog *rate.Sometimes // the log lines of drops
}

// errIdle is what read returns when a connection timed out.
var errIdle = errors.New("read timeout")

// read reads conn until it ends, handing its records to the queue: a job
// at least every flushAfter while data comes, and one whenever maxFrame
// bytes are pending. It returns nil when the peer closed the connection or
// conn was closed (as at shutdown), errIdle after readTimeout without a
// complete record, or the read error. Whatever is pending at the end is
// handed over.
//
// Only a read that completes a frame or line (or a piece of one over
// maxFrame) moves the read timeout on, so a sender that trickles bytes
// without ever finishing one (a slowloris: one byte a second keeps every
// per-read deadline) is closed after readTimeout as a silent one is.
// Senders write whole records, and the rest of one split by TCP comes
// within milliseconds.
func (s *stream) read(ctx context.Context, conn net.Conn) error {
	ch := newChunker(s.input, s.cfg.maxFrame, time.Now())
	defer ch.close()
	var deadline time.Time
	for {
		want := ch.last.Add(s.cfg.readTimeout)
		if !ch.since.IsZero() {
			if f := ch.since.Add(s.cfg.flushAfter); f.Before(want) {
				want = f
			}
		}
		if !want.Equal(deadline) {
			if err := conn.SetReadDeadline(want); err != nil {
				s.end(ctx, ch)
				if errors.Is(err, net.ErrClosed) {
					return nil
				}
				return err
			}
			deadline = want
		}
		n, err := conn.Read(ch.space())
		now := time.Now()
		if n > 0 {
			ch.grow(n, now)
			if ch.due() || now.Sub(ch.since) >= s.cfg.flushAfter {
				s.cut(ctx, ch, now, false)
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded) && now.Before(ch.last.Add(s.cfg.readTimeout)):
			s.cut(ctx, ch, now, true) // the idle flush
		case errors.Is(err, os.ErrDeadlineExceeded):
			s.end(ctx, ch)
			s.st.add(s.c.readTimeouts, 1)
			return errIdle
		case err == io.EOF || errors.Is(err, net.ErrClosed):
			s.end(ctx, ch)
			return nil
		default:
			s.end(ctx, ch)
			s.st.add(s.c.connErrors, 1)
			return err
		}
	}
}

// cut hands over the whole records pending; idle says the stream is
// quiet (see chunker.cut).
func (s *stream) cut(ctx context.Context, ch *chunker, now time.Time, idle bool) {
	if j, ok, overlong := ch.cut(now, idle); ok {
		if overlong {
			s.st.add(s.c.overlong, 1)
		}
		s.deliver(ctx, j)
	}
}

// end hands over everything pending, at the end of a connection.
func (s *stream) end(ctx context.Context, ch *chunker) {
	if j, ok := ch.rest(time.Now()); ok {
		s.deliver(ctx, j)
	}
}

// deliver queues j, waiting up to queueWait for room, or drops it and
// counts the drop.
func (s *stream) deliver(ctx context.Context, j Job) {
	n := int64(len(j.Data))
	if s.q.TryPut(j) || s.wait(ctx, j) {
		s.st.add(s.c.jobs, 1)
		s.st.add(s.c.bytes, n)
		return
	}
	s.st.add(s.c.dropped, 1)
	s.st.add(s.c.droppedBytes, n)
	s.st.add(s.c.lines, int64(j.records))
	j.Release()
	s.dropLog.Do(func() {
		s.log.Warn(s.input+": queue full, dropping", "queue_jobs", s.q.Len(), "queue_bytes", s.q.Bytes(), "dropped_total", s.st.c[s.c.dropped].Load())
	})
}

// wait waits up to queueWait to queue j.
func (s *stream) wait(ctx context.Context, j Job) bool {
	if s.cfg.queueWait <= 0 || ctx.Err() != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.queueWait)
	defer cancel()
	return s.q.Put(ctx, j) == nil
}

package input

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/pulsehq/pulse/logfmt"
)

// filePoll is how often a followed file is looked at again after its end.
const filePoll = 200 * time.Millisecond

// File reads the file at path, or stdin when path is "-", into jobs of
// whole frames and lines (Input InputFile) on q, cut as the package
// comment describes (a last line without a newline goes too), and counts
// in st what it does; log may be nil.
//
// Unlike the network inputs, File never drops a job: when the queue is
// full it waits for room, so that replaying a file loses nothing and
// reads only as fast as the workers fold.
//
// Without follow, File returns nil once it has handed over the whole file,
// or ctx's error when ctx is done first (what it had read is then handed
// over if the queue has room). With follow (ignored for stdin),
// it keeps reading as the file grows, looking again every 200 ms after its
// end, as tail -F does: when the file shrinks (truncated) or path names
// another file (rotated, after what was appended to the old one is read),
// it opens path again and reads from the start. A partial last line waits
// for its newline (a last octet-counted frame is taken at the file's end). It returns nil when ctx is done, and an error only when
// a read fails.
//
// A read from stdin that blocks is not interrupted when ctx is done
// unless stdin supports deadlines (a pipe opened non-blocking); File
// returns after that read.
func File(ctx context.Context, path string, follow bool, q *Queue, st *Stats, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fi := &fileInput{path: path, follow: follow, q: q, st: st, log: log}
	if path == "-" {
		fi.follow = false
		stop := context.AfterFunc(ctx, func() { os.Stdin.SetReadDeadline(time.Now()) })
		defer stop()
		return fi.run(ctx, os.Stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("input: %w", err)
	}
	defer func() { fi.f.Close() }()
	return fi.run(ctx, f)
}

// fileInput reads one file or stdin.
type fileInput struct {
	path   string
	follow bool
	q      *Queue
	st     *Stats
	log    *slog.Logger

	f   *os.File
	off int64 // bytes read from f
	ch  *chunker
}

// errStop ends run quietly: ctx is done while following.
var errStop = errors.New("stop")

func (fi *fileInput) run(ctx context.Context, f *os.File) error {
	fi.f = f
	fi.ch = newChunker(InputFile, logfmt.DefaultMaxFrame, time.Now())
	defer fi.ch.close()
	err := fi.loop(ctx)
	if ctx.Err() != nil {
		fi.rest(ctx) // what can go without waiting
	}
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

func (fi *fileInput) loop(ctx context.Context) error {
	var poll *time.Timer
	for {
		if err := fi.readToEOF(ctx); err != nil {
			return err
		}
		if !fi.follow {
			return fi.rest(ctx)
		}
		if j, ok, overlong := fi.ch.cut(time.Now(), true); ok {
			if err := fi.deliver(ctx, j, overlong); err != nil {
				return err
			}
		}
		if poll == nil {
			poll = time.NewTimer(filePoll)
			defer poll.Stop()
		} else {
			poll.Reset(filePoll)
		}
		select {
		case <-poll.C:
		case <-ctx.Done():
			return errStop
		}
		if err := fi.reopenIfChanged(ctx); err != nil {
			return err
		}
	}
}

// readToEOF reads until the end of the file, handing over jobs as the
// buffer fills.
func (fi *fileInput) readToEOF(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return fi.stopped(err)
		}
		n, err := fi.f.Read(fi.ch.space())
		if n > 0 {
			now := time.Now()
			fi.ch.grow(n, now)
			fi.off += int64(n)
			if fi.ch.due() {
				if j, ok, overlong := fi.ch.cut(now, false); ok {
					if err := fi.deliver(ctx, j, overlong); err != nil {
						return err
					}
				}
			}
		}
		switch {
		case err == nil:
		case err == io.EOF:
			return nil
		case errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil:
			return fi.stopped(ctx.Err()) // stdin, interrupted
		default:
			fi.rest(ctx)
			return fmt.Errorf("input: reading %s: %w", fi.name(), err)
		}
	}
}

// reopenIfChanged opens path again when the file was truncated or
// replaced. A path that is missing for now is looked at again next time.
func (fi *fileInput) reopenIfChanged(ctx context.Context) error {
	now, err := os.Stat(fi.path)
	if err != nil {
		return nil
	}
	cur, err := fi.f.Stat()
	if err == nil && os.SameFile(now, cur) && now.Size() >= fi.off {
		return nil
	}
	if err == nil && os.SameFile(now, cur) {
		fi.log.Info("file: truncated, reading again from the start", "path", fi.path)
	} else {
		// Rotated: what was written to the old file before it was
		// replaced is still to be read.
		if err := fi.readToEOF(ctx); err != nil {
			return err
		}
		fi.log.Info("file: replaced, opening the new one", "path", fi.path)
	}
	if err := fi.rest(ctx); err != nil {
		return err
	}
	f, err := os.Open(fi.path)
	if err != nil {
		return nil // gone again: keep the old one and look next time
	}
	fi.f.Close()
	fi.f, fi.off = f, 0
	fi.st.add(fileReopens, 1)
	return nil
}

// rest hands over everything pending.
func (fi *fileInput) rest(ctx context.Context) error {
	if j, ok := fi.ch.rest(time.Now()); ok {
		return fi.deliver(ctx, j, false)
	}
	return nil
}

// deliver queues j, waiting for room as long as ctx allows.
func (fi *fileInput) deliver(ctx context.Context, j Job, overlong bool) error {
	n, lines := len(j.Data), j.records
	if err := fi.q.Put(ctx, j); err != nil {
		j.Release()
		return fi.stopped(err)
	}
	fi.st.add(fileJobs, 1)
	fi.st.add(fileBytes, int64(n))
	fi.st.add(fileLines, int64(lines))
	if overlong {
		fi.st.add(fileOverlong, 1)
	}
	return nil
}

// stopped is the error to end with when ctx is done with err.
func (fi *fileInput) stopped(err error) error {
	if fi.follow {
		return errStop
	}
	return err
}

func (fi *fileInput) name() string {
	if fi.path == "-" {
		return "stdin"
	}
	return fi.path
}

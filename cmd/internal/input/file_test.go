package input

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/logfmt/logfmttest"
)

func TestFile(t *testing.T) {
	in := append(generate(2000, logfmttest.Lines), "last line, unterminated"...)
	path := filepath.Join(t.TempDir(), "drain.log")
	require.NoError(t, os.WriteFile(path, in, 0o600))
	q := NewQueue(QueueConfig{})
	var st Stats
	require.NoError(t, File(t.Context(), path, false, q, &st, nil))
	jobs := takeAll(q)
	assert.True(t, bytes.Equal(in, concat(jobs)), "jobs put together differ from the file")
	assert.Greater(t, len(jobs), 1)
	snap := st.Snapshot()
	assert.EqualValues(t, 2001, snap.FileLines)
	assert.EqualValues(t, len(in), snap.FileBytes)
	assert.EqualValues(t, len(jobs), snap.FileJobs)

	t.Run("missing", func(t *testing.T) {
		err := File(t.Context(), filepath.Join(t.TempDir(), "nope"), false, q, &st, nil)
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
	t.Run("empty", func(t *testing.T) {
		empty := filepath.Join(t.TempDir(), "empty")
		require.NoError(t, os.WriteFile(empty, nil, 0o600))
		require.NoError(t, File(t.Context(), empty, false, q, &st, nil))
		assert.Zero(t, q.Len())
	})
}

// TestFileBlocks replays a file through a queue of one job: File waits for
// the worker instead of dropping, and nothing is lost.
func TestFileBlocks(t *testing.T) {
	in := generate(20000, logfmttest.Lines) // several MB: many jobs
	path := filepath.Join(t.TempDir(), "big.log")
	require.NoError(t, os.WriteFile(path, in, 0o600))
	q := NewQueue(QueueConfig{Jobs: 1})
	var st Stats
	done := make(chan error, 1)
	go func() { done <- File(t.Context(), path, false, q, &st, nil) }()
	var out []byte
	for {
		select {
		case err := <-done:
			require.NoError(t, err)
			out = append(out, concat(takeAll(q))...)
			assert.True(t, bytes.Equal(in, out), "jobs put together differ from the file")
			assert.Greater(t, st.Snapshot().FileJobs, int64(10))
			return
		default:
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		if j, ok := q.Get(ctx); ok {
			assert.LessOrEqual(t, q.Len(), 1)
			out = append(out, j.Data...)
			j.Release()
		}
		cancel()
	}
}

func TestFileCancelWhileBlocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.log")
	require.NoError(t, os.WriteFile(path, generate(5000, logfmttest.Lines), 0o600))
	q := NewQueue(QueueConfig{Jobs: 1})
	stop := goRun(t, "File", func(ctx context.Context) error { return File(ctx, path, false, q, new(Stats), nil) })
	require.Eventually(t, func() bool { return q.Len() == 1 }, 2*time.Second, 10*time.Millisecond, "a full queue")
	assert.ErrorIs(t, stop(), context.Canceled, "stopped before the end of the file")
	takeAll(q)
}

func TestFileFollow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	require.NoError(t, os.WriteFile(path, []byte("one\ntwo\n"), 0o600))
	q := NewQueue(QueueConfig{})
	var st Stats
	stop := goRun(t, "File", func(ctx context.Context) error { return File(ctx, path, true, q, &st, nil) })

	var got strings.Builder
	expect := func(what, want string) {
		t.Helper()
		require.Eventually(t, func() bool {
			got.Write(concat(takeAll(q)))
			return got.String() == want
		}, 5*time.Second, 10*time.Millisecond, what)

	}
	appendTo := func(p, s string) {
		t.Helper()
		f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = f.WriteString(s)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
	expect("the first lines", "one\ntwo\n")
	appendTo(path, "three\npart")
	expect("the appended line", "one\ntwo\nthree\n")
	time.Sleep(3 * filePoll)
	assert.Equal(t, "one\ntwo\nthree\n", got.String()+string(concat(takeAll(q))), "a partial line waits for its newline")
	appendTo(path, "ial\n")
	expect("the completed line", "one\ntwo\nthree\npartial\n")

	// Truncated, then written again from the start.
	require.NoError(t, os.WriteFile(path, []byte("new\n"), 0o600))
	expect("the line after truncation", "one\ntwo\nthree\npartial\nnew\n")
	assert.EqualValues(t, 1, st.Snapshot().FileReopens)

	// Rotated: the old file gets a last line, then a new file takes its name.
	require.NoError(t, os.Rename(path, path+".1"))
	appendTo(path+".1", "old last\n")
	require.NoError(t, os.WriteFile(path, []byte("rotated\n"), 0o600))
	expect("the rotated file", "one\ntwo\nthree\npartial\nnew\nold last\nrotated\n")
	assert.EqualValues(t, 2, st.Snapshot().FileReopens)
	appendTo(path, "more\n")
	expect("lines appended to the new file", "one\ntwo\nthree\npartial\nnew\nold last\nrotated\nmore\n")

	assert.NoError(t, stop(), "following ends without error")
	assert.EqualValues(t, 8, st.Snapshot().FileLines)
}

func TestFileStdin(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old; r.Close() }()
	go func() {
		w.WriteString("a\nb\nc")
		w.Close()
	}()
	q := NewQueue(QueueConfig{})
	require.NoError(t, File(t.Context(), "-", true, q, new(Stats), nil), "follow is ignored for stdin")
	assert.Equal(t, "a\nb\nc", string(concat(takeAll(q))))

	t.Run("cancel", func(t *testing.T) {
		r, w, err := os.Pipe()
		require.NoError(t, err)
		defer w.Close()
		os.Stdin = r
		defer r.Close()
		stop := goRun(t, "File reading a pipe", func(ctx context.Context) error { return File(ctx, "-", false, q, new(Stats), nil) })
		w.WriteString("x\n")
		time.Sleep(20 * time.Millisecond)
		assert.ErrorIs(t, stop(), context.Canceled, "the read from the pipe is interrupted")
		assert.Equal(t, "x\n", string(concat(takeAll(q))), "what was read is handed over")
	})
}

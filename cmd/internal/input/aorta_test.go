package input

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAortaURL(t *testing.T) {
	f := func(raw, wantAddr, wantSecret, wantErr string) {
		t.Helper()
		addr, secret, err := parseAortaURL(raw)
		if wantErr != "" {
			require.Error(t, err, raw)
			assert.Contains(t, err.Error(), wantErr, raw)
			assert.NotContains(t, err.Error(), "s3cret", "the error shows the secret")
			return
		}
		require.NoError(t, err, raw)
		assert.Equal(t, wantAddr, addr, raw)
		assert.Equal(t, wantSecret, secret, raw)
	}
	f("aorta://s3cret@aorta.example.com:5000", "aorta.example.com:5000", "s3cret", "")
	f("aorta://s3cret@127.0.0.1:5000/", "127.0.0.1:5000", "s3cret", "")
	f("aorta://user:s3cret@[::1]:5000", "[::1]:5000", "user:s3cret", "")
	f("aorta://s%2Fcret@host:1", "host:1", "s/cret", "")
	f("http://s3cret@host:5000", "", "", `scheme "http" is not aorta`)
	f("s3cret@host:5000", "", "", "no scheme")
	f("s3cret@h://x@host:5000", "", "", "scheme is not aorta")
	f("AORTA://s3cret@host:5000", "host:5000", "s3cret", "") // schemes are case-insensitive
	f("aorta:s3cret@host:5000", "", "", "no scheme")
	f("aorta://host:5000", "", "", "no secret")
	f("aorta://@host:5000", "", "", "no secret")
	f("aorta://s3cret@host", "", "", "host must be host:port")
	f("aorta://s3cret@:5000", "", "", "host must be host:port")
	f("aorta://s3cret@host:5000/path", "", "", "unexpected path")
	f("aorta://s3cret@host:5000?q=1", "", "", "unexpected path")
	f("aorta://s3cret@host:5000\x7f", "", "", "input: aorta URL: ")
	f("aorta://s3cret@ho st:5000", "", "", "input: aorta URL: ")
}

func TestBackoff(t *testing.T) {
	b := backoff{min: 100 * time.Millisecond, max: 1 * time.Second}
	ceilings := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, c := range ceilings {
		c *= time.Millisecond
		d := b.next()
		assert.GreaterOrEqual(t, d, c/2, "wait %d", i)
		assert.LessOrEqual(t, d, c, "wait %d", i)
	}
	b.reset()
	assert.LessOrEqual(t, b.next(), 100*time.Millisecond)
}

// aortaServer accepts connections, checks each one's secret line and runs
// serve on it.
func aortaServer(t *testing.T, serve func(i int, conn net.Conn, secret string)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for i := 0; ; i++ {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				line, err := bufio.NewReader(conn).ReadString('\n')
				if err != nil {
					return
				}
				serve(i, conn, strings.TrimSuffix(line, "\n"))
			}()
		}
	}()
	return ln.Addr().String()
}

func runAorta(t *testing.T, url string, cfg AortaConfig, q *Queue, st *Stats) (stop func() error) {
	t.Helper()
	return goRun(t, "Aorta", func(ctx context.Context) error { return Aorta(ctx, url, cfg, q, st, nil) })
}

func TestAortaReconnects(t *testing.T) {
	secrets := make(chan string, 10)
	hold := make(chan struct{})
	defer close(hold)
	addr := aortaServer(t, func(i int, conn net.Conn, secret string) {
		secrets <- secret
		switch i {
		case 0:
			conn.Write([]byte("first 1\nfirst 2\n"))
			// and close
		default:
			conn.Write([]byte("second 1\n"))
			<-hold
		}
	})
	q := NewQueue(QueueConfig{})
	var st Stats
	stop := runAorta(t, "aorta://s3cret@"+addr, AortaConfig{MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, FlushAfter: 5 * time.Millisecond}, q, &st)
	require.Eventually(t, func() bool { return st.Snapshot().AortaBytes == int64(len("first 1\nfirst 2\nsecond 1\n")) }, 5*time.Second, 10*time.Millisecond, "both connections' lines")
	assert.Equal(t, "s3cret", <-secrets)
	assert.Equal(t, "s3cret", <-secrets)
	var got []string
	for {
		j, ok := q.TryGet()
		if !ok {
			break
		}
		assert.Equal(t, InputAorta, j.Input)
		got = append(got, string(j.Data))
		j.Release()
	}
	assert.Equal(t, "first 1\nfirst 2\nsecond 1\n", strings.Join(got, ""))
	snap := st.Snapshot()
	assert.EqualValues(t, 2, snap.AortaConnects)
	assert.EqualValues(t, 1, snap.AortaReconnects)
	assert.Zero(t, snap.AortaDialErrors)
	require.NoError(t, stop())
}

func TestAortaReadTimeout(t *testing.T) {
	hold := make(chan struct{})
	defer close(hold)
	addr := aortaServer(t, func(i int, conn net.Conn, secret string) { <-hold })
	var st Stats
	runAorta(t, "aorta://s3cret@"+addr, AortaConfig{ReadTimeout: 30 * time.Millisecond, MinBackoff: time.Millisecond}, NewQueue(QueueConfig{}), &st)
	require.Eventually(t, func() bool { return st.Snapshot().AortaReadTimeouts >= 2 }, 5*time.Second, 10*time.Millisecond, "two read timeouts")
	assert.GreaterOrEqual(t, st.Snapshot().AortaConnects, int64(2))
}

func TestAortaDialErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	var st Stats
	stop := runAorta(t, "aorta://s3cret@"+addr, AortaConfig{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}, NewQueue(QueueConfig{}), &st)
	require.Eventually(t, func() bool { return st.Snapshot().AortaDialErrors >= 3 }, 5*time.Second, 10*time.Millisecond, "three failed dials")
	require.NoError(t, stop())
	snap := st.Snapshot()
	assert.Zero(t, snap.AortaConnects)
	assert.GreaterOrEqual(t, snap.AortaReconnects, snap.AortaDialErrors-1)
}

func TestAortaBadURL(t *testing.T) {
	err := Aorta(t.Context(), "tcp://host:1", AortaConfig{}, NewQueue(QueueConfig{}), new(Stats), nil)
	assert.ErrorContains(t, err, `scheme "tcp" is not aorta`)
}

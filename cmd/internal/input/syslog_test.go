package input

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/logfmt/logfmttest"
)

// syslogServer runs ServeSyslog on ln until the test ends.
type syslogServer struct {
	addr string
	q    *Queue
	st   *Stats
	stop func() error // cancels and returns ServeSyslog's error
}

func startSyslog(t *testing.T, ln net.Listener, cfg SyslogConfig, q *Queue) *syslogServer {
	t.Helper()
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
	}
	if q == nil {
		q = NewQueue(QueueConfig{})
	}
	s := &syslogServer{addr: ln.Addr().String(), q: q, st: new(Stats)}
	s.stop = goRun(t, "ServeSyslog", func(ctx context.Context) error { return ServeSyslog(ctx, ln, cfg, q, s.st, nil) })
	return s
}

// generate returns n lines of generated Heroku traffic in format f, as a
// syslog drain sends them.
func generate(n int, f logfmttest.Format) []byte {
	g := logfmttest.New(logfmttest.Options{Seed: 7, Format: f, SyslogDrain: true})
	var out []byte
	for range n {
		out, _ = g.Next(out)
	}
	return out
}

// writeInPieces writes p to w in random pieces.
func writeInPieces(t *testing.T, w io.Writer, p []byte, seed uint64) {
	t.Helper()
	r := mrand.New(mrand.NewPCG(seed, 0))
	for len(p) > 0 {
		n := min(len(p), 1+r.IntN(4000))
		_, err := w.Write(p[:n])
		require.NoError(t, err)
		p = p[n:]
	}
}

func TestSyslogStreams(t *testing.T) {
	const lines = 3000
	for _, tt := range []struct {
		name string
		in   []byte
	}{
		{"newline-delimited", generate(lines, logfmttest.Lines)},
		{"octet-counted", generate(lines, logfmttest.Drain)},
		{"octet-counted without newlines", bareFrames(generate(lines, logfmttest.Drain))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := startSyslog(t, nil, SyslogConfig{MaxFrame: 8 << 10}, nil)
			in := tt.in
			conn, err := net.Dial("tcp", s.addr)
			require.NoError(t, err)
			writeInPieces(t, conn, in, 1)
			require.NoError(t, conn.Close())
			require.Eventually(t, func() bool { return s.st.Snapshot().SyslogBytes == int64(len(in)) }, 5*time.Second, 10*time.Millisecond, "all bytes")

			jobs := takeAll(s.q)
			assert.True(t, bytes.Equal(in, concat(jobs)), "jobs put together differ from the input")
			assert.Greater(t, len(jobs), 1)
			for i, j := range jobs {
				assert.LessOrEqual(t, len(j), 2*(8<<10), "job %d size", i)
			}
			events, rs := readEvents(t, jobs)
			assert.Equal(t, lines, events)
			assert.Zero(t, rs.Mismatches)
			snap := s.st.Snapshot()
			assert.EqualValues(t, len(jobs), snap.SyslogJobs)
			assert.EqualValues(t, 1, snap.SyslogConns)
			assert.Zero(t, snap.SyslogDropped+snap.SyslogOverlong+snap.SyslogConnErrors+snap.SyslogReadTimeouts)
			require.Eventually(t, func() bool { return s.st.Snapshot().SyslogConnsOpen == 0 }, time.Second, 10*time.Millisecond, "the connection to close")
			require.NoError(t, s.stop())
		})
	}
}

// TestSyslogIdleFlush checks that complete lines on a quiet connection are
// handed over after FlushAfter, without waiting for more.
func TestSyslogIdleFlush(t *testing.T) {
	s := startSyslog(t, nil, SyslogConfig{FlushAfter: 20 * time.Millisecond}, nil)
	conn, err := net.Dial("tcp", s.addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("one\ntw"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.q.Len() == 1 }, 2*time.Second, 10*time.Millisecond, "the first line")
	_, err = conn.Write([]byte("o\nthree\n"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.q.Len() == 2 }, 2*time.Second, 10*time.Millisecond, "the next lines")
	assert.Equal(t, [][]byte{[]byte("one\n"), []byte("two\nthree\n")}, takeAll(s.q))
	assert.EqualValues(t, 1, s.st.Snapshot().SyslogConnsOpen, "the connection stays open")
}

// TestSyslogIdleFlushFrames: octet-counted frames with no newline after
// them, the last of which ends a burst: the bursts are cut as the buffer
// fills, and the last frame, whose end only the stream's going quiet
// tells, is handed over after FlushAfter.
func TestSyslogIdleFlushFrames(t *testing.T) {
	s := startSyslog(t, nil, SyslogConfig{MaxFrame: 1024, FlushAfter: 20 * time.Millisecond}, nil)
	conn, err := net.Dial("tcp", s.addr)
	require.NoError(t, err)
	defer conn.Close()
	var in []byte
	n := 0
	for _, frames := range []int{10, 25, 30, 35, 40, 45, 50, 55} { // whatever the buffer holds when the burst ends
		var burst []byte
		for range frames {
			burst = append(burst, octet(msg(n, ""))...)
			n++
		}
		_, err = conn.Write(burst)
		require.NoError(t, err)
		in = append(in, burst...)
		require.Eventually(t, func() bool { return s.st.Snapshot().SyslogBytes == int64(len(in)) }, 2*time.Second, 10*time.Millisecond, "the burst's last frame")
	}
	ids, st := readIDs(t, takeAll(s.q), 1024)
	assert.Len(t, ids, n)
	assert.Zero(t, st.Mismatches+st.Unparsed)
	assert.EqualValues(t, 1, s.st.Snapshot().SyslogConnsOpen, "the connection stays open")
}

func TestSyslogReadTimeout(t *testing.T) {
	s := startSyslog(t, nil, SyslogConfig{ReadTimeout: 100 * time.Millisecond}, nil)
	conn, err := net.Dial("tcp", s.addr)
	require.NoError(t, err)
	defer conn.Close()
	// A slowloris: a few bytes, then nothing.
	_, err = conn.Write([]byte("<158>1 2026-03-14T17:02:11"))
	require.NoError(t, err)
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = conn.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "the server closes the idle connection")
	assert.Less(t, time.Since(start), 4*time.Second)
	require.Eventually(t, func() bool { return s.st.Snapshot().SyslogReadTimeouts == 1 }, time.Second, 10*time.Millisecond, "the timeout count")
	// What it had sent is handed over: the reader reports it.
	assert.Equal(t, [][]byte{[]byte("<158>1 2026-03-14T17:02:11")}, takeAll(s.q))
}

func TestSyslogConnLimit(t *testing.T) {
	s := startSyslog(t, nil, SyslogConfig{MaxConns: 2}, nil)
	var conns []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", s.addr)
		require.NoError(t, err)
		defer c.Close()
		conns = append(conns, c)
	}
	require.Eventually(t, func() bool { return s.st.Snapshot().SyslogConnsOpen == 2 }, 2*time.Second, 10*time.Millisecond, "two connections")

	extra, err := net.Dial("tcp", s.addr)
	require.NoError(t, err)
	defer extra.Close()
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = extra.Read(make([]byte, 1))
	assert.Error(t, err, "the third connection is closed at once")
	// The server counts the rejection after closing the connection.
	require.Eventually(t, func() bool { return s.st.Snapshot().SyslogConnsRejected == 1 }, 2*time.Second, 10*time.Millisecond, "the rejection count")

	conns[0].Close()
	require.Eventually(t, func() bool { return s.st.Snapshot().SyslogConnsOpen == 1 }, 2*time.Second, 10*time.Millisecond, "a free slot")
	again, err := net.Dial("tcp", s.addr)
	require.NoError(t, err)
	defer again.Close()
	_, err = again.Write([]byte("hello\n"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.q.Len() == 1 }, 2*time.Second, 10*time.Millisecond, "the new connection's line")
	snap := s.st.Snapshot()
	assert.EqualValues(t, 3, snap.SyslogConns)
	assert.EqualValues(t, 1, snap.SyslogConnsRejected)
}

func TestSyslogQueueFull(t *testing.T) {
	q := NewQueue(QueueConfig{Jobs: 1})
	s := startSyslog(t, nil, SyslogConfig{FlushAfter: 5 * time.Millisecond, QueueWait: -1}, q)
	conn, err := net.Dial("tcp", s.addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("first\n"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return q.Len() == 1 }, 2*time.Second, 10*time.Millisecond, "the first job")
	_, err = conn.Write([]byte("second\nthird\n"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.st.Snapshot().SyslogDropped == 1 }, 2*time.Second, 10*time.Millisecond, "a drop")
	snap := s.st.Snapshot()
	assert.EqualValues(t, 13, snap.SyslogDroppedBytes)
	assert.EqualValues(t, 2, snap.SyslogDroppedLines)
	assert.EqualValues(t, 1, snap.SyslogJobs)

	// With a QueueWait, a job waits for a worker.
	q2 := NewQueue(QueueConfig{Jobs: 1})
	s2 := startSyslog(t, nil, SyslogConfig{FlushAfter: 5 * time.Millisecond, QueueWait: 5 * time.Second}, q2)
	c2, err := net.Dial("tcp", s2.addr)
	require.NoError(t, err)
	defer c2.Close()
	_, err = c2.Write([]byte("first\n"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return q2.Len() == 1 }, 2*time.Second, 10*time.Millisecond, "the first job")
	_, err = c2.Write([]byte("second\n"))
	require.NoError(t, err)
	time.Sleep(50 * time.Millisecond)
	j, _ := q2.TryGet()
	j.Release()
	require.Eventually(t, func() bool { return s2.st.Snapshot().SyslogJobs == 2 }, 2*time.Second, 10*time.Millisecond, "the second job")
	assert.Zero(t, s2.st.Snapshot().SyslogDropped)
}

func TestSyslogShutdown(t *testing.T) {
	s := startSyslog(t, nil, SyslogConfig{FlushAfter: 10 * time.Millisecond}, nil)
	conn, err := net.Dial("tcp", s.addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("pending\npartial"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.q.Len() == 1 }, 2*time.Second, 10*time.Millisecond, "the complete line")
	require.NoError(t, s.stop())
	assert.Equal(t, "pending\npartial", string(concat(takeAll(s.q))), "what was read is handed over")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = conn.Read(make([]byte, 1))
	assert.Error(t, err, "the connection is closed")
	assert.EqualValues(t, 0, s.st.Snapshot().SyslogConnsOpen)
	_, err = net.Dial("tcp", s.addr)
	assert.Error(t, err, "the listener is closed")
}

func TestSyslogListenerClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- ServeSyslog(t.Context(), ln, SyslogConfig{}, NewQueue(QueueConfig{}), new(Stats), nil) }()
	ln.Close()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, net.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("ServeSyslog did not return")
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// as PEM files, and returns their paths and a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "pulse test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestSyslogTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	ln, err := ListenSyslogTLS("127.0.0.1:0", certFile, keyFile)
	require.NoError(t, err)
	s := startSyslog(t, ln, SyslogConfig{HandshakeTimeout: time.Second, MaxFrame: 4 << 10, FlushAfter: 10 * time.Millisecond}, nil)

	// Octet-counted frames, then the same without newlines.
	var sent int64
	for i, in := range [][]byte{generate(1000, logfmttest.Drain), bareFrames(generate(1000, logfmttest.Drain))} {
		conn, err := tls.Dial("tcp", s.addr, &tls.Config{RootCAs: pool})
		require.NoError(t, err)
		writeInPieces(t, conn, in[:len(in)/2], uint64(2+i))
		// A pause longer than FlushAfter: the server's read times out in
		// the middle of the TLS stream and must carry on.
		time.Sleep(50 * time.Millisecond)
		writeInPieces(t, conn, in[len(in)/2:], uint64(4+i))
		require.NoError(t, conn.Close())
		sent += int64(len(in))
		require.Eventually(t, func() bool { return s.st.Snapshot().SyslogBytes == sent }, 5*time.Second, 10*time.Millisecond, "all bytes")
		jobs := takeAll(s.q)
		assert.True(t, bytes.Equal(in, concat(jobs)), "jobs put together differ from the input")
		events, rs := readEvents(t, jobs)
		assert.Equal(t, 1000, events)
		assert.Zero(t, rs.Mismatches)
	}

	t.Run("plain TCP to the TLS port", func(t *testing.T) {
		c, err := net.Dial("tcp", s.addr)
		require.NoError(t, err)
		defer c.Close()
		_, err = c.Write([]byte("hello\n"))
		require.NoError(t, err)
		require.Eventually(t, func() bool { return s.st.Snapshot().SyslogTLSErrors == 1 }, 2*time.Second, 10*time.Millisecond, "the handshake error")
	})
	t.Run("silent client", func(t *testing.T) {
		c, err := net.Dial("tcp", s.addr)
		require.NoError(t, err)
		defer c.Close()
		require.Eventually(t, func() bool { return s.st.Snapshot().SyslogTLSErrors == 2 }, 3*time.Second, 10*time.Millisecond, "the handshake timeout")
	})
	t.Run("TLS 1.1", func(t *testing.T) {
		c, err := tls.Dial("tcp", s.addr, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
		if err == nil {
			c.Close()
		}
		assert.Error(t, err, "TLS 1.1 is refused")
	})
	assert.Zero(t, s.q.Len())
}

func TestListenSyslogTLSErrors(t *testing.T) {
	_, err := ListenSyslogTLS("127.0.0.1:0", "/nonexistent/cert.pem", "/nonexistent/key.pem")
	assert.ErrorIs(t, err, os.ErrNotExist)
	certFile, keyFile, _ := selfSigned(t)
	_, err = ListenSyslogTLS("256.0.0.1:0", certFile, keyFile)
	assert.Error(t, err)
}

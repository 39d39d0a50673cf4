package redistest_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/redistest"
)

func TestStartStopRestart(t *testing.T) {
	s := redistest.Start(t)
	require.NotZero(t, s.Port())
	assert.Equal(t, "redis://"+s.Addr()+"/0", s.URL())
	pid := s.PID()
	require.NotZero(t, pid)
	assertUp(t, s.Addr(), true)

	require.NoError(t, s.Stop())
	assert.Zero(t, s.PID())
	assertUp(t, s.Addr(), false)
	assert.Error(t, syscall.Kill(pid, 0), "the old process is gone")
	require.NoError(t, s.Stop(), "stopping twice")

	port := s.Port()
	require.NoError(t, s.Restart())
	assert.Equal(t, port, s.Port())
	assert.NotEqual(t, pid, s.PID())
	assertUp(t, s.Addr(), true)
	assert.Contains(t, s.Output(), "Ready to accept connections")

	require.NoError(t, s.Restart(), "restarting a running server")
	assertUp(t, s.Addr(), true)
}

func TestTwoServers(t *testing.T) {
	a, b := redistest.Start(t), redistest.Start(t)
	assert.NotEqual(t, a.Port(), b.Port())
	require.NoError(t, a.Stop())
	assertUp(t, b.Addr(), true)
}

func TestStartServer(t *testing.T) {
	s, err := redistest.StartServer()
	if errors.Is(err, redistest.ErrNotInstalled) {
		redistest.Unavailable(t, err)
	}
	require.NoError(t, err)
	assertUp(t, s.Addr(), true)
	require.NoError(t, s.Close())
	assertUp(t, s.Addr(), false)
	require.NoError(t, s.Close(), "closing twice")
}

func assertUp(t *testing.T, addr string, want bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err == nil {
		c.Close()
	}
	assert.Equal(t, want, err == nil, "server at %s up", addr)
}

func TestStartTLS(t *testing.T) {
	s := redistest.StartTLS(t)
	assert.Equal(t, "rediss://"+s.Addr()+"/0", s.URL())
	require.FileExists(t, s.CAFile())

	pem, err := os.ReadFile(s.CAFile())
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	assert.Equal(t, "+PONG\r\n", pingTLS(t, s.Addr(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}))
	assert.Equal(t, "+PONG\r\n", pingTLS(t, s.Addr(), &tls.Config{RootCAs: pool, ServerName: "localhost"}), "the certificate names localhost too")

	// Without the CA, the certificate does not verify.
	c, err := tls.Dial("tcp", s.Addr(), &tls.Config{ServerName: "127.0.0.1"})
	if err == nil {
		c.Close()
	}
	var verr *tls.CertificateVerificationError
	require.ErrorAs(t, err, &verr)

	// Plain TCP gets no answer to PING.
	pc, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	require.NoError(t, err)
	defer pc.Close()
	pc.SetDeadline(time.Now().Add(time.Second))
	_, _ = pc.Write([]byte("PING\r\n"))
	line, _ := bufio.NewReader(pc).ReadString('\n')
	assert.NotEqual(t, "+PONG\r\n", line, "plain TCP on the TLS port")

	require.NoError(t, s.Restart())
	assert.Equal(t, "+PONG\r\n", pingTLS(t, s.Addr(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}), "TLS after a restart")
	assert.Empty(t, redistest.Start(t).CAFile(), "a plain server has no CA")
}

func TestPauseResume(t *testing.T) {
	s := redistest.Start(t)
	c, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	defer c.Close()
	r := bufio.NewReader(c)

	require.NoError(t, s.Pause())
	c.SetDeadline(time.Now().Add(300 * time.Millisecond))
	_, err = c.Write([]byte("PING\r\n"))
	require.NoError(t, err)
	_, err = r.ReadString('\n')
	var ne net.Error
	require.ErrorAs(t, err, &ne, "a paused server answers nothing")
	assert.True(t, ne.Timeout())

	require.NoError(t, s.Resume())
	c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "+PONG\r\n", line, "the PING sent while paused is answered on resume")

	require.NoError(t, s.Pause())
	require.NoError(t, s.Stop(), "a paused server stops")
	assert.Error(t, s.Pause(), "pausing a stopped server")
}

func pingTLS(t *testing.T, addr string, tc *tls.Config) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, tc)
	require.NoError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Write([]byte("PING\r\n"))
	require.NoError(t, err)
	line, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err)
	return line
}

package redistest_test

import (
	"errors"
	"net"
	"syscall"
	"testing"

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

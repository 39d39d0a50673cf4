package bus_test

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/pulsehq/pulse/cmd/internal/redistest"
)

// server is the redis-server the package's tests share; nil with
// serverErr set when there is none. Tests that stop Redis start their own.
var (
	server    *redistest.Server
	serverErr error
)

func TestMain(m *testing.M) {
	server, serverErr = redistest.StartServer()
	if serverErr != nil && !errors.Is(serverErr, redistest.ErrNotInstalled) {
		fmt.Fprintln(os.Stderr, serverErr)
		os.Exit(1)
	}
	code := m.Run()
	if server != nil {
		if err := server.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// sharedRedis returns the shared server, or skips t (fails it under
// PULSE_REQUIRE_SERVICES=1) when there is none.
func sharedRedis(t testing.TB) *redistest.Server {
	t.Helper()
	if server == nil {
		redistest.Unavailable(t, serverErr)
	}
	return server
}

var prefixes atomic.Int64

// uniquePrefix returns a key prefix no other bus of this test process
// uses, so tests share the server without seeing each other's streams.
func uniquePrefix(t testing.TB) string {
	return fmt.Sprintf("test:%d:%d:%s:", os.Getpid(), prefixes.Add(1), t.Name())
}

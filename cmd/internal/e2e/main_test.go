package e2e

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pulsehq/pulse/cmd/internal/redistest"
)

// The binaries built by TestMain, and the redis-server shared by the tests
// (each test uses its own REDIS_PREFIX).
var (
	binDir   string
	redisSrv *redistest.Server
	redisErr error
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	flag.Parse()
	dir, err := os.MkdirTemp("", "pulse-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := build(dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	binDir = dir
	redisSrv, redisErr = redistest.StartServer()
	if redisErr != nil && !errors.Is(redisErr, redistest.ErrNotInstalled) {
		fmt.Fprintln(os.Stderr, "e2e:", redisErr)
		return 1
	}
	if redisSrv != nil {
		defer redisSrv.Close()
	}
	return m.Run()
}

// build builds the four commands into dir, without DWARF (-ldflags=-w),
// which takes a third off the link on a loaded machine and changes no code.
func build(dir string) error {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return fmt.Errorf("module root not found from the test's directory: %w", err)
	}
	goBin := "go"
	if r := os.Getenv("GOROOT"); r != "" {
		goBin = filepath.Join(r, "bin", "go")
	}
	cmd := exec.Command(goBin, "build", "-ldflags=-w", "-o", dir+string(filepath.Separator), "./cmd/receiver", "./cmd/merger", "./cmd/web", "./cmd/pulse")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out)
	}
	return nil
}

// bin returns the path of a built command.
func bin(name string) string { return filepath.Join(binDir, name) }

// needRedis returns the shared redis-server's URL, or skips t (fails it
// with PULSE_REQUIRE_SERVICES=1) when redis-server is not installed.
func needRedis(t *testing.T) string {
	t.Helper()
	if redisSrv == nil {
		redistest.Unavailable(t, redisErr)
	}
	return redisSrv.URL()
}

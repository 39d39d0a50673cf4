package receiver

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/input"
	"github.com/pulsehq/pulse/cmd/internal/selfstat"
	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// TestReceiverSyslogFraming runs a receiver with a syslog listener over
// TCP and one over TLS, and sends each octet-counted frames back to back
// with no newline between them (RFC 6587 §3.4.1, as rsyslog and syslog-ng
// may send them), in writes that split frames anywhere and with a pause
// longer than the idle flush: every event is folded once, none is
// unparsed, no count is taken for wrong, and the bus holds what folding
// the frames into one set gives, stat by stat.
func TestReceiverSyslogFraming(t *testing.T) {
	const frames, shards = 2000, 2
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cert, pool := testCert(t)
	tlsTCP, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	secureLn := tls.NewListener(tlsTCP, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})

	m := newMemory(t)
	r, err := New(Config{
		Defs: def.Heroku(), Shards: shards, Workers: 2, Flush: 50 * time.Millisecond, Source: "web.1",
		SyslogLn: tcp, SyslogTLS: secureLn, Syslog: input.SyslogConfig{FlushAfter: 10 * time.Millisecond},
	}, m, nil)
	require.NoError(t, err)
	stop := run(t, r)

	start := time.Now().Add(-3 * time.Second)
	plain := bareFrames(drainBody(1, start, frames))
	secure := bareFrames(drainBody(2, start, frames))
	require.NotContains(t, string(plain), "\n", "no newline anywhere")

	c, err := net.Dial("tcp", tcp.Addr().String())
	require.NoError(t, err)
	writePieces(t, c, plain, 1)
	require.NoError(t, c.Close())
	tc, err := tls.Dial("tcp", secureLn.Addr().String(), &tls.Config{RootCAs: pool})
	require.NoError(t, err)
	writePieces(t, tc, secure, 2)
	require.NoError(t, tc.Close())

	require.Eventually(t, func() bool {
		return counts(t, m, shards)[window.StatEvents] >= 2*frames
	}, 20*time.Second, 10*time.Millisecond, "every event published")

	require.NoError(t, stop())

	got := counts(t, m, shards)
	for name, n := range foldCounts(t, [][]byte{plain, secure}, false) {
		assert.Equal(t, n, got[name], "%s", name)
	}
	assert.EqualValues(t, 2*frames, got[window.StatEvents])
	assert.Zero(t, got[window.StatUnparsed])
	assert.Zero(t, got[selfstat.Mismatches])
	assert.Zero(t, got[selfstat.Dropped])
	snap := r.Stats()
	assert.EqualValues(t, len(plain)+len(secure), snap.SyslogBytes)
	assert.Zero(t, snap.SyslogOverlong)
}

// bareFrames rewrites octet-counted frames that end in a newline, one a
// line, as frames without it, counted again.
func bareFrames(in []byte) []byte {
	var out []byte
	for l := range bytes.Lines(in) {
		sp := bytes.IndexByte(l, ' ')
		m := bytes.TrimSuffix(l[sp+1:], []byte("\n"))
		out = strconv.AppendInt(out, int64(len(m)), 10)
		out = append(out, ' ')
		out = append(out, m...)
	}
	return out
}

// writePieces writes p to w in random pieces of up to 4000 bytes, with a
// pause of 50 ms halfway.
func writePieces(t *testing.T, w io.Writer, p []byte, seed uint64) {
	t.Helper()
	r := mrand.New(mrand.NewPCG(seed, 0))
	half := len(p) / 2
	for sent := 0; sent < len(p); {
		n := min(len(p)-sent, 1+r.IntN(4000))
		_, err := w.Write(p[sent : sent+n])
		require.NoError(t, err)
		if sent < half && sent+n >= half {
			time.Sleep(50 * time.Millisecond) // longer than FlushAfter: an idle flush
		}
		sent += n
	}
}

// testCert returns a self-signed certificate for 127.0.0.1 and a pool
// that trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

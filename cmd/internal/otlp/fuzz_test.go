package otlp

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/pulsehq/pulse/cmd/internal/input"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// malformed are bodies that must be refused, whatever their encoding.
var malformed = [][]byte{
	{0x0a, 0xff, 0xff, 0xff, 0xff, 0x07},       // resource_logs claiming 2 GiB
	{0x0a, 0x05, 0x12, 0x7f},                   // a length past the end
	{0x0a, 0x80},                               // a truncated varint
	{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, // field number out of range
	[]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"x"}]}]}]}`),
	[]byte(`{"resourceLogs":`),
	[]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00"), // a gzip header and nothing else
}

// FuzzOTLPRequest sends arbitrary bodies through the handler, as protobuf
// or JSON, compressed or not: every answer is 200, 400 or 413, a 200
// answer decodes as an ExportLogsServiceResponse, and every record queued
// becomes an event.
func FuzzOTLPRequest(f *testing.F) {
	valid := marshalProto(f, sampleRequest())
	for _, b := range [][]byte{valid, marshalJSON(f, sampleRequest())} {
		f.Add(b, false, false)
		f.Add(b, true, false)
		f.Add(gz(f, b), false, true)
		f.Add(gz(f, b), true, true)
	}
	_, eq := equivalentRequest(f)
	f.Add(eq, false, false)
	for _, b := range malformed {
		f.Add(b, false, false)
		f.Add(b, true, false)
		f.Add(b, false, true)
	}
	f.Add(gz(f, make([]byte, 2<<20)), false, true) // a small bomb: 2 MiB of zeros
	f.Fuzz(func(t *testing.T, body []byte, json, gzipped bool) {
		h, q, st := newHandler(Config{MaxBody: 1 << 20, MaxDecoded: 1 << 20}, input.QueueConfig{})
		headers := []string{"Content-Type", ctProto}
		if json {
			headers[1] = ctJSON
		}
		if gzipped {
			headers = append(headers, "Content-Encoding", "gzip")
		}
		w := post(h, body, headers...)
		switch w.Code {
		case http.StatusOK:
			var resp collogspb.ExportLogsServiceResponse
			if json {
				require.NoError(t, protojson.Unmarshal(w.Body.Bytes(), &resp))
			} else {
				require.NoError(t, proto.Unmarshal(w.Body.Bytes(), &resp))
			}
			s := st.Snapshot()
			assert.Equal(t, s.Rejected, resp.GetPartialSuccess().GetRejectedLogRecords())
			evs := drainEvents(t, q) // checks each batch's record count
			assert.EqualValues(t, s.Records, len(evs))
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			assert.Zero(t, q.Len())
		default:
			t.Fatalf("answer %d: %s", w.Code, w.Body)
		}
	})
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A decompression bomb costs MaxDecoded, not what it would decompress to,
// and a length field claiming 2 GiB costs nothing.
func TestHostileBodiesBoundedMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for range 256 { // 256 MiB of zeros
		_, _ = zw.Write(zeros)
	}
	require.NoError(t, zw.Close())
	bomb := buf.Bytes()
	t.Logf("bomb: %d bytes gzipped, 256 MiB decompressed", len(bomb))

	const maxDecoded = 1 << 20
	h, q, _ := newHandler(Config{MaxDecoded: maxDecoded}, input.QueueConfig{})
	post(h, bomb, "Content-Type", ctProto, "Content-Encoding", "gzip") // warm the pools
	var code int
	n := allocated(func() {
		code = post(h, bomb, "Content-Type", ctProto, "Content-Encoding", "gzip").Code
	})
	assert.Equal(t, http.StatusRequestEntityTooLarge, code)
	assert.Less(t, n, uint64(4*maxDecoded), "allocated %d bytes", n)

	for _, b := range malformed[:4] {
		n := allocated(func() { code = post(h, b, "Content-Type", ctProto).Code })
		assert.Equal(t, http.StatusBadRequest, code, "%x", b)
		assert.Less(t, n, uint64(64<<10), "%x: allocated %d bytes", b, n)
	}
	assert.Zero(t, q.Len())
}

// A decoded request holds about memPerByte times its encoded size, which
// is what it counts against the queue's byte budget.
func TestDecodedMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	body := marshalProto(t, benchRequest(100, time.Now()))
	var keep any
	n := allocated(func() {
		logs, err := decode(body, encProto)
		require.NoError(t, err)
		keep = logs
	})
	runtime.KeepAlive(keep)
	ratio := float64(n) / float64(len(body))
	t.Logf("%d bytes encoded, %d allocated decoding: %.1f per byte", len(body), n, ratio)
	assert.Less(t, ratio, float64(memPerByte))
}

package otlp

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/pulsehq/pulse/logfmt"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// A Batch is one request's records, decoded, on their way to a worker as
// an input.Job's Batch. A worker turns them into events with a Mapper.
type Batch struct {
	// Logs holds the request: LogsData has the wire form of
	// ExportLogsServiceRequest (both are field 1, repeated ResourceLogs),
	// so it decodes the request without the gRPC service's package.
	// Rejected records are nil in their ScopeLogs.LogRecords.
	Logs *logspb.LogsData
	// Records is the number of records not rejected.
	Records int
}

// Errors of reading a request body.
var (
	errGzip            = errors.New("otlp: body is not a valid gzip stream")
	errDecodedTooLarge = errors.New("otlp: body too large decompressed")
)

// Decoding limits. RecursionLimit bounds the nesting protobuf and
// protojson accept (each level of a map value takes three messages), so
// that a hostile body cannot make the decoder recurse deeply; records
// nested deeper than MaxDepth, but within it, are rejected one by one.
const recursionLimit = 3*MaxDepth + 16

var (
	protoOpts = proto.UnmarshalOptions{DiscardUnknown: true, RecursionLimit: recursionLimit}
	jsonOpts  = protojson.UnmarshalOptions{DiscardUnknown: true, RecursionLimit: recursionLimit}
)

// decode reads an ExportLogsServiceRequest in enc. The decoders copy
// every string, so data may be reused once it returns.
func decode(data []byte, enc encoding) (*logspb.LogsData, error) {
	logs := new(logspb.LogsData)
	var err error
	if enc == encJSON {
		err = jsonOpts.Unmarshal(data, logs)
	} else {
		err = protoOpts.Unmarshal(data, logs)
	}
	if err != nil {
		return nil, fmt.Errorf("otlp: decoding %s ExportLogsServiceRequest: %w", enc, err)
	}
	return logs, nil
}

func (e encoding) String() string {
	switch e {
	case encProto:
		return "protobuf"
	case encJSON:
		return "JSON"
	}
	return "unknown"
}

// A request is a body read into pooled buffers: wire as sent, data
// decompressed (data is wire when it was not compressed).
type request struct {
	wire, data []byte
	wbuf, dbuf *[]byte
}

func (r *request) release() {
	putBuf(r.wbuf)
	if r.dbuf != nil {
		putBuf(r.dbuf)
	}
	*r = request{}
}

// readRequest reads r's body, at most maxBody bytes of it, and
// decompresses it when gzipped, at most maxDecoded bytes. Buffers grow
// with what arrives, never with what a header claims beyond the limits.
func readRequest(w http.ResponseWriter, r *http.Request, gzipped bool, maxBody, maxDecoded int64) (request, error) {
	var req request
	hint := 4 << 10
	if r.ContentLength >= 0 {
		hint = int(r.ContentLength) + 1 // +1: see EOF without growing
	}
	req.wbuf = getBuf(hint)
	b, err := readAll(*req.wbuf, http.MaxBytesReader(w, r.Body, maxBody))
	*req.wbuf = b
	if err != nil {
		putBuf(req.wbuf)
		return request{}, err
	}
	req.wire, req.data = b, b
	if !gzipped {
		return req, nil
	}
	req.dbuf = getBuf(int(min(int64(4*len(b)+512), maxDecoded+1)))
	d, err := gunzip(*req.dbuf, b, maxDecoded)
	*req.dbuf = d
	if err != nil {
		req.release()
		return request{}, err
	}
	req.data = d
	return req, nil
}

var gzipReaders sync.Pool

// gunzip appends the decompression of src to dst, failing with
// errDecodedTooLarge past max bytes.
func gunzip(dst, src []byte, max int64) ([]byte, error) {
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(bytes.NewReader(src))
	} else {
		err = zr.Reset(bytes.NewReader(src))
	}
	if err != nil {
		return dst, fmt.Errorf("%w: %v", errGzip, err)
	}
	defer gzipReaders.Put(zr)
	start := len(dst)
	dst, err = readAll(dst, io.LimitReader(zr, max+1))
	if err != nil {
		return dst, fmt.Errorf("%w: %v", errGzip, err)
	}
	if int64(len(dst)-start) > max {
		return dst, errDecodedTooLarge
	}
	return dst, nil
}

// readAll appends r to b until EOF, growing b by doubling.
func readAll(b []byte, r io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// Body buffers are pooled; one over maxPooled is left to the collector.
const maxPooled = 4 << 20

var bufs sync.Pool

func getBuf(n int) *[]byte {
	if p, _ := bufs.Get().(*[]byte); p != nil {
		if cap(*p) >= n {
			*p = (*p)[:0]
			return p
		}
		bufs.Put(p)
	}
	b := make([]byte, 0, max(n, 4<<10))
	return &b
}

func putBuf(p *[]byte) {
	if p == nil || cap(*p) > maxPooled {
		return
	}
	*p = (*p)[:0]
	bufs.Put(p)
}

// validation is what validate found in a request.
type validation struct {
	records, rejected int
	late, deep        int // rejected records by reason
}

// maxTimeNano is the first time a record may not have: the parser's
// MaxTimeUnix (2200-01-01), as Unix nanoseconds.
const maxTimeNano = uint64(logfmt.MaxTimeUnix) * 1e9

// validate counts the records of logs and rejects, setting them to nil,
// those that cannot become events: a time at or after 2200 (a nanosecond
// count that time.Time.UnixNano cannot hold once past 2262, and that the
// windows would count as unparsed), or values nested deeper than
// MaxDepth. A record with no time at all is kept: the arrival time
// stands in for it.
func validate(logs *logspb.LogsData) validation {
	var v validation
	for _, rl := range logs.GetResourceLogs() {
		resDeep := attrsDepth(rl.GetResource().GetAttributes()) > MaxDepth
		for _, sl := range rl.GetScopeLogs() {
			for i, rec := range sl.GetLogRecords() {
				if rec == nil {
					continue
				}
				t := rec.GetTimeUnixNano()
				if t == 0 {
					t = rec.GetObservedTimeUnixNano()
				}
				switch {
				case t >= maxTimeNano:
					v.late++
				case resDeep || valueDepth(rec.GetBody(), 0) > MaxDepth || attrsDepth(rec.GetAttributes()) > MaxDepth:
					v.deep++
				default:
					v.records++
					continue
				}
				v.rejected++
				sl.LogRecords[i] = nil
			}
		}
	}
	return v
}

// message explains the rejections, for partial_success.error_message.
func (v validation) message() string {
	if v.rejected == 0 {
		return ""
	}
	var parts []string
	if v.late > 0 {
		parts = append(parts, strconv.Itoa(v.late)+" with a time at or after 2200-01-01 (time_unix_nano, else observed_time_unix_nano)")
	}
	if v.deep > 0 {
		parts = append(parts, strconv.Itoa(v.deep)+" with map or array values nested deeper than "+strconv.Itoa(MaxDepth))
	}
	return strconv.Itoa(v.rejected) + " log records rejected: " + strings.Join(parts, "; ")
}

// attrsDepth is the deepest nesting of maps and arrays in attrs: 0 for
// scalars only.
func attrsDepth(attrs []*commonpb.KeyValue) int {
	d := 0
	for _, kv := range attrs {
		d = max(d, valueDepth(kv.GetValue(), 0))
		if d > MaxDepth {
			break
		}
	}
	return d
}

// valueDepth is depth plus the nesting of maps and arrays in v, stopping
// once past MaxDepth.
func valueDepth(v *commonpb.AnyValue, depth int) int {
	if depth > MaxDepth {
		return depth
	}
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_KvlistValue:
		d := depth + 1
		for _, kv := range x.KvlistValue.GetValues() {
			d = max(d, valueDepth(kv.GetValue(), depth+1))
			if d > MaxDepth {
				break
			}
		}
		return d
	case *commonpb.AnyValue_ArrayValue:
		d := depth + 1
		for _, e := range x.ArrayValue.GetValues() {
			d = max(d, valueDepth(e, depth+1))
			if d > MaxDepth {
				break
			}
		}
		return d
	}
	return depth
}

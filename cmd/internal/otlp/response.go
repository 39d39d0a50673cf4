package otlp

import (
	"net/http"
	"strconv"

	"github.com/pulsehq/pulse/internal/jsonstr"
	"google.golang.org/protobuf/encoding/protowire"
)

// The two answers are encoded here with protowire rather than with their
// generated types: ExportLogsServiceResponse lives in the package of the
// gRPC service (which would link gRPC and its gateway into the binary)
// and google.rpc.Status in genproto. Each has two fields; the tests
// decode what these functions write with the official types.
//
//	ExportLogsServiceResponse { ExportLogsPartialSuccess partial_success = 1; }
//	ExportLogsPartialSuccess  { int64 rejected_log_records = 1; string error_message = 2; }
//	google.rpc.Status         { int32 code = 1; string message = 2; repeated Any details = 3; }

// appendResponse appends an ExportLogsServiceResponse: empty on full
// success, with partial_success set when records were rejected.
func appendResponse(b []byte, rejected int, msg string) []byte {
	if rejected == 0 && msg == "" {
		return b
	}
	var ps []byte
	if rejected != 0 {
		ps = protowire.AppendTag(ps, 1, protowire.VarintType)
		ps = protowire.AppendVarint(ps, uint64(rejected))
	}
	if msg != "" {
		ps = protowire.AppendTag(ps, 2, protowire.BytesType)
		ps = protowire.AppendString(ps, msg)
	}
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	return protowire.AppendBytes(b, ps)
}

// appendResponseJSON appends an ExportLogsServiceResponse in the proto3
// JSON mapping, lowerCamelCase keys and the int64 as a string.
func appendResponseJSON(b []byte, rejected int, msg string) []byte {
	if rejected == 0 && msg == "" {
		return append(b, "{}"...)
	}
	b = append(b, `{"partialSuccess":{`...)
	if rejected != 0 {
		b = append(b, `"rejectedLogRecords":"`...)
		b = strconv.AppendInt(b, int64(rejected), 10)
		b = append(b, '"')
		if msg != "" {
			b = append(b, ',')
		}
	}
	if msg != "" {
		b = append(b, `"errorMessage":`...)
		b = jsonstr.Append(b, msg)
	}
	return append(b, "}}"...)
}

// appendStatus appends a google.rpc.Status with a gRPC code and message.
func appendStatus(b []byte, code int, msg string) []byte {
	if code != 0 {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(code))
	}
	if msg != "" {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, msg)
	}
	return b
}

func appendStatusJSON(b []byte, code int, msg string) []byte {
	b = append(b, `{"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"message":`...)
	b = jsonstr.Append(b, msg)
	return append(b, '}')
}

// grpcCode is the gRPC status code that matches an HTTP status, for
// Status.code, which OTLP/HTTP clients may log but do not act on.
func grpcCode(status int) int {
	switch status {
	case http.StatusBadRequest, http.StatusUnsupportedMediaType:
		return 3 // INVALID_ARGUMENT
	case http.StatusUnauthorized:
		return 16 // UNAUTHENTICATED
	case http.StatusRequestEntityTooLarge:
		return 8 // RESOURCE_EXHAUSTED
	case http.StatusMethodNotAllowed:
		return 12 // UNIMPLEMENTED
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		return 14 // UNAVAILABLE
	}
	return 2 // UNKNOWN
}

// writeResponse answers 200 with an ExportLogsServiceResponse in enc.
func writeResponse(w http.ResponseWriter, enc encoding, rejected int, msg string) {
	var b []byte
	if enc == encJSON {
		w.Header().Set("Content-Type", "application/json")
		b = appendResponseJSON(nil, rejected, msg)
	} else {
		w.Header().Set("Content-Type", "application/x-protobuf")
		b = appendResponse(nil, rejected, msg)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// writeStatus answers an error with a google.rpc.Status in enc, or in
// plain text for a request of another content type.
func writeStatus(w http.ResponseWriter, enc encoding, status int, msg string) {
	var b []byte
	switch enc {
	case encJSON:
		w.Header().Set("Content-Type", "application/json")
		b = appendStatusJSON(nil, grpcCode(status), msg)
	case encProto:
		w.Header().Set("Content-Type", "application/x-protobuf")
		b = appendStatus(nil, grpcCode(status), msg)
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		b = append([]byte(msg), '\n')
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

package input

import (
	"math/bits"
	"sync"
	"time"
)

// Names of the inputs, as Job.Input carries them.
const (
	InputDrain  = "drain"
	InputSyslog = "syslog"
	InputAorta  = "aorta"
	InputFile   = "file"
	InputOTLP   = "otlp"
)

// A Job is a run of whole frames or lines from one input, handed to a parse
// worker through a Queue. The worker reads Data with logfmt.NewReader and
// then calls Release.
type Job struct {
	// Data holds the bytes: a whole drain body, or a run of whole frames
	// and lines (the package comment gives the exceptions). It is owned by the
	// job until Release, which returns it to a pool; do not keep it, or
	// anything that points into it, after that.
	Data []byte
	// Input names the input it came from: InputDrain, InputSyslog,
	// InputAorta, InputFile or InputOTLP.
	Input string
	// MsgCount is the drain request's Logplex-Msg-Count, the number of
	// frames the sender says Data holds, or -1 when there was none (or it
	// was not a valid number) and for every other input. A worker compares
	// it with the frames it reads and counts a mismatch.
	MsgCount int
	// Arrival is when the input received the last of the bytes.
	Arrival time.Time
	// Batch, when not nil, is what the job carries instead of Data:
	// records its input decoded already (an OTLP request, whose decoding
	// decides the answer to the request), for a worker that knows its
	// type. Data is then nil.
	Batch any
	// Size is what a job with a Batch counts against a Queue's byte
	// budget: about the memory the batch holds. A job without a Batch
	// counts len(Data).
	Size int

	buf     *buffer // the pooled buffer behind Data; nil when not pooled
	records int     // the frames and lines in Data, for a stream input's counters
}

// NewJob returns a job for input whose Data is a copy of data, in a pooled
// buffer, with MsgCount -1 and Arrival now. It is for tests and for callers
// that make jobs of their own.
func NewJob(input string, data []byte) Job {
	b := getBuffer(len(data))
	b.b = append(b.b[:0], data...)
	return Job{Data: b.b, Input: input, MsgCount: -1, Arrival: time.Now(), buf: b}
}

// Release returns the job's buffer to the pool and clears Data. Call it
// once, when the job is done with; copies of a Job share its buffer, so
// only one of them may be released. Release of a zero Job, or a second
// Release of the same variable, does nothing.
func (j *Job) Release() {
	if j.buf != nil {
		putBuffer(j.buf)
		j.buf = nil
	}
	j.Data = nil
	j.Batch = nil
}

// size is what j counts against a Queue's byte budget.
func (j *Job) size() int64 {
	if j.Batch != nil {
		return int64(j.Size)
	}
	return int64(len(j.Data))
}

// Buffers come from pools in power-of-two size classes from 1 KiB to
// 2 MiB, so that a small drain body does not hold a chunk-sized buffer and
// steady state allocates nothing. A larger buffer is allocated and left to
// the garbage collector.
const (
	minClassBits = 10
	maxClassBits = 21
	numClasses   = maxClassBits - minClassBits + 1
)

// A buffer is what the pools hold: a pointer, so Put does not allocate.
type buffer struct {
	b []byte
}

var pools [numClasses]sync.Pool

// class returns the size class for a buffer of n bytes, or -1 when n is
// larger than the largest class.
func class(n int) int {
	if n <= 1<<minClassBits {
		return 0
	}
	c := bits.Len(uint(n-1)) - minClassBits
	if c >= numClasses {
		return -1
	}
	return c
}

// getBuffer returns an empty buffer whose capacity is at least n.
func getBuffer(n int) *buffer {
	c := class(n)
	if c < 0 {
		return &buffer{b: make([]byte, 0, n)}
	}
	if v := pools[c].Get(); v != nil {
		b := v.(*buffer)
		b.b = b.b[:0]
		return b
	}
	return &buffer{b: make([]byte, 0, 1<<(c+minClassBits))}
}

// putBuffer returns b to the pool of its class. Buffers of a size that is
// not exactly a class are dropped.
func putBuffer(b *buffer) {
	n := cap(b.b)
	c := class(n)
	if c < 0 || n != 1<<(c+minClassBits) {
		return
	}
	b.b = b.b[:0]
	pools[c].Put(b)
}

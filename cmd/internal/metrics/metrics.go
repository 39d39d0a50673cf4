package metrics

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/pulsehq/pulse/stat/def"
	"github.com/pulsehq/pulse/window"
)

// ContentType is the Content-Type of the exposition: the Prometheus text
// format, version 0.0.4.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Names of the families that describe the exposition itself.
const (
	NameSnapshotTime = "pulse_snapshot_timestamp_seconds"
	NameCollisions   = "pulse_exporter_collisions"
	NameOmitted      = "pulse_exporter_omitted"
)

// KeyLabel is the label of a top-k series that holds its key.
const KeyLabel = "key"

// An Exporter writes snapshots in the Prometheus text format, with the
// names, units and help of a set of definitions. Make one with New.
//
// An Exporter is safe for use by multiple goroutines.
type Exporter struct {
	defs *lookup
}

// New returns an Exporter for snapshots of defs: the definitions the
// mergers run (the built-in self-stats are known without them). Stats of
// a snapshot that no definition names are exported too, under their
// mapped names, without a unit.
func New(defs []def.Def) *Exporter {
	return &Exporter{defs: newLookup(defs)}
}

// Handler returns an http.Handler that serves the latest snapshot, as
// latest returns it on each request, with defs's names and units. It is
// New(defs).Handler(latest).
func Handler(latest func() window.Snapshot, defs []def.Def) http.Handler {
	return New(defs).Handler(latest)
}

// Handler returns an http.Handler that answers GET and HEAD with
// latest() in the text format, gzipped when the client accepts it, and
// any other method with 405. latest must be safe to call from several
// goroutines at once (web.History.Latest is). An error from Append, which
// would be a bug here, answers 500 with the error as the body, so the
// scrape fails loudly rather than leaving series out.
func (e *Exporter) Handler(latest func() window.Snapshot) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := e.Append(nil, latest())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", ContentType)
		h.Set("Cache-Control", "no-store")
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			if r.Method == http.MethodHead {
				return
			}
			gz := gzip.NewWriter(w)
			_, _ = gz.Write(body)
			_ = gz.Close()
			return
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	})
}

// acceptsGzip reports whether r's Accept-Encoding takes gzip with a
// quality above 0.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			enc, params, _ := strings.Cut(part, ";")
			if !strings.EqualFold(strings.TrimSpace(enc), "gzip") {
				continue
			}
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				if k, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.TrimSpace(k) == "q" {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					}
				}
			}
			return q > 0
		}
	}
	return false
}

// Write writes snap to w in the text format.
func (e *Exporter) Write(w io.Writer, snap window.Snapshot) error {
	b, err := e.Append(nil, snap)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Append appends snap in the text format to dst: the families in name
// order, each with its HELP and TYPE lines. The error is never expected:
// it reports a family the Prometheus library refused, and the families it
// did not refuse are appended all the same.
func (e *Exporter) Append(dst []byte, snap window.Snapshot) ([]byte, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(&collector{e: e, snap: snap}); err != nil {
		return dst, fmt.Errorf("metrics: %w", err)
	}
	mfs, gerr := reg.Gather()
	buf := bytes.NewBuffer(dst)
	for _, mf := range mfs {
		if err := writeFamily(buf, mf); err != nil {
			return buf.Bytes(), fmt.Errorf("metrics: %w", err)
		}
	}
	if gerr != nil {
		return buf.Bytes(), fmt.Errorf("metrics: %w", gerr)
	}
	return buf.Bytes(), nil
}

// writeFamily writes mf with expfmt, leaving out the _sum and _count
// lines of a summary that has neither (see "Summaries" in the package
// documentation). The text writer puts one sample on a line and escapes
// newlines in label values, so lines can be dropped whole.
func writeFamily(buf *bytes.Buffer, mf *dto.MetricFamily) error {
	if mf.GetType() != dto.MetricType_SUMMARY || !slices.ContainsFunc(mf.Metric, quantilesOnly) {
		_, err := expfmt.MetricFamilyToText(buf, mf)
		return err
	}
	var tmp bytes.Buffer
	if _, err := expfmt.MetricFamilyToText(&tmp, mf); err != nil {
		return err
	}
	name := mf.GetName()
	for line := range bytes.Lines(tmp.Bytes()) {
		if sumOrCount(line, name) {
			continue
		}
		buf.Write(line)
	}
	return nil
}

func quantilesOnly(m *dto.Metric) bool {
	return m.Summary != nil && m.Summary.SampleCount == nil && m.Summary.SampleSum == nil
}

// sumOrCount reports whether line is a sample of name_sum or name_count.
func sumOrCount(line []byte, name string) bool {
	rest, ok := bytes.CutPrefix(line, []byte(name))
	if !ok {
		return false
	}
	for _, s := range []string{"_sum", "_count"} {
		if r, ok := bytes.CutPrefix(rest, []byte(s)); ok && len(r) > 0 && (r[0] == ' ' || r[0] == '{') {
			return true
		}
	}
	return false
}

// collector turns one snapshot into const metrics. It describes nothing,
// so the registry checks what it collects instead (an unchecked
// collector).
type collector struct {
	e    *Exporter
	snap window.Snapshot
}

func (c *collector) Describe(chan<- *prometheus.Desc) {}

// Collect claims names in the order of the package documentation and
// sends each stat's metrics.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	taken := map[string]bool{NameSnapshotTime: true, NameCollisions: true, NameOmitted: true}
	names := make([]string, 0, len(c.snap.Stats))
	for name, v := range c.snap.Stats {
		if !v.IsNull() {
			names = append(names, name)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		sa, sb := strings.HasPrefix(a, def.ReservedPrefix), strings.HasPrefix(b, def.ReservedPrefix)
		if sa != sb {
			if sa {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	var collisions, omitted int
	for _, name := range names {
		in := c.e.defs.find(name)
		base := body(name)
		metric := join(base, in.unit.suffix)
		if taken[metric] {
			collisions++
			metric = join(base+hashSuffix(name), in.unit.suffix)
			if taken[metric] {
				omitted++
				continue
			}
		}
		taken[metric] = true
		omitted += c.send(ch, metric, name, in)
	}
	if !c.snap.Time.IsZero() {
		ch <- prometheus.MustNewConstMetric(
			prometheus.NewDesc(NameSnapshotTime, "Time of the latest merged snapshot, in seconds since the Unix epoch.", nil, nil),
			prometheus.GaugeValue, float64(c.snap.Time.UnixNano())/1e9)
	}
	ch <- prometheus.MustNewConstMetric(
		prometheus.NewDesc(NameCollisions, "Stats of this exposition whose metric name was another's, renamed with a hash or left out.", nil, nil),
		prometheus.GaugeValue, float64(collisions))
	ch <- prometheus.MustNewConstMetric(
		prometheus.NewDesc(NameOmitted, "Series left out of this exposition: stats whose renamed metric name was taken, top-k keys beyond K or equal to an earlier key once made valid.", nil, nil),
		prometheus.GaugeValue, float64(omitted))
}

// send sends the metrics of stat name as metric, and returns how many
// series it left out.
func (c *collector) send(ch chan<- prometheus.Metric, metric, name string, in info) (omitted int) {
	v := c.snap.Stats[name]
	help := helpText(name, in)
	if f, ok := v.Number(); ok {
		desc := prometheus.NewDesc(metric, help, nil, nil)
		ch <- constMetric(desc, in.unit.conv(f))
		return 0
	}
	if qs := v.Quantiles(); len(qs) > 0 {
		s := &summary{desc: prometheus.NewDesc(metric, help, nil, nil)}
		for _, q := range qs {
			s.q = append(s.q, &dto.Quantile{Quantile: new(q.Q), Value: new(in.unit.conv(q.Value))})
		}
		ch <- s
		return 0
	}
	top := v.Top()
	if len(top) == 0 {
		return 0
	}
	desc := prometheus.NewDesc(metric, help, []string{KeyLabel}, nil)
	seen := make(map[string]bool, min(len(top), in.k))
	for _, t := range top {
		key := clean(t.Key)
		if len(seen) == in.k || seen[key] {
			omitted++
			continue
		}
		seen[key] = true
		ch <- constMetric(desc, in.unit.conv(t.Value), key)
	}
	return omitted
}

// constMetric is a gauge, or an invalid metric that the registry reports,
// should the library refuse it.
func constMetric(desc *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(desc, err)
	}
	return m
}

// helpText is the HELP of a stat: its label, the stat name and its unit
// in brackets ("Router service time [router.service; ms, exposed in
// seconds]"); without a label, the stat name and its unit
// ("l2met.db.query [ms, exposed in seconds]").
func helpText(name string, in info) string {
	var b strings.Builder
	var notes []string
	if in.label != "" {
		b.WriteString(in.label)
		notes = append(notes, name)
	} else {
		b.WriteString(name)
	}
	if in.unit.note != "" {
		notes = append(notes, in.unit.note)
	}
	if len(notes) > 0 {
		b.WriteString(" [")
		b.WriteString(strings.Join(notes, "; "))
		b.WriteString("]")
	}
	return clean(b.String())
}

// clean makes s valid UTF-8 without control characters, replacing each
// invalid byte and each control character by U+FFFD.
func clean(s string) string {
	ok := utf8.ValidString(s)
	if ok {
		for _, r := range s {
			if unicode.IsControl(r) {
				ok = false
				break
			}
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s { // an invalid byte comes as one RuneError
		if r == utf8.RuneError || unicode.IsControl(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

// summary is a summary of quantiles only: no count, no sum.
type summary struct {
	desc *prometheus.Desc
	q    []*dto.Quantile
}

func (s *summary) Desc() *prometheus.Desc { return s.desc }

func (s *summary) Write(out *dto.Metric) error {
	out.Summary = &dto.Summary{Quantile: s.q}
	return nil
}

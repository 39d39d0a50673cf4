package stat

import "strconv"

// Kind names a stat type. Its numeric value is the kind tag of the binary
// encoding, so existing values never change; new kinds are appended.
type Kind uint8

// The kinds of stat. KindInvalid is the zero Kind and names no stat.
const (
	KindInvalid   Kind = iota
	KindCount          // *Count: number of events
	KindSum            // *Sum: sum of values
	KindMean           // *Mean: count and sum of values
	KindMin            // *Min: smallest value
	KindMax            // *Max: largest value
	KindLast           // *Last: latest value by event time
	KindLastBy         // *LastBy: latest value per partition key
	KindDistinct       // *Distinct: distinct count of keys (HyperLogLog)
	KindQuantiles      // *Quantiles: quantiles of values (t-digest)
	KindTopK           // *TopK: most frequent keys (Space-Saving)
	numKinds
)

var kindNames = [numKinds]string{
	KindInvalid:   "invalid",
	KindCount:     "count",
	KindSum:       "sum",
	KindMean:      "mean",
	KindMin:       "min",
	KindMax:       "max",
	KindLast:      "last",
	KindLastBy:    "lastby",
	KindDistinct:  "distinct",
	KindQuantiles: "quantiles",
	KindTopK:      "topk",
}

// String returns the kind's lower-case name, or "kind(N)" for a value that
// names no kind. It never panics.
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Valid reports whether k names a stat type.
func (k Kind) Valid() bool { return k > KindInvalid && k < numKinds }

// Kinds returns every valid kind in tag order.
func Kinds() []Kind {
	ks := make([]Kind, 0, numKinds-1)
	for k := KindInvalid + 1; k < numKinds; k++ {
		ks = append(ks, k)
	}
	return ks
}

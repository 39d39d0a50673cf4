package fragment

import (
	"fmt"
	"time"

	"github.com/pulsehq/pulse/stat"
	"github.com/pulsehq/pulse/window"
)

// Fragment is one stat's delta for one bucket, as it travels: the window's
// name and kind, the bucket's start and width, and the stat's binary
// encoding (which begins with the kind tag).
type Fragment struct {
	Name  string
	Kind  stat.Kind
	Start time.Time
	Width time.Duration
	Stat  []byte
}

// NewFragment encodes d's stat into a Fragment. It appends the stat's
// bytes to buf and returns the extended buffer: fragments made from one
// buffer share its backing array, so a whole cut costs a few allocations.
func NewFragment(buf []byte, d window.Delta) ([]byte, Fragment, error) {
	if d.Stat == nil {
		return buf, Fragment{}, fmt.Errorf("fragment: %q has no stat: %w", d.Name, ErrInvalid)
	}
	if d.Stat.Kind() != d.Kind {
		return buf, Fragment{}, fmt.Errorf("fragment: %q of kind %s holds a %s: %w", d.Name, d.Kind, d.Stat.Kind(), ErrInvalid)
	}
	n := len(buf)
	buf, err := d.Stat.AppendBinary(buf)
	if err != nil {
		return buf[:n], Fragment{}, fmt.Errorf("fragment: encode %q: %w", d.Name, err)
	}
	return buf, Fragment{Name: d.Name, Kind: d.Kind, Start: d.Start, Width: d.Width, Stat: buf[n:len(buf):len(buf)]}, nil
}

// Delta decodes the fragment's stat, once, and returns it as a delta for
// window.Set.Apply. A stat that does not decode, or decodes to another
// kind, is an error wrapping ErrCorrupt and the stat package's error.
func (f Fragment) Delta() (window.Delta, error) {
	s, err := stat.Unmarshal(f.Stat)
	if err != nil {
		return window.Delta{}, fmt.Errorf("fragment: %q: %w: %w", f.Name, ErrCorrupt, err)
	}
	if s.Kind() != f.Kind {
		return window.Delta{}, fmt.Errorf("fragment: %q of kind %s holds a %s: %w", f.Name, f.Kind, s.Kind(), ErrCorrupt)
	}
	return window.Delta{Name: f.Name, Kind: f.Kind, Start: f.Start, Width: f.Width, Stat: s}, nil
}

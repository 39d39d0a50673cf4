package httpserve

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCredentials(t *testing.T) {
	c, ok := ParseCredentials("user:pa:ss")
	assert.True(t, ok)
	f := func(user, pass string, set, want bool) {
		t.Helper()
		r := httptest.NewRequest("GET", "/", nil)
		if set {
			r.SetBasicAuth(user, pass)
		}
		assert.Equal(t, want, c.Match(r), "%q:%q set=%v", user, pass, set)
	}
	f("user", "pa:ss", true, true)
	f("user", "pa:s", true, false)
	f("User", "pa:ss", true, false)
	f("", "", false, false)
	_, ok = ParseCredentials("nocolon")
	assert.False(t, ok)
	var zero Credentials
	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth("", "")
	assert.False(t, zero.Match(r), "the zero Credentials match nothing")
}

package httpserve

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// Credentials are a user and a password that a request's HTTP basic auth
// must match: DRAIN_AUTH on the drain and OpenTelemetry endpoints,
// WEB_AUTH on the web. They are kept as SHA-256 sums, so that comparing
// takes the same time whatever their lengths, and compared in constant
// time. The zero Credentials match no request.
type Credentials struct {
	user, pass [sha256.Size]byte
}

// ParseCredentials reads "user:pass". ok is false when cred has no colon;
// the user is then all of cred and the password empty.
func ParseCredentials(cred string) (c Credentials, ok bool) {
	user, pass, ok := strings.Cut(cred, ":")
	return Credentials{user: sha256.Sum256([]byte(user)), pass: sha256.Sum256([]byte(pass))}, ok
}

// Match reports whether r carries basic auth with c's user and password.
func (c Credentials) Match(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	match := subtle.ConstantTimeCompare(u[:], c.user[:]) & subtle.ConstantTimeCompare(p[:], c.pass[:])
	return ok && match == 1
}

// Package httpserve runs an [http.Server] with Pulse's bounds: header,
// read, write and idle timeouts, a header size limit, a connection limit
// ([Limit]) that counts what it refuses and the timeouts it sees, and a
// graceful shutdown when the context ends. The web role and the
// receiver's drain server share it.
package httpserve

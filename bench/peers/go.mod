module github.com/pulsehq/pulse/bench/peers

go 1.26.0

require (
	github.com/go-logfmt/logfmt v0.6.1
	github.com/kr/logfmt v0.0.0-20140226030751-b84e30acd515
	github.com/leodido/go-syslog/v4 v4.6.0
	github.com/pulsehq/pulse v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/axiomhq/hyperloglog v0.3.0 // indirect
	github.com/dgryski/go-metro v0.0.0-20250106013310-edb8663e5e33 // indirect
	github.com/influxdata/tdigest v0.0.2-0.20210216194612-fc98d27c9e8b // indirect
	github.com/kamstrup/intmap v0.5.2 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

replace github.com/pulsehq/pulse => ../..

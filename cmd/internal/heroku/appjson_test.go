package heroku_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsehq/pulse/cmd/internal/cli"
	"github.com/pulsehq/pulse/cmd/internal/run"
)

// schema is the part of JSON Schema that Heroku's app.json schema uses.
type schema struct {
	typ      string             // string, integer, boolean, array, object; "" is any
	props    map[string]*schema // an object's known keys
	keys     *regexp.Regexp     // an object's other keys must match this, with values of keyed
	keyed    *schema
	open     bool // an object may have other keys (additionalProperties)
	required []string
	items    *schema   // an array's items
	oneOf    []*schema // exactly one must hold
	enum     []string
	uri      bool
	min      *int64 // an integer's minimum
	pattern  *regexp.Regexp
	maxLen   int
}

// validate returns what is wrong with v at path.
func (s *schema) validate(path string, v any) []string {
	if s.oneOf != nil {
		n := 0
		for _, o := range s.oneOf {
			if len(o.validate(path, v)) == 0 {
				n++
			}
		}
		if n != 1 {
			return []string{fmt.Sprintf("%s: matches %d of the %d forms allowed", path, n, len(s.oneOf))}
		}
		return nil
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }
	switch s.typ {
	case "string":
		str, ok := v.(string)
		if !ok {
			bad("%T, want a string", v)
			break
		}
		if s.enum != nil && !slices.Contains(s.enum, str) {
			bad("%q is not one of %q", str, s.enum)
		}
		if s.uri {
			if u, err := url.Parse(str); err != nil || u.Scheme == "" {
				bad("%q is not a URI", str)
			}
		}
		if s.pattern != nil && !s.pattern.MatchString(str) {
			bad("%q does not match %s", str, s.pattern)
		}
		if s.maxLen > 0 && len([]rune(str)) > s.maxLen {
			bad("%d characters, more than %d", len([]rune(str)), s.maxLen)
		}
	case "integer":
		n, ok := v.(json.Number)
		i, err := n.Int64()
		if !ok || err != nil {
			bad("%v, want an integer", v)
			break
		}
		if s.min != nil && i < *s.min {
			bad("%d is below %d", i, *s.min)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("%T, want a boolean", v)
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			bad("%T, want an array", v)
			break
		}
		if s.items != nil {
			for i, x := range a {
				errs = append(errs, s.items.validate(fmt.Sprintf("%s[%d]", path, i), x)...)
			}
		}
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			bad("%T, want an object", v)
			break
		}
		for _, k := range s.required {
			if _, ok := m[k]; !ok {
				bad("%q is required", k)
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch p, known := s.props[k]; {
			case known:
				errs = append(errs, p.validate(path+"."+k, m[k])...)
			case s.keys != nil && s.keys.MatchString(k):
				errs = append(errs, s.keyed.validate(path+"."+k, m[k])...)
			case !s.open:
				bad("unknown key %q", k)
			}
		}
	}
	return errs
}

var (
	zero = int64(0)
	str  = &schema{typ: "string"}
	uri  = &schema{typ: "string", uri: true}
)

// appJSONSchema is app.json's schema as Heroku documents it
// (https://devcenter.heroku.com/articles/app-json-schema, and the JSON
// Schema of Heroku's own tools, heroku/heroku-mcp-server's
// app-json.schema.json): every key, its type, and for name and
// description the limits of Heroku's app.json validator (30 and 140
// characters).
var appJSONSchema = func() *schema {
	envConfig := &schema{typ: "object", open: true, props: map[string]*schema{
		"env": {typ: "object", open: true}, "formation": {typ: "object", open: true},
		"addons": {typ: "array"}, "buildpacks": {typ: "array"},
	}}
	return &schema{typ: "object", props: map[string]*schema{
		"name":        {typ: "string", pattern: regexp.MustCompile(`^[a-zA-Z_.-]+`), maxLen: 30},
		"description": {typ: "string", maxLen: 140},
		"keywords":    {typ: "array", items: str},
		"website":     uri,
		"repository":  uri,
		"logo":        uri,
		"success_url": str,
		"scripts":     {typ: "object", props: map[string]*schema{"postdeploy": str, "pr-predestroy": str}},
		"env": {typ: "object", keys: regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`), keyed: &schema{typ: "object", props: map[string]*schema{
			"description": str,
			"value":       str,
			"required":    {typ: "boolean"},
			"generator":   {typ: "string", enum: []string{"secret"}},
		}}},
		"formation": {typ: "object", keys: regexp.MustCompile(`^[a-zA-Z0-9_-]+$`), keyed: &schema{typ: "object", required: []string{"quantity"}, props: map[string]*schema{
			"quantity": {typ: "integer", min: &zero},
			"size": {typ: "string", enum: []string{"free", "eco", "hobby", "basic", "standard-1x", "standard-2x",
				"performance-m", "performance-l", "private-s", "private-m", "private-l", "shield-s", "shield-m", "shield-l"}},
		}}},
		"addons": {typ: "array", items: &schema{oneOf: []*schema{
			str,
			{typ: "object", required: []string{"plan"}, props: map[string]*schema{"plan": str, "as": str, "options": {typ: "object", open: true}}},
		}}},
		"buildpacks": {typ: "array", items: &schema{typ: "object", required: []string{"url"}, props: map[string]*schema{"url": str}}},
		"environments": {typ: "object", props: map[string]*schema{
			"test":       {typ: "object", open: true, props: map[string]*schema{"scripts": {typ: "object", props: map[string]*schema{"test": str}}}},
			"review":     envConfig,
			"production": envConfig,
		}},
		"stack": {typ: "string", enum: []string{"heroku-18", "heroku-20", "heroku-22", "heroku-24"}},
		"image": str,
	}}
}()

func decode(t testing.TB, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	require.NoError(t, d.Decode(&v))
	_, err := d.Token()
	require.ErrorIs(t, err, io.EOF, "one JSON value")
	return v
}

// TestAppJSONSchema checks app.json against the keys and types Heroku
// documents, and checks the checker on a table of broken manifests.
func TestAppJSONSchema(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "app.json"))
	require.NoError(t, err)
	assert.Empty(t, appJSONSchema.validate("app.json", decode(t, b)))

	f := func(name, doc, want string) {
		t.Helper()
		errs := appJSONSchema.validate("app.json", decode(t, []byte(doc)))
		if assert.NotEmpty(t, errs, name) {
			assert.Contains(t, strings.Join(errs, "\n"), want, name)
		}
	}
	f("unknown key", `{"name":"x-y","procfile":"web: x"}`, `app.json: unknown key "procfile"`)
	f("name type", `{"name":7}`, "app.json.name: json.Number, want a string")
	f("long name", `{"name":"a-name-longer-than-thirty-characters"}`, "more than 30")
	f("keywords", `{"keywords":"logs"}`, "app.json.keywords: string, want an array")
	f("repository", `{"repository":"not a URI"}`, "is not a URI")
	f("env name", `{"env":{"redis_url":{"value":"x"}}}`, `app.json.env: unknown key "redis_url"`)
	f("env value", `{"env":{"A":{"value":1}}}`, "app.json.env.A.value: json.Number, want a string")
	f("env key", `{"env":{"A":{"default":"1"}}}`, `app.json.env.A: unknown key "default"`)
	f("generator", `{"env":{"A":{"generator":"uuid"}}}`, `"uuid" is not one of`)
	f("required", `{"env":{"A":{"required":"yes"}}}`, "want a boolean")
	f("quantity", `{"formation":{"web":{"quantity":"1"}}}`, "app.json.formation.web.quantity: 1, want an integer")
	f("fraction", `{"formation":{"web":{"quantity":1.5}}}`, "want an integer")
	f("negative", `{"formation":{"web":{"quantity":-1}}}`, "-1 is below 0")
	f("no quantity", `{"formation":{"web":{"size":"basic"}}}`, `"quantity" is required`)
	f("size", `{"formation":{"web":{"quantity":1,"size":"2X"}}}`, `"2X" is not one of`)
	f("addon", `{"addons":[{"as":"REDIS"}]}`, "matches 0 of the 2 forms")
	f("buildpack", `{"buildpacks":["heroku/go"]}`, "app.json.buildpacks[0]: string, want an object")
	f("buildpack url", `{"buildpacks":[{"uri":"heroku/go"}]}`, `"url" is required`)
	f("stack", `{"stack":"cedar-14"}`, `"cedar-14" is not one of`)
	f("scripts", `{"scripts":{"predeploy":"x"}}`, `unknown key "predeploy"`)
}

// TestAppJSONDeploys checks what makes app.json deploy Pulse as the
// README describes: every variable it declares is a setting of the run
// configuration and has a description and a value (so the Deploy button
// asks nothing), the formation has the Procfile's process types, the
// merger count matches the merger dynos, the add-on is Heroku
// Key-Value Store and the buildpack Go.
func TestAppJSONDeploys(t *testing.T) {
	a := readAppJSON(t)
	known := settings()
	for name, v := range a.Env {
		assert.True(t, known[name], "app.json declares %s, which the run configuration does not read", name)
		assert.NotEmpty(t, v.Description, "%s has no description", name)
		assert.True(t, v.Value != "" || v.Generator == "secret", "%s has neither a value nor a generator", name)
	}
	for _, name := range []string{"DRAIN_AUTH", "WEB_AUTH"} {
		assert.Equal(t, "secret", a.Env[name].Generator, "%s is generated", name)
	}
	assert.Equal(t, "1", a.Env["REDIS_TLS_SKIP_VERIFY"].Value, "Heroku Key-Value Store's certificates are self-signed")

	var types []string
	for _, p := range procfile(t, "Procfile") {
		types = append(types, p[0])
	}
	var formation []string
	for typ, f := range a.Formation {
		formation = append(formation, typ)
		assert.Positive(t, f.Quantity, typ)
	}
	assert.ElementsMatch(t, types, formation, "the formation's process types are the Procfile's")
	assert.Equal(t, strconv.Itoa(a.Formation["merger"].Quantity), a.Env["MERGER_COUNT"].Value, "MERGER_COUNT is the number of merger dynos")

	var plans []string
	for _, raw := range a.Addons {
		var s string
		var o struct{ Plan string }
		if json.Unmarshal(raw, &s) != nil {
			require.NoError(t, json.Unmarshal(raw, &o))
			s = o.Plan
		}
		plans = append(plans, strings.SplitN(s, ":", 2)[0])
	}
	assert.Equal(t, []string{"heroku-redis"}, plans, "Heroku Key-Value Store's add-on")
	require.Len(t, a.Buildpacks, 1)
	assert.Equal(t, "heroku/go", a.Buildpacks[0].URL)
}

// TestEnvSample checks that .env.sample sets only settings the run
// configuration reads.
func TestEnvSample(t *testing.T) {
	known := settings()
	for name := range readEnvFile(t, ".env.sample") {
		assert.True(t, known[name], ".env.sample sets %s, which the run configuration does not read", name)
	}
}

// settings returns the environment variables the run configuration
// reads (cli.FlagSet's flag → variable mapping).
func settings() map[string]bool {
	fs := cli.NewFlagSet("pulse run", "pulse run", "", io.Discard)
	run.Flags(fs, "all")
	known := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		if e := fs.Env(f.Name); e != "" {
			known[e] = true
		}
	})
	return known
}

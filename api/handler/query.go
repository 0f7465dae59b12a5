package handler

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/omadm/omadm/api"
)

// documentedQuery maps "METHOD pattern" to the query parameters the OpenAPI
// document declares for that operation: the one list both the document
// and the unknown-parameter check read.
var documentedQuery = sync.OnceValues(func() (map[string][]string, error) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		return nil, fmt.Errorf("api handler: openapi.json: %w", err)
	}
	type param struct {
		Name string `json:"name"`
		In   string `json:"in"`
	}
	out := map[string][]string{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			if method == "parameters" {
				continue
			}
			var op struct {
				Parameters []param `json:"parameters"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("api handler: openapi.json %s %s: %w", method, path, err)
			}
			names := []string{}
			for _, p := range op.Parameters {
				if p.In == "query" {
					names = append(names, p.Name)
				}
			}
			sort.Strings(names)
			out[strings.ToUpper(method)+" "+path] = names
		}
	}
	return out, nil
})

// knownQuery wraps a route's handler with the check every endpoint shares:
// a query parameter the route does not document is a 400 naming it, so a
// misspelt filter (?lable=…) never silently returns the unfiltered list.
func knownQuery(rt Route, next http.HandlerFunc) (http.HandlerFunc, error) {
	doc, err := documentedQuery()
	if err != nil {
		return nil, err
	}
	names, ok := doc[rt.Method+" "+rt.Pattern]
	if !ok {
		return nil, fmt.Errorf("api handler: %s %s is not in openapi.json", rt.Method, rt.Pattern)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			for k := range r.URL.Query() {
				if slices.Contains(names, k) {
					continue
				}
				takes := "takes no query parameters"
				if len(names) > 0 {
					takes = "takes " + strings.Join(names, ", ")
				}
				writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown query parameter %q (%s %s %s)", k, rt.Method, rt.Pattern, takes))
				return
			}
		}
		next(w, r)
	}, nil
}

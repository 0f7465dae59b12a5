package api

import _ "embed"

//go:embed openapi.json
var openapiDoc []byte

// OpenAPI returns the OpenAPI 3 document describing /api/v1 (served at
// /api/v1/openapi.json). It is kept as a file so operators can read and lint
// it, and a test checks every route the handler serves is described in it.
func OpenAPI() []byte { return openapiDoc }

// Package web is the omadm operator console: a single page, embedded in the
// binary, that talks only to the public REST API (/api/v1) with the operator's
// bearer token. It holds no server logic, so everything it shows can also be
// had with `omadm ctl` or curl.
package web

// The console is written in TypeScript under src/ and compiled into static/
// (committed, so building omadm needs no Node). The API client in
// src/api/gen.ts is generated from the OpenAPI document.
//go:generate go run ./internal/apigen -in ../api/openapi.json -out src/api/gen.ts
//go:generate go tool esbuild src/main.ts --bundle --format=esm --target=es2022 --charset=utf8 --legal-comments=none --log-level=warning --outfile=static/app.js

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Handler serves the console files under prefix (for example "/ui/"). The
// Content-Security-Policy allows only this origin: no inline script, no
// third-party content, and the token never leaves for another site.
func Handler(prefix string) http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.StripPrefix(prefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

#!/usr/bin/env bash
# Rebuilds the console: regenerates the TypeScript API client from
# api/openapi.json and compiles web/src into web/static/app.js with esbuild
# (the Go module, a tool of go.mod: no Node or npm needed). The output is
# committed; CI runs this and fails when the result differs.
set -euo pipefail
cd "$(dirname "$0")/../web"
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
go generate .

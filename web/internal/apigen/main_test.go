package main

import (
	"os"
	"strings"
	"testing"
)

// The committed client must be what the OpenAPI document generates, so the
// console's types never drift from the API (`go generate` in web/ fixes it).
func TestGenerated_ClientMatchesTheOpenAPIDocument(t *testing.T) {
	doc, err := os.ReadFile("../../../api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := generate(doc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../src/api/gen.ts")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatal("web/src/api/gen.ts is stale: run scripts/web-build.sh")
	}
}

func TestGenerate_TypesAndMethods(t *testing.T) {
	doc := []byte(`{"paths":{"/api/v1/things/{id}":{"parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"integer"}}],
	"get":{"operationId":"getThing","summary":"one thing","parameters":[{"name":"after","in":"query","schema":{"type":"string"}}],
	"responses":{"200":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Thing"}}}}}}}},
	"components":{"schemas":{"Thing":{"type":"object","required":["id"],"properties":{
	"id":{"type":"integer"},"seen":{"type":["string","null"]},"kind":{"type":"string","enum":["a","b"]},
	"tags":{"type":"object","additionalProperties":{"type":"string"}},"list":{"type":"array","items":{"$ref":"#/components/schemas/Thing"}}}}}}}`)
	out, err := generate(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"export interface Thing {",
		"  id: number;",
		"  seen?: string | null;",
		`  kind?: "a" | "b";`,
		"  tags?: Record<string, string>;",
		"  list?: Thing[];",
		"getThing(id: number | string, query: { after?: string } = {}): Promise<Thing>",
		"`/api/v1/things/${encodeURIComponent(String(id))}`",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := generate([]byte(`{"paths":{"/x":{"get":{"responses":{}}}}}`)); err == nil {
		t.Error("an operation without operationId was accepted")
	}
}

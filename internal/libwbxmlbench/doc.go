// Package libwbxmlbench measures omadm's WBXML codec against libwbxml, the
// reference C implementation, in one process and one run, so the throughput
// ratio the project targets (≥3× libwbxml) is measured rather than assumed.
//
// The cgo binding and the benchmarks are behind the build tag "libwbxml" so
// ordinary builds need neither cgo nor libwbxml2-dev:
//
//	apt-get install -y libwbxml2-dev
//	go test -tags libwbxml -run XXX -bench . -benchmem ./internal/libwbxmlbench
package libwbxmlbench

package content

import (
	"net/url"
	"strings"

	"github.com/omadm/omadm/mo/dlota"
)

// Paths under the server's base URL (served by api/handler.Downloads).
const (
	DownloadPrefix = "/dl/"
	notifySuffix   = "/notify"
)

// Descriptor generates the OMA DL 1.0 download descriptor of p for a device
// ("" = none): objectURI is base/dl/<id>, and a device-bound descriptor
// gets an installNotifyURI with the device's tag (OMA-Download-OTA-V1_0,
// installNotifyURI: where the device posts its status report).
func (c *Catalogue) Descriptor(p *Package, base, device string) []byte {
	base = strings.TrimRight(base, "/")
	d := &dlota.Descriptor{
		DDVersion: "1.0", Name: p.Name, Types: []string{p.Type}, Size: p.Size,
		ObjectURI: base + DownloadPrefix + p.ID, Description: p.Name + " " + p.Version, SHA256: p.SHA256,
	}
	if device != "" {
		d.InstallNotifyURI = base + DownloadPrefix + p.ID + notifySuffix + "?" + c.deviceQuery(p.ID, device)
	}
	return dlota.Generate(d)
}

// DescriptorURL is where a device fetches p's descriptor bound to it.
func (c *Catalogue) DescriptorURL(base, id, device string) string {
	return strings.TrimRight(base, "/") + DownloadPrefix + id + ".dd?" + c.deviceQuery(id, device)
}

func (c *Catalogue) deviceQuery(id, device string) string {
	return url.Values{"device": {device}, "tag": {c.NotifyMAC(id, device)}}.Encode()
}

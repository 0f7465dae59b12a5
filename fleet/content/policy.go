package content

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/mo/fumo"
	"github.com/omadm/omadm/storage"
)

// Node URIs the release policy reads.
const (
	modelURI   = "./DevInfo/Mod"
	versionURI = "./DevDetail/FwV"
)

// ResolvePackage is fleet.Options.Packages for this catalogue: a known
// package's descriptor URL bound to the device, under base().
func (c *Catalogue) ResolvePackage(base func() string) func(ctx context.Context, id, device string) (string, error) {
	return func(_ context.Context, id, device string) (string, error) {
		if _, err := c.Get(id); err != nil {
			return "", err
		}
		return c.DescriptorURL(base(), id, device), nil
	}
}

// FirmwareRequests is server.Options.FirmwareRequest answered from the
// release policy: a device asking for a firmware update
// (OMA-TS-DM-FUMO-V1_0, client-initiated update: generic alert of type
// org.openmobilealliance.dm.firmwareupdate.devicerequest) whose model
// (DevInfo/Mod, sent in every package 1) and firmware version have a rule
// gets a FUMO DownloadAndUpdate of the rule's package on the alert's FUMO
// node (fumo.DefaultNode when it names none). The version is the server's
// last view of DevDetail/FwV, else the alert's Data (omadm-agent puts its
// FwV there). ops must have Options.Packages set (ResolvePackage).
func (c *Catalogue) FirmwareRequests(ops *fleet.Manager, store storage.TreeCache, log *slog.Logger) func(ctx context.Context, dev *storage.Device, source, data string) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, dev *storage.Device, source, data string) error {
		model := dev.DevInfo[modelURI]
		version := data
		nodes, err := store.ListTreeNodes(ctx, dev.ID, versionURI)
		if err != nil {
			return fmt.Errorf("reading %s: %w", versionURI, err)
		}
		for _, n := range nodes {
			if n.URI == versionURI && n.Value != "" {
				version = n.Value
			}
		}
		p, ok, err := c.Match(model, version)
		if err != nil {
			return err
		}
		if !ok {
			log.Info("firmware update request: the release policy has nothing for this device", "device", dev.ID, "model", model, "version", version)
			return nil
		}
		node := source
		if node == "" {
			node = fumo.DefaultNode
		}
		r := &fleet.Request{DeviceID: dev.ID, MO: fumo.Descriptor.Name, Operation: string(fumo.OpDownloadAndUpdate), Node: node,
			Params: map[string]any{fleet.PackageParam: p.ID}}
		op, _, err := ops.Create(ctx, r)
		if err != nil {
			return fmt.Errorf("queueing the update to %s: %w", p.ID, err)
		}
		log.Info("firmware update request: update queued from the release policy", "device", dev.ID, "model", model,
			"version", version, "package", p.ID, "to_version", p.Version, "operation", op.ID)
		return nil
	}
}

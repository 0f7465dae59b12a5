package fleet_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/omadm/omadm/fleet"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/storage/memstore"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestParseSelector_EveryTerm(t *testing.T) {
	for _, tc := range []struct {
		name, sel string
		want      storage.DeviceQuery
	}{
		{"empty", "", storage.DeviceQuery{}},
		{"blank", "  ", storage.DeviceQuery{}},
		{"label", "label.env=prod", storage.DeviceQuery{Labels: map[string]string{"env": "prod"}}},
		{"label-present", "label.tier", storage.DeviceQuery{Labels: map[string]string{"tier": ""}}},
		{"label-star", "label.tier=*", storage.DeviceQuery{Labels: map[string]string{"tier": ""}}},
		{"label-quoted-star-is-a-value", `label.tier="*"`, storage.DeviceQuery{Labels: map[string]string{"tier": "*"}}},
		{"quoted-comma", `label.site="Paris, FR",man=Acme`, storage.DeviceQuery{Labels: map[string]string{"site": "Paris, FR"},
			DevInfo: map[string]string{"./DevInfo/Man": "Acme"}}},
		{"shortcuts", "model=X200,man=Acme,fwv=2.1,swv=3,hwv=B,lang=fr,dmv=1.2,oem=O,devtyp=phone", storage.DeviceQuery{DevInfo: map[string]string{
			"./DevInfo/Mod": "X200", "./DevInfo/Man": "Acme", "./DevDetail/FwV": "2.1", "./DevDetail/SwV": "3", "./DevDetail/HwV": "B",
			"./DevInfo/Lang": "fr", "./DevInfo/DmV": "1.2", "./DevDetail/OEM": "O", "./DevDetail/DevTyp": "phone"}}},
		{"uri", "./DevInfo/Ext/Color=red", storage.DeviceQuery{DevInfo: map[string]string{"./DevInfo/Ext/Color": "red"}}},
		{"id", "id=IMEI:1", storage.DeviceQuery{IDs: []string{"IMEI:1"}}},
		{"id-prefix", "id^=IMEI:35", storage.DeviceQuery{IDPrefix: "IMEI:35"}},
		{"group", "group=pilot", storage.DeviceQuery{Group: "pilot"}},
		{"seen-within", "seen<24h", storage.DeviceQuery{SeenAfter: now.Add(-24 * time.Hour)}},
		{"seen-not-for", "seen>7d", storage.DeviceQuery{SeenBefore: now.Add(-7 * 24 * time.Hour)}},
		{"seen-window", "seen<2w,seen>30m", storage.DeviceQuery{SeenAfter: now.Add(-14 * 24 * time.Hour), SeenBefore: now.Add(-30 * time.Minute)}},
		{"seen-never", "seen=never", storage.DeviceQuery{SeenBefore: time.UnixMicro(1).UTC()}},
		{"seen-absolute", "seen_after=2026-01-01T00:00:00Z,seen_before=2026-02-01T00:00:00+01:00", storage.DeviceQuery{
			SeenAfter: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), SeenBefore: time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC)}},
		{"spaces", " label.env = prod , model=X200 ", storage.DeviceQuery{Labels: map[string]string{"env": "prod"},
			DevInfo: map[string]string{"./DevInfo/Mod": "X200"}}},
		{"the-example", "label.env=prod,model=X200,fwv=2.1,man=Acme,seen<24h,group=pilot,id^=IMEI:35", storage.DeviceQuery{
			Labels: map[string]string{"env": "prod"}, Group: "pilot", IDPrefix: "IMEI:35", SeenAfter: now.Add(-24 * time.Hour),
			DevInfo: map[string]string{"./DevInfo/Mod": "X200", "./DevDetail/FwV": "2.1", "./DevInfo/Man": "Acme"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := fleet.ParseSelectorAt(tc.sel, now)
			if err != nil {
				t.Fatalf("ParseSelector(%q): %v", tc.sel, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseSelector(%q)\n got %+v\nwant %+v", tc.sel, got, tc.want)
			}
		})
	}
}

func TestParseSelector_ErrorsNameTheBadTerm(t *testing.T) {
	for _, tc := range []struct {
		name, sel, term string
	}{
		{"unknown", "label.env=prod,colour=red", "colour=red"},
		{"bad-duration", "seen<soon", "seen<soon"},
		{"bad-seen-op", "seen=yesterday", "seen=yesterday"},
		{"bad-label-key", "label.e nv=prod", "label.e nv=prod"},
		{"label-key-too-long", "label." + strings.Repeat("k", 64) + "=v", "label." + strings.Repeat("k", 64) + "=v"},
		{"empty-label-value", "label.env=", "label.env="},
		{"twice", "model=A,mod=B", "mod=B"},
		{"two-groups", "group=a,group=b", "group=b"},
		{"label-twice", "label.env=a,label.env=b", "label.env=b"},
		{"seen-never-and-older", "seen>1d,seen=never", "seen=never"},
		{"empty-term", "model=A,,man=B", "model=A,,man=B"},
		{"trailing-comma", "model=A,", "model=A,"},
		{"unterminated-quote", `label.x="a,b`, `label.x="a,b`},
		{"bad-group", "group=a b", "group=a b"},
		{"id-op", "id<3", "id<3"},
		{"caret-alone", "id^x", "id^x"},
		{"devinfo-op", "model>3", "model>3"},
		{"bad-time", "seen_after=yesterday", "seen_after=yesterday"},
		{"no-name", "=x", "=x"},
		{"control-char", "model=a\x01b", "model=a\x01b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fleet.ParseSelectorAt(tc.sel, now)
			var se *fleet.SelectorError
			if !errors.As(err, &se) {
				t.Fatalf("ParseSelector(%q) = %v, want a *SelectorError", tc.sel, err)
			}
			if se.Term != tc.term {
				t.Errorf("error names term %q, want %q (%v)", se.Term, tc.term, err)
			}
		})
	}
}

func TestValidateLabel(t *testing.T) {
	for _, k := range []string{"env", "a", "k8s.io/zone", "x_y-z", strings.Repeat("k", 63)} {
		if err := fleet.ValidateLabelKey(k); err != nil {
			t.Errorf("key %q: %v", k, err)
		}
	}
	for _, k := range []string{"", "-x", ".x", "a b", "a=b", "a,b", "é", strings.Repeat("k", 64)} {
		if err := fleet.ValidateLabelKey(k); err == nil {
			t.Errorf("key %q: accepted", k)
		}
	}
	if err := fleet.ValidateLabelValue("k", "Paris, FR (été)"); err != nil {
		t.Errorf("value: %v", err)
	}
	for _, v := range []string{"a\nb", "a\u200db", strings.Repeat("v", 257)} {
		if err := fleet.ValidateLabelValue("k", v); err == nil {
			t.Errorf("value %q: accepted", v)
		}
	}
}

func fleetStore(t *testing.T) *memstore.Store {
	t.Helper()
	s := memstore.New()
	ctx := context.Background()
	for _, d := range []*storage.Device{
		{ID: "a", Labels: map[string]string{"env": "prod"}, DevInfo: map[string]string{"./DevInfo/Mod": "X200"}},
		{ID: "b", Labels: map[string]string{"env": "prod"}, DevInfo: map[string]string{"./DevInfo/Mod": "Z9"}},
		{ID: "c", Labels: map[string]string{"env": "dev"}, DevInfo: map[string]string{"./DevInfo/Mod": "X200"}},
		{ID: "d"},
	} {
		if err := s.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []*storage.Group{
		{Name: "pilot"},
		{Name: "prod", Selector: "label.env=prod"},
		{Name: "prod-x200", Selector: "group=prod,model=X200"},
		{Name: "prod-pilot", Selector: "group=pilot,label.env=prod"},
		{Name: "loop-a", Selector: "group=loop-b"},
		{Name: "loop-b", Selector: "group=loop-a"},
		{Name: "broken", Selector: "colour=red"},
	} {
		if err := s.CreateGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddGroupMembers(ctx, "pilot", []string{"a", "c", "d"}); err != nil {
		t.Fatal(err)
	}
	return s
}

func selectIDs(t *testing.T, s storage.Store, sel string) ([]string, error) {
	t.Helper()
	q, err := fleet.ParseSelector(sel)
	if err != nil {
		t.Fatalf("ParseSelector(%q): %v", sel, err)
	}
	q.Limit = 1
	var ids []string
	err = fleet.EachPage(context.Background(), s, q, func(ds []*storage.Device) error {
		for _, d := range ds {
			ids = append(ids, d.ID)
		}
		return nil
	})
	return ids, err
}

func TestResolve_ExpandsDynamicGroups(t *testing.T) {
	s := fleetStore(t)
	for _, tc := range []struct {
		sel  string
		want []string
	}{
		{"group=pilot", []string{"a", "c", "d"}},
		{"group=prod", []string{"a", "b"}},
		{"group=prod,model=X200", []string{"a"}},
		{"group=prod-x200", []string{"a"}},
		{"group=prod-pilot", []string{"a"}},
		{"group=pilot,label.env", []string{"a", "c"}},
	} {
		got, err := selectIDs(t, s, tc.sel)
		if err != nil {
			t.Errorf("%s: %v", tc.sel, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.sel, got, tc.want)
		}
	}
}

func TestResolve_Errors(t *testing.T) {
	s := fleetStore(t)
	for _, tc := range []struct {
		sel, want string
	}{
		{"group=nope", `unknown group "nope"`},
		{"group=loop-a", "refers back to itself"},
		{"group=broken", `selector term "group=broken": its saved selector term "colour=red"`},
		{"group=prod,label.env=dev", "label.env=dev and label.env=prod exclude each other"},
	} {
		_, err := selectIDs(t, s, tc.sel)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.sel, err, tc.want)
		}
	}
	_, err := selectIDs(t, s, "group=nope")
	if !errors.Is(err, storage.ErrNotFound) || !errors.Is(err, fleet.ErrUnknownGroup) {
		t.Errorf("unknown group: %v, want ErrUnknownGroup and storage.ErrNotFound", err)
	}
}

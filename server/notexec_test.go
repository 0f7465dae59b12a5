package server_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/omadm/omadm/auth"
	"github.com/omadm/omadm/storage"
	"github.com/omadm/omadm/syncml"
)

// rejectServer turns the device's answer to r into the one a device sends
// when it rejects the server's credentials: SyncHdr 401 (with a challenge
// carrying nonce, unless nonce is nil) and 215 for every command.
func (d *device) rejectServer(r *syncml.Message, nonce []byte) []syncml.Command {
	out := d.answer(r, func(syncml.Command) syncml.StatusCode { return syncml.StatusNotExecuted }, nil)
	hs := out[0].(*syncml.Status)
	hs.Data = syncml.StatusInvalidCredentials
	if nonce != nil {
		hs.Chal = auth.MakeChal(syncml.AuthMD5, nonce)
	}
	return out
}

func TestEngine_DeviceChallengeOnServerCredentialsReauthenticatesAndResendsNotExecuted(t *testing.T) {
	for _, enc := range []syncml.Encoding{syncml.EncodingXML, syncml.EncodingWBXML} {
		t.Run(enc.String(), func(t *testing.T) {
			h := newHarness(t, nil)
			h.addDevice(t, "md5")
			get := h.addJob(t, storage.JobSpec{Command: "Get", Items: []storage.JobItem{{URI: "./DevDetail/FwV"}}})
			rep := h.addJob(t, storage.JobSpec{Command: "Replace", Items: []storage.JobItem{{URI: "./A", Data: "1"}}})
			d := newDevice(h.e, "md5")
			d.enc = enc
			r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
			if got := names(commands(r)); !reflect.DeepEqual(got, []string{"Get", "Replace"}) {
				t.Fatalf("package 2 commands %v", got)
			}
			if r.Header.Cred == nil || r.Header.Cred.Data != auth.MD5Credential(serverID, srvPass, []byte("client-nonce")) {
				t.Fatalf("package 2 Cred %+v", r.Header.Cred)
			}

			fresh := []byte("fresh-client-nonce")
			r = d.post(t, d.message(true, d.rejectServer(r, fresh)...))
			if r.Header.Cred == nil || r.Header.Cred.Data != auth.MD5Credential(serverID, srvPass, fresh) {
				t.Fatalf("after the challenge Cred = %+v, want one built from the new nonce", r.Header.Cred)
			}
			if got := names(commands(r)); !reflect.DeepEqual(got, []string{"Get", "Replace"}) || r.Final != true {
				t.Fatalf("after the challenge commands %v final %v, want Get and Replace resent", got, r.Final)
			}
			for _, id := range []int64{get, rep} {
				if j := h.job(t, id); j.State != storage.JobSent || j.Attempts != 2 {
					t.Errorf("job %d after the challenge: %s, %d attempts; want sent, 2", id, j.State, j.Attempts)
				}
			}
			if dev := h.device(t); string(dev.ClientNonce) != string(fresh) {
				t.Errorf("stored client nonce %q", dev.ClientNonce)
			}

			r = d.post(t, d.message(true, d.answer(r, nil, func(g *syncml.Get) []syncml.Item {
				return []syncml.Item{{Source: &syncml.Location{LocURI: "./DevDetail/FwV"}, Data: syncml.TextData("2.0")}}
			})...))
			// OMA-TS-DM_Security-V1_2 §5.3: over plain HTTP every reply carries
			// our credentials, built from the device's latest nonce.
			if len(commands(r)) != 0 || !r.Final || r.Header.Cred == nil || r.Header.Cred.Data != auth.MD5Credential(serverID, srvPass, fresh) {
				t.Errorf("last reply: commands %v final %v cred %+v", names(commands(r)), r.Final, r.Header.Cred)
			}
			if j := h.job(t, get); j.State != storage.JobDone || j.Status != 200 || j.Attempts != 2 || len(j.Results) != 1 || j.Results[0].Data != "2.0" {
				t.Errorf("Get job %+v", j)
			}
			if j := h.job(t, rep); j.State != storage.JobDone || j.Status != 200 || j.Attempts != 2 {
				t.Errorf("Replace job %+v", j)
			}
		})
	}
}

func TestEngine_NotExecutedJobsStayQueued(t *testing.T) {
	tests := []struct {
		name string
		// rounds is how many sessions answer the job 215 (without a challenge).
		rounds    int
		wantState storage.JobState
		wantError string
	}{
		{name: "one 215 queues the job for the next session", rounds: 1, wantState: storage.JobQueued},
		{name: "four 215s still leave it queued", rounds: 4, wantState: storage.JobQueued},
		{name: "the fifth 215 fails it", rounds: 5, wantState: storage.JobFailed, wantError: "215"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.addDevice(t, "basic")
			id := h.addJob(t, storage.JobSpec{Command: "Exec", Items: []storage.JobItem{{URI: "./Reboot"}}})
			for i := 1; i <= tt.rounds; i++ {
				d := newDevice(h.e, "basic")
				d.sessionID = string(rune('A' + i))
				r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
				if got := names(commands(r)); !reflect.DeepEqual(got, []string{"Exec"}) {
					t.Fatalf("session %d commands %v", i, got)
				}
				r = d.post(t, d.message(true, d.answer(r, func(syncml.Command) syncml.StatusCode { return syncml.StatusNotExecuted }, nil)...))
				// Not resent in the same session: the device chose not to run it.
				if len(commands(r)) != 0 || !r.Final {
					t.Fatalf("session %d resent %v in the same session", i, names(commands(r)))
				}
			}
			j := h.job(t, id)
			if j.State != tt.wantState || j.Attempts != tt.rounds || j.Status != 215 {
				t.Errorf("job: %s, %d attempts, status %d; want %s after %d", j.State, j.Attempts, j.Status, tt.wantState, tt.rounds)
			}
			if tt.wantError != "" && !strings.Contains(j.Error, tt.wantError) {
				t.Errorf("error %q does not mention %s", j.Error, tt.wantError)
			}
		})
	}
}

func TestEngine_NotExecutedMemberStaysPartOfTheGroupResult(t *testing.T) {
	h := newHarness(t, nil)
	h.addDevice(t, "basic")
	seq := h.addJob(t, storage.JobSpec{Command: "Sequence", Children: []storage.JobSpec{
		{Command: "Replace", Items: []storage.JobItem{{URI: "./A", Data: "1"}}},
		{Command: "Exec", Items: []storage.JobItem{{URI: "./B"}}},
	}})
	d := newDevice(h.e, "basic")
	r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
	r = d.post(t, d.message(true, d.answer(r, func(c syncml.Command) syncml.StatusCode {
		if c.CommandName() == "Exec" {
			return syncml.StatusNotExecuted
		}
		return syncml.StatusOK
	}, nil)...))
	if len(commands(r)) != 0 {
		t.Errorf("group resent: %v", names(commands(r)))
	}
	if j := h.job(t, seq); j.State != storage.JobDone || j.Attempts != 1 || !reflect.DeepEqual(j.ChildStatus, []int{200, 215}) {
		t.Errorf("sequence job: %s, %d attempts, members %v", j.State, j.Attempts, j.ChildStatus)
	}
}

func TestEngine_StopsReauthenticatingWhenTheDeviceKeepsRejecting(t *testing.T) {
	tests := []struct {
		name string
		// chal gives the challenge nonce of rejection i (nil: no challenge).
		chal func(i int) []byte
		// resends is how many rejections are answered with a new attempt.
		resends int
	}{
		{name: "challenges beyond auth.MaxChallenges", chal: func(i int) []byte { return []byte{'n', byte('0' + i)} }, resends: auth.MaxChallenges},
		{name: "a rejection without challenge", chal: func(int) []byte { return nil }, resends: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.addDevice(t, "basic")
			id := h.addJob(t, storage.JobSpec{Command: "Delete", Items: []storage.JobItem{{URI: "./X"}}})
			d := newDevice(h.e, "basic")
			r := d.post(t, d.message(true, d.pkg1(syncml.AlertClientInitiatedMgmt)...))
			for i := 1; i <= tt.resends; i++ {
				r = d.post(t, d.message(true, d.rejectServer(r, tt.chal(i))...))
				if got := names(commands(r)); !reflect.DeepEqual(got, []string{"Delete"}) || r.Header.Cred == nil {
					t.Fatalf("rejection %d: commands %v cred %+v, want Delete resent with Cred", i, got, r.Header.Cred)
				}
			}
			r = d.post(t, d.message(true, d.rejectServer(r, tt.chal(tt.resends+1))...))
			if len(commands(r)) != 0 || !r.Final || r.Header.Cred != nil {
				t.Fatalf("after giving up: commands %v final %v cred %+v", names(commands(r)), r.Final, r.Header.Cred)
			}
			s, err := h.store.GetSession(context.Background(), devID, "1")
			if err != nil || !s.Closed {
				t.Fatalf("session %+v, %v: want closed", s, err)
			}
			if j := h.job(t, id); j.State != storage.JobQueued || j.Attempts != tt.resends+1 {
				t.Errorf("job: %s after %d attempts; want queued after %d", j.State, j.Attempts, tt.resends+1)
			}
		})
	}
}

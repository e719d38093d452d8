package voicetelemetry

import (
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestSessionsListsTheOpenSessions(t *testing.T) {
	sc := newScripted(t)
	before := NowNs()
	all, err := Sessions()
	after := NowNs()
	mustOK(t, "Sessions", err)
	var mine []SessionSummary
	for _, s := range all {
		if strings.HasPrefix(s.SessionID, sc.transport) {
			// Real time: the uptime is "now" (read during the call) minus t0.
			if s.UptimeNs < before-sc.t0 || s.UptimeNs > after-sc.t0 {
				t.Errorf("%s: uptime %d ns outside [%d, %d]", s.SessionID, s.UptimeNs, before-sc.t0, after-sc.t0)
			}
			s.UptimeNs = 0
			mine = append(mine, s)
		}
	}
	startUnix := func(s *Session) uint64 {
		snap, err := s.Snapshot(0)
		mustOK(t, "Snapshot", err)
		return snap.StartUnixNs
	}
	e2eA, e2eB := int64(1200*msec), int64(700*msec)
	labels := map[string]string{"transport": sc.transport}
	want := []SessionSummary{
		{SessionID: sc.transport + "-a", Labels: labels, StartUnixNs: startUnix(sc.a), TurnsCompleted: 2,
			LastE2ENs: &e2eA, TraceID: traceA},
		{SessionID: sc.transport + "-b", Labels: labels, StartUnixNs: startUnix(sc.b), TurnsCompleted: 1,
			LastE2ENs: &e2eB, TraceID: traceB},
	}
	if !reflect.DeepEqual(mine, want) {
		t.Errorf("Sessions:\n got %+v\nwant %+v", mine, want)
	}
	mustOK(t, "Close", sc.a.Close())
	all, err = Sessions()
	mustOK(t, "Sessions", err)
	for _, s := range all {
		if s.SessionID == sc.transport+"-a" {
			t.Errorf("an ended session is still listed")
		}
	}
}

func TestSessionsWithoutTurnsHaveNoLastE2E(t *testing.T) {
	id := uniqueName(t, "")
	s := mustSession(t, WithSessionID(id))
	all, err := Sessions()
	mustOK(t, "Sessions", err)
	for _, info := range all {
		if info.SessionID == id {
			snap, err := s.Snapshot(0)
			mustOK(t, "Snapshot", err)
			if info.LastE2ENs != nil || info.TurnsCompleted != 0 || info.TraceID != snap.TraceID || len(info.Labels) != 0 {
				t.Errorf("%+v", info)
			}
			return
		}
	}
	t.Errorf("session %s not listed", id)
}

func TestFindSessionBorrowsTheSession(t *testing.T) {
	sc := newScripted(t)
	found, err := FindSession(sc.transport + "-a")
	mustOK(t, "FindSession", err)
	if found.Handle() != sc.a.Handle() || found.ID() != sc.transport+"-a" {
		t.Fatalf("found handle %d id %q, want %d", found.Handle(), found.ID(), sc.a.Handle())
	}
	turn, err := found.LastTurn()
	mustOK(t, "LastTurn", err)
	if turn == nil || *turn.E2ELatencyNs != int64(1200*msec) {
		t.Errorf("last turn through the borrowed Session: %+v", turn)
	}
	// Dropping the borrowed Session (no finalizer) leaves the session open.
	found = nil
	runtime.GC()
	runtime.GC()
	snap, err := sc.a.Snapshot(0)
	mustOK(t, "Snapshot after GC", err)
	if snap.Turns.Completed != 2 {
		t.Errorf("turns completed %d", snap.Turns.Completed)
	}
	again, err := FindSession(sc.transport + "-a")
	mustOK(t, "FindSession", err)
	mustOK(t, "Close", sc.a.Close()) // the owner ends it: the borrowed one gets ErrBadHandle
	if _, err := again.Snapshot(0); !errors.Is(err, ErrBadHandle) {
		t.Errorf("Snapshot through the borrowed Session after the owner's Close: %v", err)
	}
	if _, err := FindSession(sc.transport + "-a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("FindSession of an ended session: %v", err)
	}
}

func TestFindSessionPicksTheNewestOfASharedID(t *testing.T) {
	id := uniqueName(t, "")
	old := mustSession(t, WithSessionID(id))
	newer := mustSession(t, WithSessionID(id))
	for _, want := range []*Session{newer, old} {
		found, err := FindSession(id)
		mustOK(t, "FindSession", err)
		if found.Handle() != want.Handle() {
			t.Errorf("found %d, want %d", found.Handle(), want.Handle())
		}
		mustOK(t, "Close", newer.Close())
	}
}

func TestFindSessionRefusesBadIDs(t *testing.T) {
	for _, id := range []string{"", strings.Repeat("x", MaxSessionIDBytes+1), "\xff\xfe", "a\x00b"} {
		if _, err := FindSession(id); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("FindSession(%q): %v, want ErrInvalidArgument", id, err)
		}
	}
}

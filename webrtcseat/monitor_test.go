package webrtcseat_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"lianxin/callflow"
	"lianxin/webrtcseat"
	"lianxin/webrtcseat/webrtcseattest"
)

func openSupervisor(t *testing.T, e *webrtcseat.Engine, opts webrtcseattest.Options) *webrtcseattest.Page {
	p := webrtcseattest.New(opts)
	p.Attach(e.Open(webrtcseat.Client{User: "boss", Admin: true}, p.Deliver))
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func TestListenHearsBothSides(t *testing.T) {
	e, ev := newEngine(t)
	openPage(t, e, "seat-01", webrtcseattest.Options{AutoAnswer: true, Mic: tone(440, 0.3)})
	flow := newFlowLeg(t)
	sc := ring(t, e, flow, "seat-01")
	flow.play(sc.Remote().Addr, tone(1000, 0.3))

	sup := openSupervisor(t, e, webrtcseattest.Options{RecvOnly: true})
	require.NoError(t, sup.Offer("monitor.start", map[string]any{"seat": "seat-01", "mode": "listen"}))
	require.Eventually(t, sup.Connected, 5*time.Second, 10*time.Millisecond, "supervisor connects")
	heardTone(t, sup.Heard, 1000, 0.08, "the supervisor hears the caller")
	heardTone(t, sup.Heard, 440, 0.08, "the supervisor hears the agent")
	_, mons := ev.snapshot()
	require.Len(t, mons, 1)
	require.Equal(t, webrtcseat.MonitorEvent{Supervisor: "boss", Seat: "seat-01", Mode: "listen", Started: true, At: mons[0].At}, mons[0])

	agent := openPage(t, e, "seat-02", webrtcseattest.Options{})
	require.Error(t, agent.Send("monitor.start", map[string]any{"seat": "seat-01", "mode": "listen", "pc": "x", "sdp": "v=0"}),
		"an agent may not listen")
	require.Error(t, sup.Send("monitor.start", map[string]any{"seat": "seat-02", "mode": "listen", "pc": "y", "sdp": "v=0"}),
		"a seat without a call")

	require.NoError(t, sc.Hangup(context.Background()))
	require.Eventually(t, func() bool { _, m := ev.snapshot(); return len(m) == 2 }, 2*time.Second, 10*time.Millisecond,
		"the call's end stops the listen, and the audit hears of it")
}

func TestWhisperReachesTheAgentOnly(t *testing.T) {
	e, _ := newEngine(t)
	page := openPage(t, e, "seat-01", webrtcseattest.Options{AutoAnswer: true, Mic: tone(440, 0.3)})
	flow := newFlowLeg(t)
	sc := ring(t, e, flow, "seat-01")
	flow.play(sc.Remote().Addr, tone(1000, 0.3))

	sup := openSupervisor(t, e, webrtcseattest.Options{Mic: tone(2000, 0.3)})
	require.NoError(t, sup.Offer("monitor.start", map[string]any{"seat": "seat-01", "mode": "whisper"}))
	heardTone(t, page.Heard, 2000, 0.08, "the agent hears the whisper")
	heardTone(t, page.Heard, 1000, 0.08, "and still the caller")
	heardTone(t, flow.take, 440, 0.08, "the caller hears the agent")
	quietTone(t, flow.take, 2000, "the caller never hears the whisper")
}

func TestReloadMidCallKeepsTheCaller(t *testing.T) {
	e, ev := newEngine(t)
	page := openPage(t, e, "seat-01", webrtcseattest.Options{AutoAnswer: true, Mic: tone(440, 0.3)})
	flow := newFlowLeg(t)
	sc := ring(t, e, flow, "seat-01")
	flow.play(sc.Remote().Addr, tone(1000, 0.3))
	heardTone(t, flow.take, 440, 0.1, "before the reload")

	require.NoError(t, page.Close()) // the page reloads: its socket and connection go
	require.Eventually(t, func() bool { return !e.Phone("seat-01") }, 2*time.Second, 10*time.Millisecond)
	require.NoError(t, sc.Context().Err(), "the caller is not dropped")

	again := openPage(t, e, "seat-01", webrtcseattest.Options{Mic: tone(600, 0.3)})
	heardTone(t, flow.take, 600, 0.1, "the reloaded page's microphone reaches the caller")
	heardTone(t, again.Heard, 1000, 0.1, "the reloaded page hears the caller")
	require.NoError(t, sc.Context().Err())
	phones, _ := ev.snapshot()
	require.Equal(t, []string{"seat-01 on", "seat-01 off", "seat-01 on"}, phones)
}

func TestRingFailures(t *testing.T) {
	e, _ := newEngine(t, "PCMU")
	flow := newFlowLeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := callflow.Ring{Seat: "seat-01", Local: flow.addr(), Codecs: []string{"PCMA"}}
	_, err := e.Ring(ctx, r)
	require.ErrorIs(t, err, webrtcseat.ErrNoPhone)

	page := openPage(t, e, "seat-01", webrtcseattest.Options{})
	done := make(chan error, 1)
	go func() { _, err := e.Ring(ctx, r); done <- err }()
	require.Eventually(t, func() bool { return page.Call() != "" }, 2*time.Second, 10*time.Millisecond)
	require.NoError(t, page.Send("phone.reject", map[string]any{"call": page.Call()}))
	require.ErrorIs(t, <-done, webrtcseat.ErrRejected)
	require.Eventually(t, func() bool { return page.Last("phone.cancel") != nil }, 2*time.Second, 10*time.Millisecond,
		"the page stops ringing")

	short, cancelShort := context.WithTimeoutCause(ctx, 200*time.Millisecond, callflow.ErrNoAnswer)
	defer cancelShort()
	_, err = e.Ring(short, r)
	require.ErrorIs(t, err, callflow.ErrNoAnswer, "an unanswered ring ends with the flow's cause")
}

func TestICERestartKeepsTheConnection(t *testing.T) {
	e, _ := newEngine(t)
	page := openPage(t, e, "seat-01", webrtcseattest.Options{AutoAnswer: true, Mic: tone(440, 0.3)})
	flow := newFlowLeg(t)
	sc := ring(t, e, flow, "seat-01")
	flow.play(sc.Remote().Addr, tone(1000, 0.3))
	heardTone(t, page.Heard, 1000, 0.1, "before the restart")
	first := string(page.Last("phone.answer"))
	require.NoError(t, page.Restart())
	require.Eventually(t, func() bool { return string(page.Last("phone.answer")) != first }, 5*time.Second, 10*time.Millisecond,
		"the gateway answers the restart")
	require.Contains(t, string(page.Last("phone.answer")), "ice-ufrag")
	heardTone(t, page.Heard, 1000, 0.1, "after the restart")
	heardTone(t, flow.take, 440, 0.1, "after the restart, the other way")
	require.NoError(t, sc.Context().Err())
}

func TestBargeReachesBothSides(t *testing.T) {
	e, ev := newEngine(t)
	page := openPage(t, e, "seat-01", webrtcseattest.Options{AutoAnswer: true, Mic: tone(440, 0.3)})
	flow := newFlowLeg(t)
	sc := ring(t, e, flow, "seat-01")
	flow.play(sc.Remote().Addr, tone(1000, 0.3))

	sup := openSupervisor(t, e, webrtcseattest.Options{Mic: tone(2000, 0.3)})
	require.NoError(t, sup.Offer("monitor.start", map[string]any{"seat": "seat-01", "mode": "barge"}))
	heardTone(t, page.Heard, 2000, 0.08, "the agent hears the supervisor")
	heardTone(t, flow.take, 2000, 0.08, "the caller hears the supervisor")
	heardTone(t, flow.take, 440, 0.08, "and still the agent")
	_, mons := ev.snapshot()
	require.Equal(t, "barge", mons[0].Mode)
}

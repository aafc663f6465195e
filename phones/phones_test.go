package phones

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"lianxin/callflow"
	"lianxin/seat"
	"lianxin/webrtcseat"
)

// fakePhones is a SIP side that records the seats it was asked to ring.
type fakePhones struct{ rang []string }

func (f *fakePhones) Ring(_ context.Context, r callflow.Ring) (callflow.SeatCall, error) {
	f.rang = append(f.rang, r.Seat)
	return nil, errors.New("not answered")
}

// The router rings the phone the ACD says the seat has: its browser when a page is its
// phone (even with a SIP phone registered too), else its SIP phone.
func TestPhoneRouter(t *testing.T) {
	acd, err := seat.New(seat.Config{Seats: []string{"seat-02", "seat-03", "seat-04"}}, seat.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = acd.Close() })
	sip := &fakePhones{}
	web, err := webrtcseat.New(webrtcseat.Config{}, webrtcseat.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = web.Close() })
	p := &Router{acd: acd, sip: sip, web: web}
	ctx := context.Background()
	ring := func(seat string) error {
		_, err := p.Ring(ctx, callflow.Ring{Seat: seat, Local: netip.MustParseAddrPort("127.0.0.1:9"), Codecs: []string{"PCMU"}})
		return err
	}
	require.NoError(t, acd.SetRegistered("seat-02", true))
	require.Error(t, ring("seat-02"))
	require.Equal(t, []string{"seat-02"}, sip.rang, "a SIP-only seat rings its SIP phone")

	require.NoError(t, acd.SetRegistered("seat-03", true))
	require.NoError(t, acd.SetPhone("seat-03", seat.PhoneWebRTC, true))
	require.ErrorIs(t, ring("seat-03"), webrtcseat.ErrNoPhone, "the browser was rung (this engine has no page)")
	require.Equal(t, []string{"seat-02"}, sip.rang, "not the SIP phone")
	require.Equal(t, "webrtc", p.Kind("seat-03"))
	require.Equal(t, "sip", p.Kind("seat-02"))
	require.Empty(t, p.Kind("seat-04"))
}

package sip

import (
	"context"
	"errors"
	"fmt"

	siplib "github.com/emiago/sipgo/sip"
)

// ErrDialogGone is a probe's answer from a phone that knows no such call (481): it
// restarted, or hung up and its CANCEL was lost.
var ErrDialogGone = errors.New("sip: the caller's phone knows no such call")

// Probe asks the caller's phone whether it is still in the call, with an OPTIONS inside
// the call's dialog (RFC 3261 §11: OPTIONS may be sent in a dialog; RFC 5057 §5.1: a 481
// ends the dialog). A proxy's 408 is no answer. Any other final answer, even a refusal of OPTIONS itself (405, 501),
// means the phone is there. With no answer before ctx ends it returns ctx's error; over
// UDP the client transaction retransmits meanwhile (T1 doubling).
//
// The From and To are written here from the INVITE (whose To carries the gateway's tag
// since ReadInvite) rather than left to sipgo, which would read the last response sent,
// a field an answer may be writing at the same moment.
func (c *InboundCall) Probe(ctx context.Context) error {
	inv := c.dlg.InviteRequest
	req := siplib.NewRequest(siplib.OPTIONS, *inv.Contact().Address.Clone())
	from, to := inv.To().AsFrom(), inv.From().AsTo()
	req.AppendHeader(&from)
	req.AppendHeader(&to)
	req.AppendHeader(siplib.NewHeader("Accept", "application/sdp"))
	req.AppendHeader(siplib.NewHeader("User-Agent", c.srv.cfg.UserAgent))
	res, err := c.dlg.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("sip: probe: %w", err)
	}
	switch res.StatusCode {
	case siplib.StatusCallTransactionDoesNotExists:
		return fmt.Errorf("%w (%d %s)", ErrDialogGone, res.StatusCode, res.Reason)
	case siplib.StatusRequestTimeout:
		// a proxy on the route answers for a phone that did not
		return fmt.Errorf("sip: probe: %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

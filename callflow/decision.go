package callflow

import (
	"context"
	"fmt"

	"lianxin/dispatch"
	"lianxin/store"
)

// CallReader reads a stored call back (the store).
type CallReader interface {
	Call(ctx context.Context, id string) (store.CallDetail, error)
}

// RecordDecision keeps an agent's choice of department as a labelled example for
// retraining, in the feedback file at path (the desk stores the decision itself).
func RecordDecision(ctx context.Context, st CallReader, path string, clf *dispatch.Classifier, callID, dept string) error {
	if clf.Taxonomy().Index(dept) < 0 {
		return fmt.Errorf("unknown department %q", dept)
	}
	call, err := st.Call(ctx, callID)
	if err != nil {
		return err
	}
	var text string
	for _, u := range call.Utterances {
		if u.Channel == "caller" {
			text += u.Text + " "
		}
	}
	var suggested []dispatch.Suggestion
	if n := len(call.Suggestions); n > 0 {
		for _, d := range call.Suggestions[n-1].Departments {
			suggested = append(suggested, dispatch.Suggestion{ID: d.ID, Name: d.Name, Score: d.Score})
		}
	}
	if text == "" {
		return nil // nothing was transcribed: no example to learn from
	}
	return dispatch.AppendFeedback(path, dispatch.Feedback(callID, text, suggested, dept))
}

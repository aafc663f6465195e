package dispatch

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// partials turns an utterance into the growing transcript an ASR engine would report,
// a few characters at a time.
func partials(prefix, s string, step int) []string {
	r := []rune(s)
	var out []string
	for i := step; i < len(r)+step; i += step {
		out = append(out, prefix+string(r[:min(i, len(r))]))
	}
	return out
}

func TestTrackerDebounces(t *testing.T) {
	c := defaultClassifier(t)
	tr := NewTracker(c, TrackerOptions{})
	first := "喂你好我想反映一下我们家这边从早上开始就停水了到现在都还没有来水也没有通知"
	var emitted [][]Suggestion
	steps := 0
	for _, p := range partials("", first, 2) {
		steps++
		if s, ok := tr.Update(p); ok {
			emitted = append(emitted, s)
		}
		// The same partial again (engines repeat themselves) never speaks.
		_, ok := tr.Update(p)
		require.False(t, ok)
	}
	require.Len(t, emitted, 1, "one confident ranking is shown, not every partial (%d partials)", steps)
	require.Equal(t, "water-supply", emitted[len(emitted)-1][0].ID)
	require.Equal(t, "water-supply", tr.Shown())

	// The caller moves on to a second, weightier topic: the suggestion follows once.
	second := "其实我主要是想说我们老板拖欠了我三个月的工资一直不发工资的事情你们能不能帮我"
	changed := 0
	for _, p := range partials(first, second, 3) {
		if s, ok := tr.Update(p); ok {
			changed++
			require.Equal(t, "hr-social-security", s[0].ID)
		}
	}
	require.Equal(t, 1, changed)

	final := tr.Final(first + second)
	require.Len(t, final, 3)
	require.Equal(t, "hr-social-security", final[0].ID)
}

func TestTrackerQuietOnUnsure(t *testing.T) {
	c := defaultClassifier(t)
	tr := NewTracker(c, TrackerOptions{MinScore: 0.99})
	for _, p := range partials("", "喂你好我想问一下那个", 1) {
		_, ok := tr.Update(p)
		require.False(t, ok)
	}
	require.Empty(t, tr.Shown())
	require.Empty(t, tr.Final("   "))
	require.NotEmpty(t, tr.Final(strings.Repeat("停电", 3)))
}

// English speech through the embedded recogniser rarely reaches the confidence a
// suggestion needs before hang-up; once enough is said the agent sees a tentative
// suggestion, and a confident one replaces it when the transcript earns it.
func TestTrackerTentativeThenConfident(t *testing.T) {
	c := defaultClassifier(t)
	tr := NewTracker(c, TrackerOptions{})
	_, ok := tr.Update("hello good morning")
	require.False(t, ok, "too little said")
	s, ok := tr.Update("hello i'm calling because the street light outside my house has been broken for a week")
	require.True(t, ok, "a tentative suggestion instead of silence until hang-up")
	require.Equal(t, "urban-management", s[0].ID)
	require.True(t, s[0].Tentative)
	_, ok = tr.Update("hello i'm calling because the street light outside my house has been broken for a week now")
	require.False(t, ok, "the same tentative top says nothing again")

	tr = NewTracker(c, TrackerOptions{})
	s, ok = tr.Update("the neighbours are playing loud music every night")
	require.True(t, ok)
	require.False(t, s[0].Tentative, "a confident ranking is shown as one")
	_, ok = tr.Update("the neighbours are playing loud music every night and i think")
	require.False(t, ok, "a confident suggestion is not replaced by a tentative one")
}

package dispatch

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func trainingSet(t *testing.T) []Example {
	t.Helper()
	exs, err := LoadExamples("../testdata/dispatch/train")
	require.NoError(t, err)
	return exs
}

func TestTrainBothAlgorithms(t *testing.T) {
	tax, err := DefaultTaxonomy()
	require.NoError(t, err)
	train := trainingSet(t)
	held, err := LoadExamples("../testdata/dispatch/heldout")
	require.NoError(t, err)
	for _, algo := range []string{AlgoLogistic, AlgoNaiveBayes, AlgoBlend} {
		t.Run(algo, func(t *testing.T) {
			m, err := Train(tax, train, TrainOptions{Algo: algo, Folds: 1, Epochs: 20})
			require.NoError(t, err)
			require.Equal(t, algo, m.Algo)
			c, err := New(tax, m)
			require.NoError(t, err)
			rep := Evaluate(c, held, time.Now)
			require.Greater(t, rep.Langs["zh"].Top1, 0.6)
		})
	}
}

func TestTrainRejectsBadLabels(t *testing.T) {
	tax, err := DefaultTaxonomy()
	require.NoError(t, err)
	_, err = Train(tax, []Example{{Text: "a", Label: "water-supply"}, {Text: "b", Label: "mars-office"}}, TrainOptions{})
	require.ErrorContains(t, err, "mars-office")
	_, err = Train(tax, []Example{{Text: "a", Label: "water-supply", Alt: "nope"}, {Text: "b", Label: "water-supply"}}, TrainOptions{})
	require.ErrorContains(t, err, "nope")
	_, err = Train(tax, nil, TrainOptions{})
	require.Error(t, err)
	_, err = Train(tax, trainingSet(t)[:10], TrainOptions{Algo: "svm"})
	require.ErrorContains(t, err, "svm")
}

// TestRetrainWithFeedback is the agent-feedback loop: decisions recorded with
// AppendFeedback, read back and trained on, change what the model suggests.
func TestRetrainWithFeedback(t *testing.T) {
	tax, err := DefaultTaxonomy()
	require.NoError(t, err)
	train := trainingSet(t)
	const novel = "海鸥计划的补贴"
	before, err := Train(tax, train, TrainOptions{Folds: 1})
	require.NoError(t, err)
	cb, err := New(tax, before)
	require.NoError(t, err)
	require.NotEqual(t, "agriculture-rural", cb.Rank("我想问一下"+novel+"什么时候发", 1)[0].ID)

	path := filepath.Join(t.TempDir(), "feedback.jsonl")
	for _, text := range []string{novel + "怎么申请", "那个" + novel + "还没到账", "嗯" + novel + "是哪个部门管的", novel + "今年有没有"} {
		suggested := cb.Rank(text, 3)
		require.NoError(t, AppendFeedback(path, Feedback("call-1", text, suggested, "agriculture-rural")))
	}
	fb, err := ReadExamples(path)
	require.NoError(t, err)
	require.Len(t, fb, 4)
	require.Equal(t, "override", fb[0].Decision)
	require.Equal(t, "zh", fb[0].Lang)

	after, err := Train(tax, append(train, fb...), TrainOptions{Folds: 1})
	require.NoError(t, err)
	ca, err := New(tax, after)
	require.NoError(t, err)
	require.Equal(t, "agriculture-rural", ca.Rank("我想问一下"+novel+"什么时候发", 1)[0].ID)
}

func TestCalibration(t *testing.T) {
	// The built-in model's temperature was fitted by cross-validation; its scores should be
	// neither wildly over- nor under-confident on held-out data: the mean top-1 score lands
	// near the top-1 accuracy.
	c := defaultClassifier(t)
	held, err := LoadExamples("../testdata/dispatch/heldout")
	require.NoError(t, err)
	var conf, hits float64
	for _, ex := range held {
		got := c.Rank(ex.Text, 1)
		conf += got[0].Score
		if got[0].ID == ex.Label || got[0].ID == ex.Alt {
			hits++
		}
	}
	n := float64(len(held))
	require.InDelta(t, hits/n, conf/n, 0.15)
}

package ngram

import (
	"bufio"
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestExpand(t *testing.T) {
	got, err := Expand(strings.NewReader("# comment\n\nThe {bus|train} is {late|full}\nhello  world\n"))
	require.NoError(t, err)
	require.Equal(t, []string{"the bus is late", "the bus is full", "the train is late", "the train is full", "hello world"}, got)
	for _, bad := range []string{"a {b|c", "a {b {c}}", "a } b", "a | b"} {
		_, err := Expand(strings.NewReader(bad))
		require.Error(t, err, bad)
	}
	_, err = Expand(strings.NewReader(strings.Repeat("{a|b|c|d|e|f|g|h|i|j} ", 5)))
	require.ErrorContains(t, err, "more than")
}

// parse reads an ARPA file back into log10 probabilities and back-off weights.
func parse(t *testing.T, arpa string) (map[string]float64, map[string]float64) {
	p, b := map[string]float64{}, map[string]float64{}
	order := 0
	sc := bufio.NewScanner(strings.NewReader(arpa))
	for sc.Scan() {
		l := sc.Text()
		if strings.HasSuffix(l, "-grams:") {
			order = int(l[1] - '0')
			continue
		}
		f := strings.Fields(l)
		if order == 0 || len(f) < order+1 {
			continue
		}
		lp, err := strconv.ParseFloat(f[0], 64)
		require.NoError(t, err)
		key := strings.Join(f[1:order+1], " ")
		p[key] = lp
		if len(f) == order+2 {
			bo, err := strconv.ParseFloat(f[order+1], 64)
			require.NoError(t, err)
			b[key] = bo
		}
	}
	return p, b
}

// prob is the back-off probability of w after the history h (up to two words).
func prob(p, b map[string]float64, h []string, w string) float64 {
	key := strings.Join(append(append([]string{}, h...), w), " ")
	if lp, ok := p[key]; ok {
		return math.Pow(10, lp)
	}
	return math.Pow(10, b[strings.Join(h, " ")]) * prob(p, b, h[1:], w)
}

func TestARPANormalised(t *testing.T) {
	m := Count([]string{"the bus is late", "the bus is full", "the train is late", "my water is off", "the water is dirty"})
	var buf bytes.Buffer
	require.NoError(t, m.WriteARPA(&buf))
	require.Contains(t, buf.String(), "ngram 3=")
	p, b := parse(t, buf.String())
	vocab := append(m.Vocabulary(), "</s>")
	for _, h := range [][]string{{"<s>"}, {"the"}, {"bus", "is"}, {"the", "bus"}, {"is", "late"}, {"water", "is"}, {"<s>", "the"}} {
		var sum float64
		for _, w := range vocab {
			sum += prob(p, b, h, w)
		}
		require.InDelta(t, 1.0, sum, 1e-3, "history %v", h)
	}
	require.Greater(t, prob(p, b, []string{"the", "bus"}, "is"), prob(p, b, []string{"the", "bus"}, "water"))
}

func TestEmptyModel(t *testing.T) {
	require.Error(t, Count(nil).WriteARPA(&bytes.Buffer{}))
}

func TestReadCases(t *testing.T) {
	in := `{"lang": "en", "text": "The No. 12 bus didn't stop — twice!", "label": "transport"}
{"lang": "zh", "text": "公交车没停", "label": "transport"}

{"lang": "en", "text": "Home-based care?", "label": "civil-affairs"}
`
	got, err := ReadCases(strings.NewReader(in), "en")
	require.NoError(t, err)
	require.Equal(t, []string{"the no bus didn't stop twice", "home based care"}, got)
	_, err = ReadCases(strings.NewReader("{not json}\n"), "en")
	require.ErrorContains(t, err, "case line 1")
}

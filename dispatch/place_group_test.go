package dispatch

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGroupPlaces groups the spellings TestExtractPlaces holds to be one place or two, as
// work orders would spell them, among others in one list.
func TestGroupPlaces(t *testing.T) {
	same := [][]string{
		{"阳光花园", "洋光花园", "阳光小区"},
		{"兴建路", "新建路", "沈家门兴建路"},
		{"东河菜场", "东和菜市场"},
		{"二十五路公交", "25路车"},
		{"定海一小", "定海1小"},
		{"金城花园6号楼", "京城花园六幢", "金城花园第六栋"},
	}
	apart := []string{"月光花园", "阳光家园", "阳光花园3号楼", "阳光花园5号楼", "兴建村", "建设路", "实验小学", "实验中学", "定海二小", "定海一中", "金城花园", "门口"}
	var spellings []string
	for _, s := range same {
		spellings = append(spellings, s...)
	}
	spellings = append(spellings, apart...)
	spellings = append(spellings, "门口", "  门口 ") // no place: grouped as the same text

	ids := GroupPlaces(spellings)
	require.Len(t, ids, len(spellings))
	groupOf := map[string]int{}
	for i, s := range spellings {
		groupOf[s] = ids[i]
	}
	firsts := map[int]string{}
	for _, s := range same {
		g := groupOf[s[0]]
		for _, o := range s[1:] {
			require.Equal(t, g, groupOf[o], "%s = %s", o, s[0])
		}
		require.NotContains(t, firsts, g, "%s and %s are two places", s[0], firsts[g])
		firsts[g] = s[0]
	}
	for _, a := range apart {
		g := groupOf[a]
		require.NotContains(t, firsts, g, "%s and %s are two places", a, firsts[g])
		firsts[g] = a
	}
	require.Equal(t, groupOf["门口"], groupOf["  门口 "])
	require.Equal(t, ids, GroupPlaces(spellings), "the same spellings in the same order group the same way")

	// 阳光小区 is any compound called 阳光: it joins whichever is first.
	require.Equal(t, []int{0, 1, 0}, GroupPlaces([]string{"阳光花园", "阳光家园", "阳光小区"}))
	require.Equal(t, []int{0, 1, 0}, GroupPlaces([]string{"阳光家园", "阳光花园", "洋光小区"}))
}

package dispatch

// Places returns the named places a caller mentions in text (compounds, markets, schools,
// roads, villages, bus routes), in the order said, places named only as landmarks for the
// next one left out. A building number said apart from the name (我住五幢) is given to the
// first place that has none. The work-order draft fills its place field from it.
func Places(text string) []Place {
	norm := normalize(text)
	ps := extractPlaces(norm)
	if b := buildingIn(norm); b > 0 {
		for i := range ps {
			if ps[i].Building == 0 && ps[i].site() {
				ps[i].Building = b
				break
			}
		}
	}
	return ps
}

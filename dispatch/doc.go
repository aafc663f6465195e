// Package dispatch suggests which government department should act on a hotline call, from
// the caller's transcript, while the caller is still speaking.
//
// A Classifier ranks the taxonomy's departments for a text: a linear model over Chinese
// character n-grams and English word n-grams (trained by Train, stored as a model file),
// temperature-calibrated so that scores are probabilities, plus keyword and tie-break boosts
// from the taxonomy config. A Tracker turns the growing transcript of a call into debounced
// suggestions; Hotspots groups calls about the same issue at the same place; AppendFeedback
// records the agent's decisions as training examples. The package imports no other project
// package.
package dispatch

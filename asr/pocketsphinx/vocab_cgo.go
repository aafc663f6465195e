//go:build cgo && !nopocketsphinx

package pocketsphinx

/*
#cgo pkg-config: pocketsphinx sphinxbase
#include <stdlib.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/ngram_model.h>

// lx_open reads an n-gram model for unigram lookups (lx_score), or returns NULL.
static ngram_model_t *lx_open(const char *path, logmath_t **lmath, cmd_ln_t **cfg) {
	err_set_logfp(NULL);
	*cfg = cmd_ln_parse_r(NULL, ps_args(), 0, NULL, FALSE);
	*lmath = logmath_init(1.0001, 0, 0);
	ngram_model_t *lm = ngram_model_read(*cfg, path, NGRAM_AUTO, *lmath);
	if (lm == NULL) { logmath_free(*lmath); cmd_ln_free_r(*cfg); }
	return lm;
}

// lx_score is the unigram log score of a word, or 1 when the model lacks it.
static int lx_score(ngram_model_t *lm, const char *w) {
	int32 wid = ngram_wid(lm, w);
	if (wid == ngram_unknown_wid(lm)) return 1;
	int32 n_used;
	return ngram_ng_score(lm, wid, NULL, 0, &n_used);
}

static void lx_close(ngram_model_t *lm, logmath_t *lmath, cmd_ln_t *cfg) {
	ngram_model_free(lm);
	logmath_free(lmath);
	cmd_ln_free_r(cfg);
}
*/
import "C"

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unsafe"
)

// topUnigrams returns the n words of dict that the n-gram model finds most probable.
func topUnigrams(path, dict string, n int) ([]string, error) {
	words, err := dictWords(dict)
	if err != nil {
		return nil, err
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var lmath *C.logmath_t
	var cfg *C.cmd_ln_t
	lm := C.lx_open(cpath, &lmath, &cfg)
	if lm == nil {
		return nil, fmt.Errorf("pocketsphinx: reading %s failed", path)
	}
	defer C.lx_close(lm, lmath, cfg)
	type ws struct {
		w string
		s int
	}
	var all []ws
	for _, w := range words {
		cw := C.CString(w)
		sc := int(C.lx_score(lm, cw))
		C.free(unsafe.Pointer(cw))
		if sc <= 0 {
			all = append(all, ws{w, sc})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].s > all[j].s })
	out := make([]string, 0, n)
	for _, x := range all[:min(n, len(all))] {
		out = append(out, x.w)
	}
	return out, nil
}

// dictWords lists a dictionary's words (alternate pronunciations once).
func dictWords(dict string) ([]string, error) {
	f, err := os.Open(dict)
	if err != nil {
		return nil, fmt.Errorf("pocketsphinx: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w, _, _ := strings.Cut(sc.Text(), " ")
		if w != "" && !strings.Contains(w, "(") {
			out = append(out, w)
		}
	}
	return out, sc.Err()
}

// writeDict writes the entries of dict whose word is in keep (all pronunciations) into dir.
func writeDict(dir, dict string, keep map[string]bool) (string, error) {
	in, err := os.Open(dict)
	if err != nil {
		return "", fmt.Errorf("pocketsphinx: %w", err)
	}
	defer in.Close()
	path := filepath.Join(dir, "vocab.dict")
	out, err := os.Create(path)
	if err != nil {
		return "", fmt.Errorf("pocketsphinx: %w", err)
	}
	w := bufio.NewWriter(out)
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		word, _, _ := strings.Cut(sc.Text(), " ")
		if i := strings.IndexByte(word, '('); i > 0 {
			word = word[:i]
		}
		if keep[word] {
			w.WriteString(sc.Text())
			w.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		out.Close()
		return "", fmt.Errorf("pocketsphinx: reading %s: %w", dict, err)
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return "", err
	}
	return path, out.Close()
}

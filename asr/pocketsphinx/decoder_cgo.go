//go:build cgo && !nopocketsphinx

package pocketsphinx

/*
#cgo pkg-config: pocketsphinx sphinxbase
#include <stdlib.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/cmn.h>
#include <sphinxbase/ngram_model.h>

static ps_decoder_t *lx_init(int argc, char **argv, int quiet) {
	if (quiet) err_set_logfp(NULL);
	cmd_ln_t *c = cmd_ln_parse_r(NULL, ps_args(), argc, argv, FALSE);
	if (c == NULL) return NULL;
	ps_decoder_t *ps = ps_init(c);
	cmd_ln_free_r(c);
	return ps;
}

// lx_set_lm loads the general and the domain model and installs their linear interpolation
// (or one of them alone, weight 0 or 1) as the active search. Each decoder gets its own
// copies: the trie LM caches history and must not be shared across threads.
static int lx_set_lm(ps_decoder_t *ps, const char *general, const char *domain, float wdomain) {
	cmd_ln_t *c = ps_get_config(ps);
	logmath_t *lmath = ps_get_logmath(ps);
	ngram_model_t *lm;
	if (domain == NULL || wdomain <= 0) {
		lm = ngram_model_read(c, general, NGRAM_AUTO, lmath);
	} else if (general == NULL || wdomain >= 1) {
		lm = ngram_model_read(c, domain, NGRAM_ARPA, lmath);
	} else {
		ngram_model_t *models[2];
		char *names[2] = {"general", "domain"};
		float32 w[2] = {1 - wdomain, wdomain};
		models[0] = ngram_model_read(c, general, NGRAM_AUTO, lmath);
		models[1] = ngram_model_read(c, domain, NGRAM_ARPA, lmath);
		if (models[0] == NULL || models[1] == NULL) return -1;
		lm = ngram_model_set_init(c, models, names, w, 2);
	}
	if (lm == NULL) return -1;
	if (ps_set_lm(ps, "hotline", lm) < 0) return -2;
	return ps_set_search(ps, "hotline");
}

static void lx_cmn_get(ps_decoder_t *ps, float *out, int n) {
	cmn_t *cmn = ps_get_feat(ps)->cmn_struct;
	mfcc_t v[64];
	if (n > cmn->veclen) n = cmn->veclen;
	cmn_live_get(cmn, v);
	for (int i = 0; i < n; i++) out[i] = MFCC2FLOAT(v[i]);
}

static int lx_cmn_set(ps_decoder_t *ps, const float *in, int n) {
	cmn_t *cmn = ps_get_feat(ps)->cmn_struct;
	mfcc_t v[64];
	if (n != cmn->veclen || n > 64) return -1;
	for (int i = 0; i < n; i++) v[i] = FLOAT2MFCC(in[i]);
	cmn_live_set(cmn, v);
	return 0;
}

static void lx_cmn_update(ps_decoder_t *ps) { cmn_live_update(ps_get_feat(ps)->cmn_struct); }

static int lx_veclen(ps_decoder_t *ps) { return ps_get_feat(ps)->cmn_struct->veclen; }

// lx_seg_posterior is a word's posterior probability from the lattice (bestpath only).
static double lx_seg_posterior(ps_decoder_t *ps, ps_seg_t *seg) {
	int32 ascr, lscr, lback;
	return logmath_exp(ps_get_logmath(ps), ps_seg_prob(seg, &ascr, &lscr, &lback));
}
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"
)

// decoder owns one ps_decoder_t. It is driven by exactly one goroutine (its worker).
type decoder struct {
	ps     *C.ps_decoder_t
	veclen int
	inUtt  bool
	// fed counts the samples given to the decoder since it was created: segment frame
	// numbers count from there (5prealpha never resets them, across utterances or streams).
	fed int64
}

// newDecoder initialises a decoder with args ("-flag", "value" pairs) and installs the LM.
func newDecoder(args []string, generalLM, domainLM string, domainWeight float64, quiet bool) (*decoder, error) {
	argv := make([]*C.char, len(args))
	for i, a := range args {
		argv[i] = C.CString(a)
	}
	defer func() {
		for _, p := range argv {
			C.free(unsafe.Pointer(p))
		}
	}()
	q := C.int(0)
	if quiet {
		q = 1
	}
	var argp **C.char
	if len(argv) > 0 {
		argp = &argv[0]
	}
	ps := C.lx_init(C.int(len(argv)), argp, q)
	if ps == nil {
		return nil, fmt.Errorf("pocketsphinx: ps_init failed (args %s)", strings.Join(args, " "))
	}
	d := &decoder{ps: ps}
	var gen, dom *C.char
	if generalLM != "" {
		gen = C.CString(generalLM)
		defer C.free(unsafe.Pointer(gen))
	}
	if domainLM != "" {
		dom = C.CString(domainLM)
		defer C.free(unsafe.Pointer(dom))
	}
	if rc := C.lx_set_lm(ps, gen, dom, C.float(domainWeight)); rc < 0 {
		d.free()
		return nil, fmt.Errorf("pocketsphinx: loading language model %q + %q failed (%d)", generalLM, domainLM, int(rc))
	}
	d.veclen = int(C.lx_veclen(ps))
	return d, nil
}

func (d *decoder) cmn() []float32 {
	v := make([]float32, d.veclen)
	C.lx_cmn_get(d.ps, (*C.float)(&v[0]), C.int(len(v)))
	return v
}

func (d *decoder) setCMN(v []float32) error {
	if len(v) != d.veclen {
		return fmt.Errorf("pocketsphinx: cmninit has %d values, the model wants %d", len(v), d.veclen)
	}
	if C.lx_cmn_set(d.ps, (*C.float)(&v[0]), C.int(len(v))) < 0 {
		return fmt.Errorf("pocketsphinx: setting cmninit failed")
	}
	return nil
}

// updateCMN folds the frames seen so far into the running cepstral mean. pocketsphinx 5prealpha
// only does this at the end of an utterance, which leaves a caller's first utterance
// normalised with the start value alone.
func (d *decoder) updateCMN() { C.lx_cmn_update(d.ps) }

func (d *decoder) start() error {
	if C.ps_start_utt(d.ps) < 0 {
		return fmt.Errorf("pocketsphinx: ps_start_utt failed")
	}
	d.inUtt = true
	return nil
}

// process feeds 16 kHz samples and reports whether the VAD is in speech afterwards.
func (d *decoder) process(s []int16) (bool, error) {
	if len(s) > 0 {
		if C.ps_process_raw(d.ps, (*C.int16)(unsafe.Pointer(&s[0])), C.size_t(len(s)), 0, 0) < 0 {
			return false, fmt.Errorf("pocketsphinx: ps_process_raw failed")
		}
		d.fed += int64(len(s))
	}
	return C.ps_get_in_speech(d.ps) != 0, nil
}

// hyp is the current best hypothesis (partial while in an utterance).
func (d *decoder) hyp() string {
	var score C.int32
	h := C.ps_get_hyp(d.ps, &score)
	if h == nil {
		return ""
	}
	return C.GoString(h)
}

// segWord is a word of the final hypothesis with its frames (10 ms) counted from the
// decoder's creation, and its posterior probability when the decoder builds lattices.
type segWord struct {
	text   string
	sf, ef int
	prob   float64
}

// end finishes the utterance and returns its hypothesis and words (fillers dropped).
func (d *decoder) end() (string, []segWord, error) {
	if !d.inUtt {
		return "", nil, nil
	}
	d.inUtt = false
	// the search's own best path, in case the lattice fails at the end: an utterance cut
	// off mid-word (a call hung up, a recording ending in speech) can leave it without a
	// node for </s>, and then ps_get_hyp has nothing
	firstPass := d.hyp()
	if C.ps_end_utt(d.ps) < 0 {
		return "", nil, fmt.Errorf("pocketsphinx: ps_end_utt failed")
	}
	text := d.hyp()
	if text == "" {
		return firstPass, nil, nil // no words, no confidences: the lattice is what gives them
	}
	var words []segWord
	for seg := C.ps_seg_iter(d.ps); seg != nil; seg = C.ps_seg_next(seg) {
		w := C.GoString(C.ps_seg_word(seg))
		if w == "" || strings.HasPrefix(w, "<") || strings.HasPrefix(w, "[") {
			continue
		}
		if i := strings.IndexByte(w, '('); i > 0 {
			w = w[:i] // alternate pronunciation marker, "the(2)"
		}
		var sf, ef C.int
		C.ps_seg_frames(seg, &sf, &ef)
		words = append(words, segWord{text: w, sf: int(sf), ef: int(ef), prob: float64(C.lx_seg_posterior(d.ps, seg))})
	}
	return text, words, nil
}

func (d *decoder) free() {
	if d.ps != nil {
		C.ps_free(d.ps)
		d.ps = nil
	}
}

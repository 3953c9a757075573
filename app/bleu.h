/* sacreBLEU-compatible corpus BLEU (13a tokeniser, case-sensitive, 4-gram, no smoothing): the
 * same computation as training/bleu.py, for `attnlens bench quality`. */
#ifndef ATTN_BLEU_H
#define ATTN_BLEU_H

#include <glib.h>

#define BLEU_ORDER 4

/* Sufficient statistics: lengths, then matches and totals per order; they add over sentences. */
typedef struct BleuStats {
  gint64 hyp_len, ref_len;
  gint64 match[BLEU_ORDER], total[BLEU_ORDER];
} BleuStats;

/* mteval-v13a tokenisation of one detokenised line (newly allocated). */
char *bleu_tokenize_13a(const char *line);
/* Adds one hypothesis/reference pair (detokenised) to st. */
void bleu_add(BleuStats *st, const char *hyp, const char *ref);
/* BLEU in 0..100 from summed statistics (0 when some order has no match). */
double bleu_score(const BleuStats *st);

#endif

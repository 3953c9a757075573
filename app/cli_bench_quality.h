/* `attnlens bench quality`: BLEU of translation models, overall and by sentence length. */
#ifndef CLI_BENCH_QUALITY_H
#define CLI_BENCH_QUALITY_H

int cli_bench_quality(int argc, char **argv);

#endif

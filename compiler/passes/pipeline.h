/* pipeline.h — the pass manager: runs the passes of passes.def on a graph, with LLVM-like flags.
 *
 *   kn_pipeline_options po;
 *   kn_pipeline_options_init(&po);                   // -O2
 *   kn_diag d; kn_diag_init(&d);
 *   for (each argv[i])
 *     if (kn_pipeline_parse_arg(&po, argv[i], &d)) continue;   // -O1, --passes=..., --stats, ...
 *   if (kn_diag_has_errors(&d)) ... usage error ...
 *   kn_pipeline_run(train_graph, &po, KN_PIPELINE_TRAIN, stderr, &d);
 *
 * Flags understood by kn_pipeline_parse_arg:
 *   -O0 .. -O3             level: -O0 no pass, -O1 cleanup (constfold, cse, dce), -O2 and -O3 all
 *   --passes=a,b,c         run exactly these passes, in this order (replaces the level)
 *   --disable-pass=x       skip pass x (repeatable; also a,b,c)
 *   --print-after=x        print the graph and its kernels after pass x (repeatable; a,b,c)
 *   --print-after-all      ... after every pass
 *   --verify-each          run the IR verifier and the kernel-group verifier after every pass
 *   --stats                per pass: nodes, kernels, activation bytes moved (estimate) and arena
 *                          size (when options.arena_size is set) before -> after
 *   --load-pass=FILE       load a pass plugin (include/kiln/pass_plugin.h) now: its passes can
 *                          be named by the flags that follow, and run in -O2/-O3 where they ask
 *                          (after a built-in pass); the graph is verified after each of them
 * Passes whose MODE does not match the graph are skipped (an inference graph has no backward).
 */
#ifndef KN_PIPELINE_H
#define KN_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "ir.h"

typedef enum kn_pass_id {
#define KN_PASS(ID, name, fn, run, mode, level, why) KN_PASS_##ID,
#include "passes.def"
#undef KN_PASS
  KN_PASS_COUNT
} kn_pass_id;

/* Pass ids: the built-in passes of passes.def, then the passes of plugins loaded with
 * --load-pass (pass_plugin.h), KN_PASS_COUNT + i. */
#define KN_PASS_MAX (KN_PASS_COUNT + 16)

/* Which graph a pipeline runs on; a pass table MODE is a mask of these. */
typedef enum kn_pipeline_mode { KN_PIPELINE_INFER = 1, KN_PIPELINE_TRAIN = 2 } kn_pipeline_mode;

typedef struct kn_pass_info {
  const char *name;
  bool (*fn)(kn_graph *g, kn_diag *d);
  bool fixed_point;
  unsigned modes;   /* KN_PIPELINE_* bits */
  int level;        /* lowest -O level running it */
  const char *why;
} kn_pass_info;

extern const kn_pass_info kn_pass_table[KN_PASS_COUNT];

#define KN_PIPELINE_MAX_LIST 64

typedef struct kn_pipeline_options {
  int opt_level;                      /* 0..3, default 2 */
  int list[KN_PIPELINE_MAX_LIST];     /* --passes=: pass ids in order */
  int n_list;                         /* 0: use the level */
  bool list_given;
  bool disabled[KN_PASS_MAX];
  bool print_after[KN_PASS_MAX];
  bool print_after_all;
  bool verify_each;
  bool stats;
  FILE *print_to;                     /* --print-after output; NULL = stderr */
  /* Arena bytes of a graph (e.g. kn_memplan_build's size); NULL: not reported. */
  int64_t (*arena_size)(const kn_graph *g, void *ctx);
  void *arena_ctx;
} kn_pipeline_options;

void kn_pipeline_options_init(kn_pipeline_options *o);
/* True when `arg` is a pipeline flag (consumed); a malformed one (unknown pass name, bad level)
 * also returns true after adding an error with a did-you-mean hint to d. */
bool kn_pipeline_parse_arg(kn_pipeline_options *o, const char *arg, kn_diag *d);
/* The flags above, for a command's --help. */
void kn_pipeline_print_usage(FILE *f);
/* One line per pass of the table: name, run, mode, level, why. */
void kn_pipeline_print_passes(FILE *f);
/* An arena_size callback: kn_memplan_build's arena (output and loss pinned); ctx unused. */
int64_t kn_pipeline_memplan_arena(const kn_graph *g, void *ctx);
/* Pass id of a name (built-in or loaded from a plugin), -1 when unknown. */
int kn_pass_lookup(const char *name);
/* The pass of an id below KN_PASS_COUNT + the loaded plugin passes (a plugin pass has fn NULL). */
const kn_pass_info *kn_pass_get(int id);

/* Runs the selected passes on g in place. With o->stats and stats_out, prints the table of
 * per-pass effects. False with diagnostics when a pass fails or --verify-each finds a broken
 * graph (naming the pass). */
bool kn_pipeline_run(kn_graph *g, const kn_pipeline_options *o, kn_pipeline_mode mode, FILE *stats_out,
                     kn_diag *d);

/* The passes themselves (one file each). */
#define KN_PASS(ID, name, fn, run, mode, level, why) bool fn(kn_graph *g, kn_diag *d);
#include "passes.def"
#undef KN_PASS

#endif

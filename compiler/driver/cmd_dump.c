/* cmd_dump.c — `kiln dump FILE [--format=text|dot]`: prints the forward graph of a spec with
 * kn_graph_print_text or kn_graph_print_dot (render the latter with `dot -Tsvg`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "cli.h"
#include "diag.h"
#include "kernel_groups.h"
#include "pipeline.h"
#include "spec.h"

static void usage(FILE *f) {
  fputs("usage: kiln dump [options] FILE\n\n"
        "Prints the forward graph of a model spec: values (inputs, parameters, running statistics)\n"
        "and nodes with their attributes and output shapes.\n\n"
        "options:\n"
        "  --format=text|dot  text (default) or Graphviz DOT (kernel groups as clusters); render\n"
        "                     DOT with 'dot -Tsvg'\n"
        "  --after=autodiff   the training graph (forward, backward, updates) instead\n"
        "  --batch N          batch size (overrides train.batch_size)\n"
        "  --input HxW        input height and width (overrides train.input_size)\n"
        "  -h, --help         show this help\n"
        "With pass-pipeline flags (default -O0 here), the graph is printed after the passes, followed\n"
        "by its fused kernels; --print-after=PASS prints it after that pass too.\n\n",
        f);
  kn_pipeline_print_usage(f);
}

int kn_cmd_dump(int argc, char **argv) {
  const char *file = NULL, *format = "text", *after = NULL;
  kn_spec_options o = {0};
  kn_pipeline_options po; /* graph passes (compiler/passes/pipeline.h); none unless asked */
  kn_pipeline_options_init(&po);
  po.opt_level = 0;
  po.print_to = stdout;
  po.arena_size = kn_pipeline_memplan_arena;
  kn_diag pd;
  kn_diag_init(&pd);
  for (int i = 1, r; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return KN_EXIT_OK;
    }
    if (!strncmp(a, "--format=", 9)) format = a + 9;
    else if (!strncmp(a, "--after=", 8)) after = a + 8;
    else if (!strcmp(a, "--format") && i + 1 < argc) format = argv[++i];
    else if (kn_pipeline_parse_arg(&po, a, &pd)) continue;
    else if ((r = kn_cli_spec_option("dump", argc, argv, &i, &o)) != 0) {
      if (r < 0) return KN_EXIT_USAGE;
    } else if (!kn_cli_file_arg("dump", a, &file)) {
      return KN_EXIT_USAGE;
    }
  }
  if (strcmp(format, "text") && strcmp(format, "dot")) {
    fprintf(stderr, "kiln dump: unknown format '%s' (use text or dot)\n", format);
    return KN_EXIT_USAGE;
  }
  if (after && strcmp(after, "autodiff")) {
    fprintf(stderr, "kiln dump: unknown pass '%s' for --after (known: autodiff)\n", after);
    return KN_EXIT_USAGE;
  }
  if (!kn_cli_args_ok(&pd, file, usage)) return KN_EXIT_USAGE;
  kn_spec *s = kn_cli_load_spec(file, &o);
  if (!s) return KN_EXIT_USER;
  if (after) {
    kn_diag d;
    kn_diag_init(&d);
    bool ok = kn_autodiff(s->graph, &s->train, NULL, &d);
    kn_diag_print(&d, stderr);
    kn_diag_free(&d);
    if (!ok) {
      kn_spec_dispose(s);
      return KN_EXIT_USER;
    }
  }
  bool passes = po.opt_level > 0 || po.list_given;
  if (passes) {
    kn_diag d;
    kn_diag_init(&d);
    bool ok = kn_pipeline_run(s->graph, &po, after ? KN_PIPELINE_TRAIN : KN_PIPELINE_INFER, stdout, &d);
    kn_diag_print(&d, stderr);
    kn_diag_free(&d);
    if (!ok) {
      kn_spec_dispose(s);
      return KN_EXIT_INTERNAL;
    }
  }
  if (!strcmp(format, "dot")) kn_graph_print_dot(s->graph, stdout);
  else kn_graph_print_text(s->graph, stdout);
  if (passes && strcmp(format, "dot")) kn_kernels_print(s->graph, stdout);
  kn_spec_dispose(s);
  return KN_EXIT_OK;
}

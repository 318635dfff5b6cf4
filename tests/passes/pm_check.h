/* pm_check.h — CHECK counters (kn_check.h) and graph helpers shared by the pass tests. */
#ifndef KN_PM_CHECK_H
#define KN_PM_CHECK_H

#include <stdio.h>

#include "ir.h"
#include "pipeline.h"

/* The pass tests count checks in pm_check.c too, so the counters are shared (kn_check.h). */
#define KN_CHECK_SHARED
#include "kn_check.h"

/* Runs the pipeline at level `o_level` (or the single pass `only` when >= 0) with --verify-each;
 * counts a failed check when it fails. */
void pm_run(kn_graph *g, int o_level, int only, kn_pipeline_mode mode);
/* Kernel count and the ops of the kernel holding the node named `name` ("conv2d+batchnorm2d+relu"). */
const char *pm_kernel_ops(const kn_graph *g, const char *node_name, char *buf, size_t cap);
int pm_node(const kn_graph *g, const char *name); /* node id by name, -1 if none */
/* Makes g a training graph (kn_autodiff, default train config), printing its diagnostics;
 * counts a failed check when it fails. */
void pm_autodiff(kn_graph *g);

#endif

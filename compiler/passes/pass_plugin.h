/* pass_plugin.h — kiln's side of pass plugins (the plugin's side is include/kiln/pass_plugin.h):
 * loading a plugin with dlopen (--load-pass=FILE), the registry of its passes, and running one
 * of them on a kn_graph through the kiln_api function table. The pass manager (pipeline.c) gives
 * plugin pass i the id KN_PASS_COUNT + i.
 *
 *   if (!kn_plugin_load("./libhead.so", &d)) ... d says why (no file, no init symbol, wrong ABI) ...
 *   for (int i = 0; i < kn_plugin_pass_count(); i++) kn_plugin_pass_info(i)->name ...
 *   kn_plugin_run(i, g, &d);
 */
#ifndef KN_PASS_PLUGIN_HOST_H
#define KN_PASS_PLUGIN_HOST_H

#include <stdbool.h>

#include "diag.h"
#include "ir.h"
#include "pipeline.h"

/* Loads the plugin at path and registers its passes; false with an error (dlopen's message, a
 * missing kiln_pass_plugin_init, an ABI mismatch naming both numbers, a bad or duplicate pass
 * name, too many passes). Loading the same file twice is a no-op. */
bool kn_plugin_load(const char *path, kn_diag *d);
int kn_plugin_pass_count(void);
/* name, modes, why (fn is NULL: run them with kn_plugin_run); level = 2 */
const kn_pass_info *kn_plugin_pass_info(int i);
/* The built-in pass the plugin pass asked to follow in -O2/-O3 (-1: none). */
int kn_plugin_pass_after(int i);
/* Runs plugin pass i on g; false when it returned 0 or reported an error. */
bool kn_plugin_run(int i, kn_graph *g, kn_diag *d);

#endif

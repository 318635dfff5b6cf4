/* emu_bufs.h — storage for running a lowered GPU program on the emulator (emu.h) next to the
 * reference interpreter: one buffer per graph value, sources copied from the interpreter and
 * everything else NaN (so a value read before anything wrote it poisons the results).
 *
 *   void **b = kn_test_emu_bufs(g, it);  ... kn_emu_run_call(&prog->calls[k], b) ...
 *   ok = kn_test_emu_same(g, it, b, g->loss, 1e-3, "loss");
 *   kn_test_emu_bufs_free(g, b);
 */
#ifndef KN_TEST_EMU_BUFS_H
#define KN_TEST_EMU_BUFS_H

#include "interp.h"

void **kn_test_emu_bufs(const kn_graph *g, kn_interp *it);
void kn_test_emu_bufs_free(const kn_graph *g, void **b);
/* |got - want| <= tol * (1 + |want|) for every element of value v; prints the first miss. */
bool kn_test_emu_same(const kn_graph *g, kn_interp *it, void **b, int v, double tol, const char *what);

#endif

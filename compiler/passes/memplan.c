/* memplan.c — liveness over the node order and greedy best-fit placement of transient values
 * into one arena (see memplan.h). */
#include "memplan.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

bool kn_memplan_is_persistent(const kn_value *v) {
  return v->kind == KN_VAL_PARAM || v->kind == KN_VAL_STATE || v->kind == KN_VAL_CONST;
}

int64_t kn_memplan_bytes(const kn_value *v, int64_t align) {
  int64_t b = kn_shape_numel(v->shape) * 4;
  return (b + align - 1) / align * align;
}

typedef struct {
  int64_t off, size;
  int val;
} kn_block;

/* Live blocks kept sorted by offset. */
typedef struct {
  kn_block *b;
  int n;
  int64_t top;
} kn_arena;

static int64_t arena_alloc(kn_arena *a, int val, int64_t size) {
  int64_t best = -1, best_gap = 0, prev_end = 0;
  int at = a->n;
  for (int i = 0; i <= a->n; i++) {
    int64_t start = i < a->n ? a->b[i].off : -1;
    if (i < a->n) {
      int64_t gap = start - prev_end;
      if (gap >= size && (best < 0 || gap < best_gap)) {
        best = prev_end;
        best_gap = gap;
        at = i;
      }
      prev_end = a->b[i].off + a->b[i].size;
    }
  }
  if (best < 0) {
    best = prev_end;
    at = a->n;
  }
  memmove(&a->b[at + 1], &a->b[at], (size_t)(a->n - at) * sizeof *a->b);
  a->b[at] = (kn_block){best, size, val};
  a->n++;
  if (best + size > a->top) a->top = best + size;
  return best;
}

static void arena_free(kn_arena *a, int val) {
  for (int i = 0; i < a->n; i++)
    if (a->b[i].val == val) {
      memmove(&a->b[i], &a->b[i + 1], (size_t)(a->n - i - 1) * sizeof *a->b);
      a->n--;
      return;
    }
}

bool kn_memplan_build(const kn_graph *g, const bool *pinned, int64_t align, kn_memplan *mp) {
  int nv = g->n_vals, nn = g->n_nodes;
  memset(mp, 0, sizeof *mp);
  mp->n_vals = nv;
  mp->offset = kn_xmalloc((size_t)(nv ? nv : 1) * sizeof *mp->offset);
  int *first = kn_xmalloc((size_t)(nv ? nv : 1) * sizeof *first), *last = kn_xmalloc((size_t)(nv ? nv : 1) * sizeof *last);
  for (int v = 0; v < nv; v++) {
    mp->offset[v] = -1;
    first[v] = last[v] = -2; /* -2: not used by any live node */
  }
  for (int i = 0; i < nn; i++) {
    const kn_node *n = &g->nodes[i];
    if (n->dead) continue;
    for (int k = 0; k < n->n_in; k++) {
      int v = n->in[k];
      if (first[v] == -2) first[v] = g->vals[v].producer >= 0 ? g->vals[v].producer : -1;
      last[v] = i;
    }
    for (int k = 0; k < n->n_out; k++) {
      int v = n->out[k];
      if (first[v] == -2) first[v] = i;
      if (last[v] < i) last[v] = i;
    }
  }
  /* Values planned, with their definition point; pinned ones live to the end. */
  int *by_first = kn_xmalloc((size_t)(nv ? nv : 1) * sizeof *by_first), np = 0;
  for (int v = 0; v < nv; v++) {
    const kn_value *val = &g->vals[v];
    if (kn_memplan_is_persistent(val)) continue;
    if (first[v] == -2 && !(pinned && pinned[v])) continue;
    if (first[v] == -2) first[v] = -1;
    if (pinned && pinned[v]) last[v] = nn;
    by_first[np++] = v;
    mp->naive += kn_memplan_bytes(val, align);
  }
  kn_arena a = {kn_xmalloc((size_t)(np ? np : 1) * sizeof *a.b), 0, 0};
  int64_t live = 0;
  /* Step -1 places the inputs; step i places node i's outputs then frees what node i read last. */
  for (int step = -1; step <= nn; step++) {
    for (int k = 0; k < np; k++) {
      int v = by_first[k];
      if (first[v] != step) continue;
      int64_t sz = kn_memplan_bytes(&g->vals[v], align);
      mp->offset[v] = arena_alloc(&a, v, sz);
      live += sz;
    }
    if (live > mp->peak_live) mp->peak_live = live;
    for (int k = 0; k < np; k++) {
      int v = by_first[k];
      if (last[v] == step && mp->offset[v] >= 0) {
        arena_free(&a, v);
        live -= kn_memplan_bytes(&g->vals[v], align);
      }
    }
  }
  mp->size = a.top;
  free(a.b);
  free(by_first);
  free(first);
  free(last);
  return true;
}

void kn_memplan_free(kn_memplan *mp) {
  free(mp->offset);
  mp->offset = NULL;
}

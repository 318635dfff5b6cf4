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

/* Whether x's block may be handed over at all. */
static bool reusable(const kn_graph *g, const bool *pinned, const bool *skip, const int *last, const int64_t *offset,
                     int x, int v) {
  const kn_value *xv = &g->vals[x];
  return !kn_memplan_is_persistent(xv) && xv->kind != KN_VAL_INPUT && !(pinned && pinned[x]) && !(skip && skip[x]) &&
         offset[x] >= 0 && last[x] >= 0 && x != v && kn_shape_eq(xv->shape, g->vals[v].shape);
}

/* Whether nodes [a, b] hold a conv2d: such a unit is a conv epilogue, which reads the conv's input
 * everywhere and writes the raw conv tile into the output before reading the residual at the same
 * place, so no output of it may take the block of anything it reads. */
static bool has_conv(const kn_graph *g, int a, int b) {
  for (int i = a; i <= b; i++)
    if (!g->nodes[i].dead && g->nodes[i].op == KN_OP_CONV2D) return true;
  return false;
}

/* The value whose block v may take; -1 if none. A lone node: per its kn_node.inplace hint (input
 * k-1, read for the last time by it). A node of a multi-node unit (a fused sweep, which runs
 * element by element at equal indices): any same-shape value read inside the unit whose readers
 * all come at or before v's producer in node order. */
static int inplace_source(const kn_graph *g, const bool *pinned, const bool *skip, const int *unit_first,
                          const int *unit_last, const int *lastnode, const int *last, const int64_t *offset, int v) {
  int p = g->vals[v].producer;
  if (p < 0) return -1;
  const kn_node *n = &g->nodes[p];
  if (n->out[0] != v) return -1;
  if (unit_first && unit_first[p] != unit_last[p]) {
    if (has_conv(g, unit_first[p], unit_last[p])) return -1;
    for (int i = unit_first[p]; i <= p; i++) {
      const kn_node *r = &g->nodes[i];
      if (r->dead) continue;
      for (int k = 0; k < r->n_in; k++) {
        int x = r->in[k];
        if (lastnode[x] >= unit_first[p] && lastnode[x] <= p && reusable(g, pinned, skip, last, offset, x, v)) return x;
      }
    }
    return -1;
  }
  if (n->inplace <= 0 || n->inplace > n->n_in) return -1;
  int x = n->in[n->inplace - 1];
  if (lastnode[x] != p || !reusable(g, pinned, skip, last, offset, x, v)) return -1;
  for (int k = 0; k < n->n_in; k++) /* x must not be read through another operand slot after v is written */
    if (k != n->inplace - 1 && n->in[k] == x) return -1;
  return x;
}

bool kn_memplan_build(const kn_graph *g, const bool *pinned, int64_t align, kn_memplan *mp) {
  return kn_memplan_build_fused(g, pinned, NULL, NULL, NULL, align, mp);
}

/* Block of value `from` handed to `to` (in-place reuse). */
static void arena_rename(kn_arena *a, int from, int to) {
  for (int i = 0; i < a->n; i++)
    if (a->b[i].val == from) a->b[i].val = to;
}

bool kn_memplan_build_fused(const kn_graph *g, const bool *pinned, const bool *skip, const int *unit_first,
                            const int *unit_last, int64_t align, kn_memplan *mp) {
  int nv = g->n_vals, nn = g->n_nodes;
  memset(mp, 0, sizeof *mp);
  mp->n_vals = nv;
  mp->offset = kn_xmalloc((size_t)(nv ? nv : 1) * sizeof *mp->offset);
  int *first = kn_xmalloc((size_t)(nv ? nv : 1) * sizeof *first), *last = kn_xmalloc((size_t)(nv ? nv : 1) * sizeof *last);
  int *lastnode = kn_xmalloc((size_t)(nv ? nv : 1) * sizeof *lastnode);
  for (int v = 0; v < nv; v++) {
    mp->offset[v] = -1;
    first[v] = last[v] = lastnode[v] = -2; /* -2: not used by any live node */
  }
  for (int i = 0; i < nn; i++) {
    const kn_node *n = &g->nodes[i];
    if (n->dead) continue;
    for (int k = 0; k < n->n_in; k++) {
      int v = n->in[k];
      if (first[v] == -2) {
        int p = g->vals[v].producer;
        first[v] = p >= 0 ? (unit_first ? unit_first[p] : p) : -1;
      }
      last[v] = unit_last ? unit_last[i] : i;
      lastnode[v] = i;
    }
    for (int k = 0; k < n->n_out; k++) {
      int v = n->out[k], s = unit_first ? unit_first[i] : i;
      if (first[v] == -2 || first[v] > s) first[v] = s;
      if (last[v] < (unit_last ? unit_last[i] : i)) last[v] = unit_last ? unit_last[i] : i;
    }
  }
  /* Values planned, with their definition point; pinned ones live to the end. */
  int *by_first = kn_xmalloc((size_t)(nv ? nv : 1) * sizeof *by_first), np = 0;
  for (int v = 0; v < nv; v++) {
    const kn_value *val = &g->vals[v];
    if (kn_memplan_is_persistent(val) || (skip && skip[v])) continue;
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
      int x = inplace_source(g, pinned, skip, unit_first, unit_last, lastnode, last, mp->offset, v);
      if (x >= 0) { /* takes over x's block: x is dead once its last reader (v's node) ran */
        mp->offset[v] = mp->offset[x];
        arena_rename(&a, x, v);
        live -= sz;
        last[x] = -3;
      } else
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
  free(lastnode);
  return true;
}

void kn_memplan_free(kn_memplan *mp) {
  free(mp->offset);
  mp->offset = NULL;
}

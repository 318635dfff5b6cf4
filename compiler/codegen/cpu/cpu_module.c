/* cpu_module.c — kn_cpu_compile: lays out the persist region (shared by name across entry
 * points), plans each entry's work arena, builds one LLVM function per entry point from the
 * node order, emits the `kn_model` descriptor (runtime/exe/kilnrt.h), then optimises. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../../runtime/exe/kilnrt.h"
#include "cpu_internal.h"
#include "memplan.h"
#include "timing.h"
#include "util.h"

#define KN_MAX_ENTRIES 8

struct kn_cpu_module {
  kn_cg cg;
  char *name;
  int batch;
  kn_cg_table persist;
  struct {
    char *name;
    kn_cg_table t;
  } entries[KN_MAX_ENTRIES];
  int n_entries;
  kn_cpu_stats stats;
};

void kn_cpu_options_defaults(kn_cpu_options *o) {
  memset(o, 0, sizeof *o);
  o->opt_level = 3;
  o->bn_stats = KN_BN_STATS_CONV;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int kn_cpu_value_role(const kn_graph *g, int v) {
  const kn_value *val = &g->vals[v];
  if (v == g->input) return KN_ROLE_INPUT;
  if (v == g->labels) return KN_ROLE_LABELS;
  if (v == g->lr) return KN_ROLE_LR;
  if (v == g->step) return KN_ROLE_STEP;
  if (v == g->output) return KN_ROLE_OUTPUT;
  if (v == g->loss) return KN_ROLE_LOSS;
  switch (val->kind) {
  case KN_VAL_PARAM: return KN_ROLE_PARAM;
  case KN_VAL_STATE: return KN_ROLE_STATE;
  case KN_VAL_CONST: return KN_ROLE_CONST;
  case KN_VAL_INPUT: return KN_ROLE_DATA;
  case KN_VAL_ACT: break;
  }
  if (val->grad_of >= 0 && g->vals[val->grad_of].kind == KN_VAL_PARAM) return KN_ROLE_GRAD;
  return KN_ROLE_ACT;
}

static void table_add(kn_cg_table *t, const char *name, int role, int region, const kn_value *v, int64_t off) {
  if (t->n == t->cap) {
    t->cap = t->cap ? 2 * t->cap : 64;
    t->t = kn_xrealloc(t->t, (size_t)t->cap * sizeof *t->t);
  }
  t->t[t->n++] = (kn_cg_tensor){kn_xstrdup(name), role, region, v, off};
}

static void table_free(kn_cg_table *t) {
  for (int i = 0; i < t->n; i++) free(t->t[i].name);
  free(t->t);
}

/* Persist offsets of g's values (by name in m->persist, added when new). */
static int64_t *layout_persist(kn_cpu_module *m, const kn_graph *g) {
  int64_t *off = kn_xmalloc((size_t)(g->n_vals ? g->n_vals : 1) * sizeof *off);
  for (int v = 0; v < g->n_vals; v++) {
    const kn_value *val = &g->vals[v];
    off[v] = -1;
    if (!kn_memplan_is_persistent(val)) continue;
    for (int i = 0; i < m->persist.n; i++)
      if (!strcmp(m->persist.t[i].name, val->name)) {
        KN_ASSERT(kn_shape_eq(m->persist.t[i].v->shape, val->shape) && "persistent tensor differs between entries");
        off[v] = m->persist.t[i].offset;
      }
    if (off[v] >= 0) continue;
    off[v] = m->stats.persist_size;
    table_add(&m->persist, val->name, kn_cpu_value_role(g, v), KN_REGION_PERSIST, val, off[v]);
    m->stats.persist_size += kn_memplan_bytes(val, KN_MEMPLAN_ALIGN);
  }
  return off;
}

static void build_entry(kn_cpu_module *m, const kn_cpu_entry *e, const kn_cpu_options *o) {
  kn_cg *cg = &m->cg;
  const kn_graph *g = e->g;
  int64_t *poff = layout_persist(m, g);
  bool *pinned = kn_xcalloc((size_t)(g->n_vals ? g->n_vals : 1), sizeof *pinned);
  for (int v = 0; v < g->n_vals; v++) {
    int role = kn_cpu_value_role(g, v);
    /* Inputs stay intact (callers may run an entry again on the same data); results stay live. */
    pinned[v] = g->vals[v].kind == KN_VAL_INPUT || role == KN_ROLE_OUTPUT || role == KN_ROLE_LOSS || (o->keep_grads && role == KN_ROLE_GRAD) ||
                (o->export_all && g->vals[v].kind == KN_VAL_ACT);
  }
  kn_timer t = kn_timer_start();
  kn_fuse_plan fp;
  kn_cg_fuse_plan(g, pinned, !o->no_fuse, o->fuse_min_plane, o->bn_stats, &fp);
  kn_memplan mp;
  KN_ASSERT(kn_memplan_build_fused(g, pinned, fp.skip, fp.unit_first, fp.unit_last, KN_MEMPLAN_ALIGN, &mp));
  kn_timing_add("kernel plan, memory plan", t);
  t = kn_timer_start();
  char *fname = kn_fmt("kn_model_%s", e->name);
  LLVMTypeRef fty = LLVMFunctionType(cg->voidt, (LLVMTypeRef[]){cg->i8p, cg->i8p}, 2, 0);
  cg->fn = LLVMAddFunction(cg->mod, fname, fty);
  free(fname);
  LLVMSetValueName2(LLVMGetParam(cg->fn, 0), "persist", 7);
  LLVMSetValueName2(LLVMGetParam(cg->fn, 1), "work", 4);
  LLVMPositionBuilderAtEnd(cg->b, LLVMAppendBasicBlockInContext(cg->ctx, cg->fn, "entry"));
  cg->g = g;
  cg->persist = LLVMGetParam(cg->fn, 0);
  cg->work = LLVMGetParam(cg->fn, 1);
  cg->ptrs = LLVMBuildAlloca(cg->b, LLVMArrayType(cg->i8p, KN_CG_MAXPTR), "ptrs");
  cg->persist_off = poff;
  cg->work_off = mp.offset;
  cg->scratch_off = (mp.size + KN_MEMPLAN_ALIGN - 1) / KN_MEMPLAN_ALIGN * KN_MEMPLAN_ALIGN;
  cg->calls = cg->parallel_calls = 0;
  int nodes = 0;
  for (int i = 0; i < g->n_nodes; i++) nodes += !g->nodes[i].dead;
  if (cg->prof) { /* --profile: the kernel table, in kn_cg_lower_kernels' order */
    kn_kernel_list kl;
    kn_kernels_build(g, &kl);
    kn_cg_prof_entry(cg, e->name, &kl);
    kn_kernels_free(&kl);
  }
  int kernel_fns = kn_cg_lower_kernels(cg, &fp);
  LLVMBuildRetVoid(cg->b);
  /* The entry's table: its inputs and every value read after the run. */
  int ei = m->n_entries++;
  m->entries[ei].name = kn_xstrdup(e->name);
  memset(&m->entries[ei].t, 0, sizeof m->entries[ei].t);
  for (int v = 0; v < g->n_vals; v++) {
    if (mp.offset[v] < 0 || (g->vals[v].kind != KN_VAL_INPUT && !pinned[v])) continue;
    table_add(&m->entries[ei].t, g->vals[v].name, kn_cpu_value_role(g, v), KN_REGION_WORK, &g->vals[v], mp.offset[v]);
  }
  kn_cpu_entry_stats *st = &m->stats.entry[ei];
  st->work_size = fp.scratch_bytes ? cg->scratch_off + fp.scratch_bytes : mp.size;
  st->naive_size = mp.naive;
  st->peak_live = mp.peak_live;
  st->nodes = nodes;
  st->calls = cg->calls;
  st->parallel_calls = cg->parallel_calls;
  st->kernel_fns = kernel_fns;
  st->fused_runs = fp.n_runs;
  st->conv_epilogues = fp.conv_eps;
  st->conv_stats = fp.conv_stats;
  st->scratch_size = fp.scratch_bytes;
  st->fused_nodes = fp.fused_nodes;
  st->internal_values = fp.internal;
  kn_cg_fuse_free(&fp);
  kn_memplan_free(&mp);
  free(pinned);
  free(poff);
  kn_timing_add("LLVM IR (entry module)", t);
}

/* ---- the descriptor ---- */
static LLVMValueRef cstr(kn_cg *cg, const char *s) {
  LLVMValueRef init = LLVMConstStringInContext(cg->ctx, s, (unsigned)strlen(s), 0);
  LLVMValueRef gv = LLVMAddGlobal(cg->mod, LLVMTypeOf(init), ".str");
  LLVMSetInitializer(gv, init);
  LLVMSetGlobalConstant(gv, 1);
  LLVMSetLinkage(gv, LLVMPrivateLinkage);
  LLVMSetUnnamedAddress(gv, LLVMGlobalUnnamedAddr);
  return LLVMConstBitCast(gv, cg->i8p);
}

LLVMValueRef kn_cg_cstr(kn_cg *cg, const char *s) { return cstr(cg, s); }

static LLVMValueRef ci32(kn_cg *cg, int64_t v) { return LLVMConstInt(cg->i32, (unsigned long long)v, 1); }
static LLVMValueRef ci64(kn_cg *cg, int64_t v) { return LLVMConstInt(cg->i64, (unsigned long long)v, 1); }

static LLVMValueRef const_array_ptr(kn_cg *cg, LLVMTypeRef elem, LLVMValueRef *items, int n, const char *name) {
  if (!n) return LLVMConstNull(LLVMPointerType(elem, 0));
  LLVMValueRef init = LLVMConstArray(elem, items, (unsigned)n);
  LLVMValueRef gv = LLVMAddGlobal(cg->mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(gv, init);
  LLVMSetGlobalConstant(gv, 1);
  LLVMSetLinkage(gv, LLVMPrivateLinkage);
  return LLVMConstBitCast(gv, LLVMPointerType(elem, 0));
}

static LLVMValueRef tensor_table(kn_cg *cg, LLVMTypeRef tty, const kn_cg_table *t, const char *name) {
  LLVMValueRef *rows = kn_xmalloc((size_t)(t->n ? t->n : 1) * sizeof *rows);
  for (int i = 0; i < t->n; i++) {
    const kn_cg_tensor *r = &t->t[i];
    LLVMValueRef dims[4];
    for (int k = 0; k < 4; k++) dims[k] = ci64(cg, k < r->v->shape.rank ? r->v->shape.d[k] : 0);
    LLVMValueRef f[11] = {cstr(cg, r->name), ci32(cg, r->role), ci32(cg, r->v->dtype), ci32(cg, r->region),
                          ci32(cg, r->v->shape.rank), LLVMConstArray(cg->i64, dims, 4), ci64(cg, r->offset),
                          ci32(cg, r->v->init), ci32(cg, r->v->trainable), LLVMConstReal(cg->f32, r->v->fill),
                          ci32(cg, 0)};
    rows[i] = LLVMConstNamedStruct(tty, f, 11);
  }
  LLVMValueRef p = const_array_ptr(cg, tty, rows, t->n, name);
  free(rows);
  return p;
}

static void emit_descriptor(kn_cpu_module *m) {
  kn_cg *cg = &m->cg;
  LLVMTypeRef tty = LLVMStructCreateNamed(cg->ctx, "kn_tensor_desc");
  LLVMTypeRef tf[11] = {cg->i8p, cg->i32, cg->i32, cg->i32, cg->i32, LLVMArrayType(cg->i64, 4),
                        cg->i64, cg->i32, cg->i32, cg->f32, cg->i32};
  LLVMStructSetBody(tty, tf, 11, 0);
  LLVMTypeRef fty = LLVMPointerType(LLVMFunctionType(cg->voidt, (LLVMTypeRef[]){cg->i8p, cg->i8p}, 2, 0), 0);
  LLVMTypeRef ety = LLVMStructCreateNamed(cg->ctx, "kn_entry_desc");
  LLVMTypeRef ef[7] = {cg->i8p, fty, cg->i64, cg->i64, cg->i32, cg->i32, LLVMPointerType(tty, 0)};
  LLVMStructSetBody(ety, ef, 7, 0);
  LLVMTypeRef mty = LLVMStructCreateNamed(cg->ctx, "kn_model_desc");
  LLVMTypeRef mf[12] = {cg->i32, cg->i32, cg->i8p, cg->i8p, cg->i8p, cg->i64, cg->i64, cg->i64,
                        cg->i32, cg->i32, LLVMPointerType(ety, 0), LLVMPointerType(tty, 0)};
  LLVMStructSetBody(mty, mf, 12, 0);
  LLVMValueRef ents[KN_MAX_ENTRIES];
  for (int i = 0; i < m->n_entries; i++) {
    char *fn = kn_fmt("kn_model_%s", m->entries[i].name);
    LLVMValueRef f[7] = {cstr(cg, m->entries[i].name), LLVMGetNamedFunction(cg->mod, fn),
                         ci64(cg, m->stats.entry[i].work_size), ci64(cg, m->stats.entry[i].naive_size),
                         ci32(cg, m->entries[i].t.n), ci32(cg, 0), tensor_table(cg, tty, &m->entries[i].t, "kn_tensors")};
    free(fn);
    ents[i] = LLVMConstNamedStruct(ety, f, 7);
  }
  LLVMValueRef f[12] = {ci32(cg, KN_ABI_VERSION), ci32(cg, m->batch), cstr(cg, m->name), cstr(cg, cg->cpu),
                        cstr(cg, cg->features), ci64(cg, m->stats.persist_size), ci64(cg, m->stats.params_total),
                        ci64(cg, m->stats.params_trainable), ci32(cg, m->n_entries), ci32(cg, m->persist.n),
                        const_array_ptr(cg, ety, ents, m->n_entries, "kn_entries"),
                        tensor_table(cg, tty, &m->persist, "kn_persist")};
  LLVMValueRef gv = LLVMAddGlobal(cg->mod, mty, "kn_model");
  LLVMSetInitializer(gv, LLVMConstNamedStruct(mty, f, 12));
  LLVMSetGlobalConstant(gv, 1);
}

kn_cpu_module *kn_cpu_compile(const char *model_name, const kn_cpu_entry *entries, int n_entries,
                              const kn_cpu_options *o, kn_diag *d) {
  KN_ASSERT(n_entries > 0 && n_entries <= KN_MAX_ENTRIES);
  kn_cpu_module *m = kn_xcalloc(1, sizeof *m);
  m->name = kn_xstrdup(model_name);
  double t0 = now_ms();
  kn_timer t = kn_timer_start();
  bool ok = kn_cg_init(&m->cg, o, d);
  kn_timing_add("LLVM target setup", t);
  if (!ok) {
    kn_cpu_module_dispose(m);
    return NULL;
  }
  if (o->profile) kn_cg_prof_init(&m->cg);
  for (int i = 0; i < n_entries; i++) {
    const kn_graph *g = entries[i].g;
    if (!m->batch && g->input >= 0) m->batch = (int)g->vals[g->input].shape.d[0];
    build_entry(m, &entries[i], o);
  }
  for (int i = 0; i < m->persist.n; i++) {
    const kn_cg_tensor *t = &m->persist.t[i];
    if (t->role != KN_ROLE_PARAM) continue;
    m->stats.params_total += kn_shape_numel(t->v->shape);
    if (t->v->trainable) m->stats.params_trainable += kn_shape_numel(t->v->shape);
  }
  m->stats.n_entries = m->n_entries;
  m->stats.kernels = m->cg.n_wraps;
  t = kn_timer_start();
  emit_descriptor(m);
  kn_cg_prof_emit(&m->cg);
  kn_timing_add("LLVM IR (entry module)", t);
  m->stats.ms_lower = now_ms() - t0;
  return m;
}

const kn_cpu_stats *kn_cpu_module_stats(const kn_cpu_module *m) { return &m->stats; }

void kn_cpu_print_stats(const kn_cpu_module *m, FILE *f) {
  const kn_cpu_stats *s = &m->stats;
  fprintf(f, "kiln: model '%s' for %s, batch %d\n", m->name, m->cg.cpu, m->batch);
  fprintf(f, "  parameters          %lld (%lld trainable)\n", (long long)s->params_total, (long long)s->params_trainable);
  fprintf(f, "  persist region      %12lld bytes (params, state, optimizer buffers)\n", (long long)s->persist_size);
  for (int i = 0; i < s->n_entries; i++) {
    const kn_cpu_entry_stats *e = &s->entry[i];
    fprintf(f, "  entry %-13s %12lld bytes work arena, naive %lld (%.1f%%), peak live %lld; %d nodes, %d calls (%d parallel)\n",
            m->entries[i].name, (long long)e->work_size, (long long)e->naive_size,
            e->naive_size ? 100.0 * (double)e->work_size / (double)e->naive_size : 0.0, (long long)e->peak_live,
            e->nodes, e->calls, e->parallel_calls);
    if (e->fused_runs)
      fprintf(f, "    fused: %d sweeps and %d conv epilogues (%d gathering BN statistics, %lld bytes of scratch) over %d nodes, %d internal values without a slot\n",
              e->fused_runs - e->conv_epilogues, e->conv_epilogues, e->conv_stats, (long long)e->scratch_size, e->fused_nodes, e->internal_values);
  }
  fprintf(f, "  specialised kernels %d\n  time: lower %.0f ms (the rest: --time-report)\n", s->kernels, s->ms_lower);
}

bool kn_cpu_emit(kn_cpu_module *m, kn_emit_kind kind, const char *path, kn_diag *d) {
  return kn_cg_emit(&m->cg, kind, path, d);
}

void kn_cpu_module_dispose(kn_cpu_module *m) {
  if (!m) return;
  kn_cg_prof_free(&m->cg);
  kn_cg_dispose(&m->cg);
  table_free(&m->persist);
  for (int i = 0; i < m->n_entries; i++) {
    free(m->entries[i].name);
    table_free(&m->entries[i].t);
  }
  free(m->name);
  free(m);
}

/* Accessors for cpu_header.c. */
const char *kn_cpu_module_name(const kn_cpu_module *m) { return m->name; }
int kn_cpu_module_batch(const kn_cpu_module *m) { return m->batch; }
const kn_cg_table *kn_cpu_module_persist(const kn_cpu_module *m) { return &m->persist; }
int kn_cpu_module_n_entries(const kn_cpu_module *m) { return m->n_entries; }
const char *kn_cpu_module_entry_name(const kn_cpu_module *m, int i) { return m->entries[i].name; }
const kn_cg_table *kn_cpu_module_entry_table(const kn_cpu_module *m, int i) { return &m->entries[i].t; }

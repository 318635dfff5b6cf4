/* ptx_exe.c — the model object of a `kiln compile --target=cuda` executable: the same `kn_model`
 * descriptor as the CPU build (persist layout by name in entry order, each entry's work region from
 * kn_memplan_build with the same pinned values, the same tensor tables, so checkpoints and weight
 * files are interchangeable), whose entry functions are host functions calling kn_gpu_model_run
 * (runtime/cuda/kn_gpu_model.c), plus the launch tables and one embedded PTX module per entry.
 * It is written as C (with kilnrt.h and kn_gpu_model.h pasted in, embedded in the compiler) and an
 * .incbin assembly file; the driver compiles them with the system C compiler, adds libkilnrt_cuda.a
 * and links like the CPU build (compiler/driver/ship.c, codegen/cpu/cpu_link.c). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../runtime/cuda/kn_gpu_model.h"
#include "../../../runtime/exe/kilnrt.h"
#include "codegen_cpu.h"
#include "memplan.h"
#include "ptx.h"
#include "util.h"

#ifndef KN_CUDA_RT_LIB
#define KN_CUDA_RT_LIB ""
#endif

/* kilnrt.h and kn_gpu_model.h, NUL-terminated (CMakeLists.txt embeds them). */
extern const char kn_ptx_hdr_kilnrt[], kn_ptx_hdr_gpu_model[];

static kn_loc noloc;

static void put_tensor(FILE *f, const kn_value *v, int role, int region, int64_t off) {
  KN_ASSERT(isfinite(v->fill));
  fprintf(f, "  {\"");
  for (const char *c = v->name; *c; c++) {
    if (*c == '"' || *c == '\\') fputc('\\', f);
    fputc((unsigned char)*c < 32 ? '?' : *c, f);
  }
  fprintf(f, "\", %d, %d, %d, %d, {", role, (int)v->dtype, region, v->shape.rank);
  for (int k = 0; k < 4; k++) fprintf(f, "%s%lld", k ? ", " : "", (long long)(k < v->shape.rank ? v->shape.d[k] : 0));
  fprintf(f, "}, %lld, %d, %d, %a, 0},\n", (long long)off, v->init, (int)v->trainable, (double)v->fill);
}

static char *ptx_path(const char *base, int i) { return kn_fmt("%s.ptx%d", base, i); }

typedef struct {
  const kn_value **v; /* persist tensors in layout order */
  int *role;
  int64_t *off;
  int n;
  int64_t size, params_total, params_trainable;
} persist_table;

/* Persist offsets of g's values (by name, added when new), like cpu_module.c's layout_persist. */
static int64_t *layout_persist(persist_table *p, const kn_graph *g) {
  int64_t *off = kn_xmalloc((size_t)(g->n_vals ? g->n_vals : 1) * sizeof *off);
  for (int v = 0; v < g->n_vals; v++) {
    const kn_value *val = &g->vals[v];
    off[v] = -1;
    if (!kn_memplan_is_persistent(val)) continue;
    for (int i = 0; i < p->n && off[v] < 0; i++)
      if (!strcmp(p->v[i]->name, val->name)) off[v] = p->off[i];
    if (off[v] >= 0) continue;
    p->v = kn_xrealloc(p->v, (size_t)(p->n + 1) * sizeof *p->v);
    p->role = kn_xrealloc(p->role, (size_t)(p->n + 1) * sizeof *p->role);
    p->off = kn_xrealloc(p->off, (size_t)(p->n + 1) * sizeof *p->off);
    p->v[p->n] = val, p->role[p->n] = kn_cpu_value_role(g, v), p->off[p->n] = off[v] = p->size;
    if (p->role[p->n] == KN_ROLE_PARAM) {
      p->params_total += kn_shape_numel(val->shape);
      if (val->trainable) p->params_trainable += kn_shape_numel(val->shape);
    }
    p->n++;
    p->size += kn_memplan_bytes(val, KN_MEMPLAN_ALIGN);
  }
  return off;
}

/* One entry: its tensor table, launch table and PTX file. */
static bool put_entry(FILE *f, FILE *fa, persist_table *p, const kn_ptx_entry *e, int idx, const char *tmp_base,
                      const kn_ptx_options *opt, kn_ptx_model_stats *st, kn_diag *d) {
  const kn_graph *g = e->g;
  int64_t *poff = layout_persist(p, g);
  bool *pinned = kn_xcalloc((size_t)(g->n_vals ? g->n_vals : 1), sizeof *pinned);
  for (int v = 0; v < g->n_vals; v++) {
    int role = kn_cpu_value_role(g, v);
    pinned[v] = g->vals[v].kind == KN_VAL_INPUT || role == KN_ROLE_OUTPUT || role == KN_ROLE_LOSS;
  }
  kn_ptx_options o;
  if (opt) o = *opt;
  else kn_ptx_options_default(&o);
  kn_ptx_program *prog = NULL;
  bool ok = kn_ptx_compile_graph(g, &o, &prog, d);
  /* Values internal to fused launches (in no launch) get no slot; a fused launch is one unit. */
  kn_memplan mp;
  if (ok) {
    bool *skip = kn_xmalloc((size_t)(g->n_vals ? g->n_vals : 1) * sizeof *skip);
    int *uf = kn_xmalloc((size_t)(g->n_nodes ? g->n_nodes : 1) * sizeof *uf);
    int *ul = kn_xmalloc((size_t)(g->n_nodes ? g->n_nodes : 1) * sizeof *ul);
    kn_ptx_fused_plan(g, prog, pinned, skip, uf, ul);
    KN_ASSERT(kn_memplan_build_fused(g, pinned, skip, uf, ul, KN_MEMPLAN_ALIGN, &mp));
    free(skip), free(uf), free(ul);
  } else {
    KN_ASSERT(kn_memplan_build(g, pinned, KN_MEMPLAN_ALIGN, &mp));
  }
  if (ok && st && idx < 8) { /* launches without fusion, for --stats */
    kn_ptx_options nf = o;
    nf.no_fuse = true;
    kn_ptx_program plain = {0};
    if (kn_ptx_lower_graph_ex(g, &nf, &plain, d)) st->launches_unfused[idx] = plain.n_calls;
    free(plain.calls);
    st->fused_launches[idx] = prog->fused_launches;
    st->fused_nodes[idx] = prog->fused_nodes;
    st->internal_values[idx] = prog->internal_values;
  }
  if (ok) {
    char *ptx = ptx_path(tmp_base, idx);
    ok = kn_write_file_atomic(ptx, prog->ptx, prog->ptx_len);
    if (!ok) kn_diag_error(d, noloc, NULL, "cannot write '%s'", ptx);
    fprintf(fa, "\t.globl kn_gpu_ptx_%d\n\t.balign 16\nkn_gpu_ptx_%d:\n\t.incbin \"%s\"\n\t.byte 0\n", idx, idx, ptx);
    free(ptx);
  }
  int nt = 0, writes = 0;
  fprintf(f, "\n/* entry point '%s' */\nstatic const kn_tensor_desc kn_tensors_%d[] = {\n", e->name, idx);
  for (int v = 0; v < g->n_vals; v++) {
    if (mp.offset[v] < 0 || (g->vals[v].kind != KN_VAL_INPUT && !pinned[v])) continue;
    put_tensor(f, &g->vals[v], kn_cpu_value_role(g, v), KN_REGION_WORK, mp.offset[v]);
    nt++;
  }
  fprintf(f, "  {0}\n};\n");
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *n = &g->nodes[i];
    for (int k = 0; !n->dead && k < n->n_in; k++)
      if ((kn_op_table[n->op].mutates >> k & 1) && kn_memplan_is_persistent(&g->vals[n->in[k]])) writes = 1;
  }
  fprintf(f, "void kn_model_%s(uint8_t *persist, uint8_t *work) { kn_gpu_model_run(%d, persist, work); }\n", e->name, idx);
  fprintf(f, "static const kn_gpu_model_launch kn_launches_%d[] = {\n", idx);
  for (int k = 0; ok && k < prog->n_calls; k++) {
    const kn_ptx_call *c = &prog->calls[k];
    int na = 0;
    fprintf(f, "  {\"%s\", %uu, %uu, ", c->entry, c->grid, c->block);
    char args[KN_PTX_MAX_P * 24] = "";
    for (int a = 0; a < c->n_p; a++) {
      int v = c->p[a];
      if (v < 0) continue;
      int64_t code = poff[v] >= 0 ? poff[v] * 2 : mp.offset[v] * 2 + 1;
      KN_ASSERT((poff[v] >= 0 || mp.offset[v] >= 0) && "kernel buffer without memory");
      snprintf(args + strlen(args), sizeof args - strlen(args), "%s%lldLL", na++ ? ", " : "", (long long)code);
    }
    KN_ASSERT(na <= KN_GPU_MODEL_MAX_ARGS);
    fprintf(f, "%d, 0, {%s}},\n", na, args);
  }
  fprintf(f, "  {0}\n};\n");
  fprintf(f, "#define KN_ENTRY_%d {\"%s\", kn_model_%s, %lldLL, %lldLL, %d, 0, kn_tensors_%d}\n", idx, e->name, e->name,
          (long long)mp.size, (long long)mp.naive, nt, idx);
  fprintf(f, "extern const char kn_gpu_ptx_%d[];\n#define KN_GPU_ENTRY_%d {\"%s\", kn_gpu_ptx_%d, %d, %d, kn_launches_%d}\n",
          idx, idx, e->name, idx, ok ? prog->n_calls : 0, writes, idx);
  if (ok && st && idx < 8) {
    st->launches[idx] = prog->n_calls;
    st->ptx_bytes[idx] = (int64_t)prog->ptx_len;
    st->work_size[idx] = mp.size;
  }
  kn_ptx_program_dispose(prog);
  kn_memplan_free(&mp);
  free(pinned);
  free(poff);
  return ok;
}

const char *kn_ptx_runtime_lib(void) {
  static char found[PATH_MAX + 64];
  const char *exe = kn_cpu_runtime_lib(); /* .../runtime/exe/libkiln_exe.a or .../libkiln_exe.a */
  const char *slash = exe ? strrchr(exe, '/') : NULL;
  int dir = slash ? (int)(slash - exe) : 0;
  const char *const rel[] = {"%.*s/libkilnrt_cuda.a", "%.*s/../cuda/libkilnrt_cuda.a"};
  for (int i = 0; exe && i < 2; i++) {
    snprintf(found, sizeof found, rel[i], dir, exe);
    if (access(found, R_OK) == 0) return found;
  }
  return *KN_CUDA_RT_LIB && access(KN_CUDA_RT_LIB, R_OK) == 0 ? KN_CUDA_RT_LIB : NULL;
}

void kn_ptx_model_sources_remove(const char *base, int n_entries) {
  if (getenv("KILN_KEEP_TEMPS")) return;
  char *c = kn_fmt("%s.c", base), *a = kn_fmt("%s.s", base);
  unlink(c), unlink(a);
  free(c), free(a);
  for (int i = 0; i < n_entries; i++) {
    char *p = ptx_path(base, i);
    unlink(p);
    free(p);
  }
}

bool kn_ptx_model_sources(const char *model_name, const kn_ptx_entry *entries, int n_entries, const char *base,
                          const kn_ptx_options *o, kn_ptx_model_stats *st, kn_diag *d) {
  KN_ASSERT(n_entries > 0 && n_entries <= 8);
  if (strchr(base, '"') || strchr(base, '\'') || strchr(base, '\\')) {
    kn_diag_error(d, noloc, "choose an output path without quotes or backslashes", "cannot use output path '%s'", base);
    return false;
  }
  if (st) memset(st, 0, sizeof *st);
  char *csrc = kn_fmt("%s.c", base), *asrc = kn_fmt("%s.s", base);
  char *cbuf = NULL, *abuf = NULL;
  size_t clen = 0, alen = 0;
  FILE *f = open_memstream(&cbuf, &clen), *fa = open_memstream(&abuf, &alen);
  KN_ASSERT(f && fa);
  fprintf(f, "/* Generated by kiln compile --target=cuda: model '%s'. Do not edit. */\n%s\n%s\n", model_name,
          kn_ptx_hdr_kilnrt, kn_ptx_hdr_gpu_model);
  fprintf(f, "_Static_assert(sizeof(kn_tensor_desc) == %zu && sizeof(kn_entry_desc) == %zu && sizeof(kn_model_desc) == %zu"
             " && sizeof(kn_gpu_model_launch) == %zu, \"kiln and its runtime headers disagree\");\n",
          sizeof(kn_tensor_desc), sizeof(kn_entry_desc), sizeof(kn_model_desc), sizeof(kn_gpu_model_launch));
  fprintf(fa, "# Generated by kiln compile --target=cuda: the PTX of each entry point.\n\t.section .rodata.kn_gpu_ptx,\"a\"\n");
  persist_table p = {0};
  bool ok = true;
  int batch = 0;
  for (int i = 0; i < n_entries && ok; i++) {
    const kn_graph *g = entries[i].g;
    if (!batch && g->input >= 0) batch = (int)g->vals[g->input].shape.d[0];
    ok = put_entry(f, fa, &p, &entries[i], i, base, o, st, d);
  }
  fprintf(f, "\nstatic const kn_tensor_desc kn_persist_table[] = {\n");
  for (int i = 0; i < p.n; i++) put_tensor(f, p.v[i], p.role[i], KN_REGION_PERSIST, p.off[i]);
  fprintf(f, "  {0}\n};\nstatic const kn_entry_desc kn_entries[] = {");
  for (int i = 0; i < n_entries; i++) fprintf(f, "%sKN_ENTRY_%d", i ? ", " : "", i);
  fprintf(f, "};\nconst kn_model_desc kn_model = {KN_ABI_VERSION, %d, \"%s\", \"%s (CUDA)\", \"+ptx75\", %lldLL, %lldLL, %lldLL, %d, %d, kn_entries, kn_persist_table};\n",
          batch, model_name, "sm_80", (long long)p.size, (long long)p.params_total, (long long)p.params_trainable,
          n_entries, p.n);
  fprintf(f, "static const kn_gpu_model_entry kn_gpu_entries[] = {");
  for (int i = 0; i < n_entries; i++) fprintf(f, "%sKN_GPU_ENTRY_%d", i ? ", " : "", i);
  fprintf(f, "};\nconst kn_gpu_model_desc kn_gpu_model = {KN_GPU_MODEL_VERSION, %d, \"sm_80\", kn_gpu_entries};\n", n_entries);
  fprintf(fa, "\t.section .note.GNU-stack,\"\",@progbits\n");
  fclose(f);
  fclose(fa);
  if (st) st->persist_size = p.size;
  if (ok && !(kn_write_file_atomic(csrc, cbuf, clen) && kn_write_file_atomic(asrc, abuf, alen))) {
    kn_diag_error(d, noloc, NULL, "cannot write '%s'", csrc);
    ok = false;
  }
  if (!ok) kn_ptx_model_sources_remove(base, n_entries);
  free(cbuf), free(abuf), free(csrc), free(asrc);
  free(p.v), free(p.role), free(p.off);
  return ok;
}

/* cpu_profile.c — `kiln compile --profile`: a timer around every kernel call of each entry point
 * and the table the executable's `bench ENTRY --profile` reads (kn_model_profile, kilnrt.h).
 *
 * The entry calls each kernel function once (cpu_fuse.c); with profiling on that call becomes
 *   t0 = kn_prof_now(); kn_kern<k>(persist, work); kn_prof_add(@kn_prof_cnt<e>, k, t0)
 * on the calling thread. Kernels with several work items run on the pool inside that call and
 * return when every item is done, so each kernel's time is wall time and the kernel times add up
 * to the step's wall time with any number of threads. The runtime calls are opaque to LLVM, so
 * they stay where they are. With profiling off (cg->prof NULL) nothing here emits anything. */
#include <stdlib.h>
#include <string.h>

#include "../../../runtime/exe/kilnrt.h"
#include "cpu_internal.h"
#include "util.h"

typedef struct kn_cg_prof_kernel {
  char *name, *members;
  int64_t flops, bytes;
} kn_cg_prof_kernel;

typedef struct kn_cg_prof_ent {
  char *entry;
  LLVMValueRef counters; /* global [2n x i64] */
  kn_cg_prof_kernel *k;
  int n;
} kn_cg_prof_ent;

struct kn_cg_prof {
  LLVMTypeRef now_ty, add_ty;
  LLVMValueRef now, add;
  kn_cg_prof_ent e[8];
  int n_entries;
};

void kn_cg_prof_init(kn_cg *cg) {
  struct kn_cg_prof *p = kn_xcalloc(1, sizeof *p);
  p->now_ty = LLVMFunctionType(cg->i64, NULL, 0, 0);
  p->now = LLVMAddFunction(cg->mod, "kn_prof_now", p->now_ty);
  p->add_ty = LLVMFunctionType(cg->voidt, (LLVMTypeRef[]){LLVMPointerType(cg->i64, 0), cg->i32, cg->i64}, 3, 0);
  p->add = LLVMAddFunction(cg->mod, "kn_prof_add", p->add_ty);
  cg->prof = p;
}

static char *members_text(const kn_graph *g, const kn_kernel *K) {
  size_t len = 1;
  for (int j = 0; j < K->n_nodes; j++) {
    const kn_node *n = &g->nodes[K->nodes[j]];
    len += strlen(kn_op_table[n->op].name) + strlen(n->name ? n->name : "") + 2;
  }
  char *s = kn_xmalloc(len), *q = s;
  for (int j = 0; j < K->n_nodes; j++) {
    const kn_node *n = &g->nodes[K->nodes[j]];
    q += sprintf(q, "%s%s:%s", j ? " " : "", kn_op_table[n->op].name, n->name ? n->name : "");
  }
  *q = 0;
  return s;
}

void kn_cg_prof_entry(kn_cg *cg, const char *entry, const kn_kernel_list *kl) {
  struct kn_cg_prof *p = cg->prof;
  if (!p) return;
  KN_ASSERT(p->n_entries < 8);
  kn_cg_prof_ent *e = &p->e[p->n_entries++];
  e->entry = kn_xstrdup(entry);
  e->n = kl->n;
  e->k = kn_xcalloc((size_t)(kl->n ? kl->n : 1), sizeof *e->k);
  int64_t *flops = kn_xmalloc((size_t)(kl->n ? kl->n : 1) * sizeof *flops);
  int64_t *bytes = kn_xmalloc((size_t)(kl->n ? kl->n : 1) * sizeof *bytes);
  kn_kernels_cost(cg->g, kl, flops, bytes);
  for (int k = 0; k < kl->n; k++) {
    const kn_kernel *K = &kl->k[k];
    e->k[k].name = kn_fmt("kn_kern%d_%s", k, kn_op_table[cg->g->nodes[K->nodes[0]].op].name);
    e->k[k].members = members_text(cg->g, K);
    e->k[k].flops = flops[k];
    e->k[k].bytes = bytes[k];
  }
  free(flops);
  free(bytes);
  LLVMTypeRef aty = LLVMArrayType(cg->i64, (unsigned)(2 * (kl->n ? kl->n : 1)));
  char *name = kn_fmt("kn_prof_cnt_%s", entry);
  e->counters = LLVMAddGlobal(cg->mod, aty, name);
  free(name);
  LLVMSetInitializer(e->counters, LLVMConstNull(aty));
  LLVMSetLinkage(e->counters, LLVMInternalLinkage);
}

LLVMValueRef kn_cg_prof_start(kn_cg *cg) {
  if (!cg->prof) return NULL;
  return LLVMBuildCall2(cg->b, cg->prof->now_ty, cg->prof->now, NULL, 0, "t0");
}

void kn_cg_prof_stop(kn_cg *cg, int k, LLVMValueRef t0) {
  struct kn_cg_prof *p = cg->prof;
  if (!p) return;
  LLVMValueRef cnt = LLVMConstBitCast(p->e[p->n_entries - 1].counters, LLVMPointerType(cg->i64, 0));
  LLVMValueRef a[3] = {cnt, LLVMConstInt(cg->i32, (unsigned long long)k, 0), t0};
  LLVMBuildCall2(cg->b, p->add_ty, p->add, a, 3, "");
}

static LLVMValueRef const_global(kn_cg *cg, LLVMValueRef init, const char *name) {
  LLVMValueRef gv = LLVMAddGlobal(cg->mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(gv, init);
  LLVMSetGlobalConstant(gv, 1);
  LLVMSetLinkage(gv, LLVMPrivateLinkage);
  return gv;
}

void kn_cg_prof_emit(kn_cg *cg) {
  struct kn_cg_prof *p = cg->prof;
  if (!p) return;
  LLVMTypeRef i64p = LLVMPointerType(cg->i64, 0);
  LLVMTypeRef kty = LLVMStructCreateNamed(cg->ctx, "kn_prof_kernel_desc");
  LLVMStructSetBody(kty, (LLVMTypeRef[]){cg->i8p, cg->i8p, cg->i64, cg->i64}, 4, 0);
  LLVMTypeRef ety = LLVMStructCreateNamed(cg->ctx, "kn_prof_entry_desc");
  LLVMStructSetBody(ety, (LLVMTypeRef[]){cg->i8p, cg->i32, cg->i32, LLVMPointerType(kty, 0), i64p}, 5, 0);
  LLVMTypeRef mty = LLVMStructCreateNamed(cg->ctx, "kn_model_profile_desc");
  LLVMStructSetBody(mty, (LLVMTypeRef[]){cg->i32, cg->i32, LLVMPointerType(ety, 0)}, 3, 0);
  LLVMValueRef ents[8];
  for (int i = 0; i < p->n_entries; i++) {
    kn_cg_prof_ent *e = &p->e[i];
    LLVMValueRef *rows = kn_xmalloc((size_t)(e->n ? e->n : 1) * sizeof *rows);
    for (int k = 0; k < e->n; k++) {
      LLVMValueRef f[4] = {kn_cg_cstr(cg, e->k[k].name), kn_cg_cstr(cg, e->k[k].members),
                           LLVMConstInt(cg->i64, (unsigned long long)e->k[k].flops, 1),
                           LLVMConstInt(cg->i64, (unsigned long long)e->k[k].bytes, 1)};
      rows[k] = LLVMConstNamedStruct(kty, f, 4);
    }
    LLVMValueRef table = e->n ? LLVMConstBitCast(const_global(cg, LLVMConstArray(kty, rows, (unsigned)e->n), "kn_prof_k"),
                                                 LLVMPointerType(kty, 0))
                              : LLVMConstNull(LLVMPointerType(kty, 0));
    free(rows);
    LLVMValueRef f[5] = {kn_cg_cstr(cg, e->entry), LLVMConstInt(cg->i32, (unsigned long long)e->n, 0),
                         LLVMConstInt(cg->i32, 0, 0), table, LLVMConstBitCast(e->counters, i64p)};
    ents[i] = LLVMConstNamedStruct(ety, f, 5);
  }
  LLVMValueRef arr = const_global(cg, LLVMConstArray(ety, ents, (unsigned)p->n_entries), "kn_prof_entries");
  LLVMValueRef f[3] = {LLVMConstInt(cg->i32, 1, 0), LLVMConstInt(cg->i32, (unsigned long long)p->n_entries, 0),
                       LLVMConstBitCast(arr, LLVMPointerType(ety, 0))};
  LLVMValueRef gv = LLVMAddGlobal(cg->mod, mty, "kn_model_profile");
  LLVMSetInitializer(gv, LLVMConstNamedStruct(mty, f, 3));
  LLVMSetGlobalConstant(gv, 1);
}

void kn_cg_prof_free(kn_cg *cg) {
  struct kn_cg_prof *p = cg->prof;
  if (!p) return;
  for (int i = 0; i < p->n_entries; i++) {
    for (int k = 0; k < p->e[i].n; k++) {
      free(p->e[i].k[k].name);
      free(p->e[i].k[k].members);
    }
    free(p->e[i].k);
    free(p->e[i].entry);
  }
  free(p);
  cg->prof = NULL;
}

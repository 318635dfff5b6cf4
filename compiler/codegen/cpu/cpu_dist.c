/* cpu_dist.c — lowering of allreduce_mean (data-parallel gradient averaging, compiler/passes/
 * allreduce.c) to the runtime's two calls (runtime/exe/kn_dist.h):
 *
 *   where the node stands:         kn_dist_grad_ready(src, n, bucket, offset, bucket_n)
 *   before the first reader of y:  kn_dist_grad_wait(dst, src, n, bucket, offset)
 *
 * so the bucket's all-reduce runs while the rest of the backward pass does. Both return at once
 * in a single process (dst == src when the `inplace` pass shared the buffer, else one copy).
 *
 * A training-mode BatchNorm (or its gradient) marked SYNC (`kiln compile --sync-bn`) runs its
 * kernel in two phases with kn_dist_sync_bn between them: the batch statistics, or the two
 * gradient sums, averaged over the ranks before they are used. */
#include "cpu_internal.h"

static LLVMValueRef runtime_fn(kn_cg *cg, const char *name, int n_ptr) {
  LLVMValueRef f = LLVMGetNamedFunction(cg->mod, name);
  if (f) return f;
  LLVMTypeRef p[5] = {cg->i8p, n_ptr > 1 ? cg->i8p : cg->i64, cg->i64, cg->i64, cg->i64};
  return LLVMAddFunction(cg->mod, name, LLVMFunctionType(cg->voidt, p, 5, 0));
}

static LLVMValueRef i64c(kn_cg *cg, int64_t v) { return LLVMConstInt(cg->i64, (unsigned long long)v, 0); }

static void wait_for(kn_cg *cg, const kn_node *r) {
  LLVMValueRef f = runtime_fn(cg, "kn_dist_grad_wait", 2);
  LLVMValueRef a[5] = {kn_cg_ptr(cg, r->out[0]), kn_cg_ptr(cg, r->in[0]),
                       i64c(cg, kn_shape_numel(cg->g->vals[r->in[0]].shape)),
                       i64c(cg, kn_node_int(r, KN_ATTR_BUCKET)), i64c(cg, kn_node_int(r, KN_ATTR_OFFSET))};
  LLVMBuildCall2(cg->b, LLVMGlobalGetValueType(f), f, a, 5, "");
}

void kn_cg_lower_allreduce(kn_cg *cg, const kn_node *n) {
  LLVMValueRef f = runtime_fn(cg, "kn_dist_grad_ready", 1);
  LLVMValueRef a[5] = {kn_cg_ptr(cg, n->in[0]), i64c(cg, kn_shape_numel(cg->g->vals[n->in[0]].shape)),
                       i64c(cg, kn_node_int(n, KN_ATTR_BUCKET)), i64c(cg, kn_node_int(n, KN_ATTR_OFFSET)),
                       i64c(cg, kn_node_int(n, KN_ATTR_COUNT))};
  LLVMBuildCall2(cg->b, LLVMGlobalGetValueType(f), f, a, 5, "");
  cg->calls++;
  bool read = false; /* by a later node; else only the caller reads y: wait here */
  for (int i = 0; i < cg->g->n_nodes && !read; i++)
    for (int j = 0; j < cg->g->nodes[i].n_in && !cg->g->nodes[i].dead; j++) read |= cg->g->nodes[i].in[j] == n->out[0];
  if (!read) wait_for(cg, n);
}

void kn_cg_wait_allreduce_inputs(kn_cg *cg, const kn_node *n) {
  for (int j = 0; j < n->n_in; j++) {
    int p = cg->g->vals[n->in[j]].producer;
    if (p >= 0 && cg->g->nodes[p].op == KN_OP_ALLREDUCE_MEAN) wait_for(cg, &cg->g->nodes[p]);
  }
}

void kn_cg_sync_bn(kn_cg *cg, const kn_node *n) {
  LLVMValueRef f = LLVMGetNamedFunction(cg->mod, "kn_dist_sync_bn");
  if (!f) {
    LLVMTypeRef p[4] = {cg->i8p, cg->i8p, cg->i64, cg->i64};
    f = LLVMAddFunction(cg->mod, "kn_dist_sync_bn", LLVMFunctionType(cg->voidt, p, 4, 0));
  }
  /* forward: batch mean and variance; backward: dgamma and dbeta (the two gradient sums) */
  LLVMValueRef a[4] = {kn_cg_ptr(cg, n->out[1]), kn_cg_ptr(cg, n->out[2]),
                       i64c(cg, cg->g->vals[n->in[0]].shape.d[1]), i64c(cg, n->op == KN_OP_BATCHNORM2D)};
  LLVMBuildCall2(cg->b, LLVMGlobalGetValueType(f), f, a, 4, "");
}

void kn_cg_sync_bn_running_update(kn_cg *cg, const kn_node *n) {
  LLVMValueRef f = LLVMGetNamedFunction(cg->mod, "kn_dist_bn_running_update");
  if (!f) {
    LLVMTypeRef p[7] = {cg->i8p, cg->i8p, cg->i8p, cg->i8p, cg->i64, cg->f64, cg->i64};
    f = LLVMAddFunction(cg->mod, "kn_dist_bn_running_update", LLVMFunctionType(cg->voidt, p, 7, 0));
  }
  LLVMValueRef a[7] = {kn_cg_ptr(cg, n->in[0]), kn_cg_ptr(cg, n->in[1]), kn_cg_ptr(cg, n->in[2]),
                       kn_cg_ptr(cg, n->in[3]), i64c(cg, cg->g->vals[n->in[0]].shape.d[0]),
                       LLVMConstReal(cg->f64, kn_node_float(n, KN_ATTR_MOMENTUM)),
                       i64c(cg, kn_node_int(n, KN_ATTR_COUNT))};
  LLVMBuildCall2(cg->b, LLVMGlobalGetValueType(f), f, a, 7, "");
}

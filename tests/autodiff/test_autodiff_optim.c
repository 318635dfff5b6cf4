/* test_autodiff_optim.c — the optimizer update built by autodiff, run by the interpreter for 3
 * steps, equals a hand-rolled PyTorch-semantics reference applied in this test to the
 * autodiff gradients: SGD with momentum (plain, Nesterov, weight decay), no momentum, Adam and
 * AdamW. Two interpreters start from the same weights and data: one runs the whole training
 * graph (updates included), the other only forward + backward, with the update done here.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ad_build.h"
#include "kn_check.h"
#include "fd.h"
#include "util.h"

static kn_graph *net(void) {
  kn_graph *g = kn_graph_create("optim");
  g->input = kn_graph_add_input(g, "input", KN_DT_F32, kn_shape4(2, 3, 6, 6));
  int y = adb_unary(g, KN_OP_RELU, "relu", adb_bn(g, "bn1", adb_conv(g, "conv1", g->input, 4, 3, 1, 1, false)));
  adb_head(g, adb_unary(g, KN_OP_GLOBAL_AVGPOOL, "pool", y), 5);
  return g;
}

/* Hand-rolled state per parameter: momentum buffer or Adam moments, kept in float32 as PyTorch
 * keeps them (arithmetic in double). No parameter has a gradient that is pure rounding noise
 * (a conv bias before BatchNorm would): Adam would amplify its sign to a full step. */
typedef struct {
  int p, grad;
  double *buf, *m, *v;
} ref_param;

static void ref_step(const kn_train_config *c, ref_param *r, float *p, const float *grad, int64_t n, double lr,
                     int t) {
  for (int64_t i = 0; i < n; i++) {
    double g = grad[i], w = p[i];
    if (c->optim == KN_OPTIM_SGD) {
      g += c->weight_decay * w;
      if (c->momentum > 0) {
        r->buf[i] = (float)(t == 1 ? g : c->momentum * r->buf[i] + (1 - c->dampening) * g);
        g = c->nesterov ? g + c->momentum * r->buf[i] : r->buf[i];
      }
      w -= lr * g;
    } else {
      if (c->optim == KN_OPTIM_ADAMW) w *= 1 - lr * c->weight_decay;
      else g += c->weight_decay * w;
      r->m[i] = (float)(c->beta1 * r->m[i] + (1 - c->beta1) * g);
      r->v[i] = (float)(c->beta2 * r->v[i] + (1 - c->beta2) * g * g);
      double mh = r->m[i] / (1 - pow(c->beta1, t)), vh = r->v[i] / (1 - pow(c->beta2, t));
      w -= lr * mh / (sqrt(vh) + c->eps);
    }
    p[i] = (float)w;
  }
}

static void run_case(const char *label, const kn_train_config *c) {
  fd_case a, b;
  if (!fd_case_init(&a, net(), c, 3) || !fd_case_init(&b, net(), c, 3)) {
    CHECK(!"autodiff failed");
    return;
  }
  kn_graph *g = b.g;
  ref_param refs[16];
  int nr = 0;
  for (int v = 0; v < g->n_vals && nr < 16; v++) {
    int p = g->vals[v].grad_of;
    if (p < 0 || g->vals[p].kind != KN_VAL_PARAM) continue;
    int64_t n = kn_shape_numel(g->vals[p].shape);
    refs[nr++] = (ref_param){p, v, kn_xcalloc((size_t)n, sizeof(double)), kn_xcalloc((size_t)n, sizeof(double)),
                             kn_xcalloc((size_t)n, sizeof(double))};
  }
  CHECK(nr == 5);
  const double lr = 0.05;
  double worst = 0;
  for (int t = 1; t <= 3; t++) {
    kn_interp_f32(a.it, a.g->lr)[0] = (float)lr;
    kn_interp_f32(a.it, a.g->step)[0] = (float)t;
    kn_interp_run(a.it); /* forward, backward, updates */
    fd_run(&b, true);    /* forward, backward */
    for (int i = 0; i < nr; i++) {
      int64_t n = kn_shape_numel(g->vals[refs[i].p].shape);
      float *pb = kn_interp_f32(b.it, refs[i].p);
      ref_step(c, &refs[i], pb, kn_interp_f32(b.it, refs[i].grad), n, lr, t);
      const float *pa = kn_interp_f32(a.it, refs[i].p);
      for (int64_t k = 0; k < n; k++) worst = fmax(worst, fabs(pa[k] - pb[k]) / (1e-5 * fabs(pb[k]) + 1e-7));
    }
  }
  printf("%-22s parameters after 3 steps: worst %.3g of tolerance\n", label, worst);
  CHECK(worst <= 1);
  for (int i = 0; i < nr; i++) {
    free(refs[i].buf);
    free(refs[i].m);
    free(refs[i].v);
  }
  fd_case_free(&a);
  fd_case_free(&b);
}

int main(void) {
  kn_train_config c;
  kn_train_config_defaults(&c);
  run_case("sgd momentum", &c);
  c.nesterov = true;
  c.weight_decay = 1e-2;
  run_case("sgd nesterov + decay", &c);
  kn_train_config_defaults(&c);
  c.momentum = 0;
  run_case("sgd no momentum", &c);
  kn_train_config_defaults(&c);
  c.optim = KN_OPTIM_ADAM;
  c.weight_decay = 1e-2;
  run_case("adam + L2", &c);
  c.optim = KN_OPTIM_ADAMW;
  run_case("adamw", &c);
  return kn_check_summary();
}

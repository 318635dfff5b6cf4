/* update_cases.c — hand-computed single steps of the in-place update ops: SGD (momentum,
 * Nesterov, weight decay, dampening, no buffer), Adam with L2 weight decay, Adam at step 2, AdamW,
 * and BatchNorm's running statistics. */
#include "op_tests.h"
#include "vt.h"

static bool sgd_values(void) {
  vt t;
  vt_begin(&t);
  /* momentum 0.9, weight decay 0.01, Nesterov, lr 0.1:
   *   p = 1, g = 0.5, buf = 0.2:  g' = 0.5 + 0.01*1 = 0.51; buf = 0.9*0.2 + 0.51 = 0.69;
   *                               step = 0.51 + 0.9*0.69 = 1.131; p = 1 - 0.1131 = 0.8869
   *   p = -1, g = 0, buf = 1:     g' = -0.01; buf = 0.9 - 0.01 = 0.89;
   *                               step = -0.01 + 0.801 = 0.791; p = -1 - 0.0791 = -1.0791 */
  int p = vt_input(&t, kn_shape1(2), (const float[]){1, -1});
  int g = vt_input(&t, kn_shape1(2), (const float[]){0.5f, 0});
  int lr = vt_input(&t, kn_shape1(1), (const float[]){0.1f});
  int buf = vt_input(&t, kn_shape1(2), (const float[]){0.2f, 1});
  kn_node *n = vt_node(&t, KN_OP_SGD_UPDATE, (int[]){p, g, lr, buf}, 4);
  kn_node_set_float(n, KN_ATTR_MOMENTUM, 0.9);
  kn_node_set_float(n, KN_ATTR_WEIGHT_DECAY, 0.01);
  kn_node_set_int(n, KN_ATTR_NESTEROV, 1);
  vt_infer(&t, n);
  /* momentum 0.5, dampening 0.5, lr 0.5: p = 2, g = -1, buf = 2:
   *   buf = 0.5*2 + 0.5*(-1) = 0.5; p = 2 - 0.5*0.5 = 1.75 */
  int p2 = vt_input(&t, kn_shape1(1), (const float[]){2});
  int g2 = vt_input(&t, kn_shape1(1), (const float[]){-1});
  int lr2 = vt_input(&t, kn_shape1(1), (const float[]){0.5f});
  int buf2 = vt_input(&t, kn_shape1(1), (const float[]){2});
  n = vt_node(&t, KN_OP_SGD_UPDATE, (int[]){p2, g2, lr2, buf2}, 4);
  kn_node_set_float(n, KN_ATTR_MOMENTUM, 0.5);
  kn_node_set_float(n, KN_ATTR_DAMPENING, 0.5);
  vt_infer(&t, n);
  /* plain SGD without a buffer (momentum 0.1 is ignored then), lr 0.1: {1 - 0.2, -2 - 0.1} */
  int p3 = vt_input(&t, kn_shape1(2), (const float[]){1, -2});
  int g3 = vt_input(&t, kn_shape1(2), (const float[]){2, 1});
  vt_infer(&t, vt_node(&t, KN_OP_SGD_UPDATE, (int[]){p3, g3, lr}, 3));
  vt_run(&t);
  bool ok = vt_check(&t, p, (const float[]){0.8869f, -1.0791f}, "sgd nesterov param");
  ok &= vt_check(&t, buf, (const float[]){0.69f, 0.89f}, "sgd nesterov buffer");
  ok &= vt_check(&t, p2, (const float[]){1.75f}, "sgd dampening param");
  ok &= vt_check(&t, buf2, (const float[]){0.5f}, "sgd dampening buffer");
  ok &= vt_check(&t, p3, (const float[]){0.8f, -2.1f}, "sgd without buffer");
  vt_end(&t);
  return ok;
}

/* One adam_update of a single element; checks p, m, v. */
static bool adam_case(const char *what, bool decoupled, float wd, float lr, float step, float p0, float g0,
                      float m0, float v0, float want_p, float want_m, float want_v) {
  vt t;
  vt_begin(&t);
  float pv[1] = {p0}, gv[1] = {g0}, lv[1] = {lr}, sv[1] = {step}, mv[1] = {m0}, vv[1] = {v0};
  int p = vt_input(&t, kn_shape1(1), pv), g = vt_input(&t, kn_shape1(1), gv);
  int l = vt_input(&t, kn_shape1(1), lv), s = vt_input(&t, kn_shape1(1), sv);
  int m = vt_input(&t, kn_shape1(1), mv), v = vt_input(&t, kn_shape1(1), vv);
  kn_node *n = vt_node(&t, KN_OP_ADAM_UPDATE, (int[]){p, g, l, s, m, v}, 6);
  kn_node_set_float(n, KN_ATTR_EPS, 1e-8);
  kn_node_set_float(n, KN_ATTR_WEIGHT_DECAY, wd);
  kn_node_set_int(n, KN_ATTR_DECOUPLED, decoupled);
  vt_infer(&t, n);
  vt_run(&t);
  bool ok = vt_check(&t, p, (const float[]){want_p}, what);
  ok &= vt_check(&t, m, (const float[]){want_m}, what);
  ok &= vt_check(&t, v, (const float[]){want_v}, what);
  vt_end(&t);
  return ok;
}

static bool adam_values(void) {
  /* Adam, step 1, lr 0.1, L2 decay 0.1, p 1, g 0.5: g' = 0.5 + 0.1 = 0.6; m = 0.1*0.6 = 0.06;
   * v = 0.001*0.36 = 0.00036; m^ = 0.06/0.1 = 0.6, sqrt(v^) = sqrt(0.36) = 0.6;
   * p = 1 - 0.1 * 0.6/(0.6 + 1e-8) = 0.9 */
  bool ok = adam_case("adam step 1", false, 0.1f, 0.1f, 1, 1, 0.5f, 0, 0, 0.9f, 0.06f, 0.00036f);
  /* Adam, step 2, lr 0.01, no decay, p 1, g 0.5, m 0.1, v 0.01:
   * m = 0.09 + 0.05 = 0.14; v = 0.00999 + 0.00025 = 0.01024; bc1 = 1 - 0.81 = 0.19,
   * bc2 = 1 - 0.998001 = 0.001999; p = 1 - 0.01/0.19 * 0.14/(sqrt(0.01024)/sqrt(0.001999) + 1e-8)
   *   = 1 - 0.0526316 * 0.14/2.2633074 = 0.99674440 */
  ok &= adam_case("adam step 2", false, 0, 0.01f, 2, 1, 0.5f, 0.1f, 0.01f, 0.99674440f, 0.14f, 0.01024f);
  /* AdamW, step 1, lr 0.1, decay 0.5, p 2, g 0.5: p = 2*(1 - 0.05) = 1.9; m = 0.05, v = 0.00025;
   * m^ = 0.5, sqrt(v^) = 0.5; p = 1.9 - 0.1 * 0.5/0.5 = 1.8 */
  ok &= adam_case("adamw step 1", true, 0.5f, 0.1f, 1, 2, 0.5f, 0, 0, 1.8f, 0.05f, 0.00025f);
  return ok;
}

static bool bn_running_values(void) {
  vt t;
  vt_begin(&t);
  /* momentum 0.1, COUNT 5 (unbiased factor 5/4):
   *   mean: 0.9*1 + 0.1*3 = 1.2,  0.9*0 + 0.1*1 = 0.1
   *   var:  0.9*2 + 0.1*4*1.25 = 2.3,  0.9*1 + 0.1*0.8*1.25 = 1.0 */
  int rm = vt_input(&t, kn_shape1(2), (const float[]){1, 0});
  int rv = vt_input(&t, kn_shape1(2), (const float[]){2, 1});
  int bm = vt_input(&t, kn_shape1(2), (const float[]){3, 1});
  int bv = vt_input(&t, kn_shape1(2), (const float[]){4, 0.8f});
  kn_node *n = vt_node(&t, KN_OP_BN_RUNNING_UPDATE, (int[]){rm, rv, bm, bv}, 4);
  kn_node_set_int(n, KN_ATTR_COUNT, 5);
  vt_infer(&t, n);
  vt_run(&t);
  bool ok = vt_check(&t, rm, (const float[]){1.2f, 0.1f}, "running mean");
  ok &= vt_check(&t, rv, (const float[]){2.3f, 1.0f}, "running var (unbiased)");
  vt_end(&t);
  return ok;
}

#define V(op, what, fn) {KN_OP_##op, what, NULL, 0, fn}
const op_row kn_update_rows[] = {
    V(SGD_UPDATE, "momentum+nesterov+wd, dampening, no buffer", sgd_values),
    V(ADAM_UPDATE, "adam steps 1 and 2, adamw", adam_values),
    V(BN_RUNNING_UPDATE, "momentum 0.1, count 5", bn_running_values),
};
const int kn_n_update_rows = (int)(sizeof kn_update_rows / sizeof kn_update_rows[0]);

/* value_cases.c — hand-computed value tests of every forward op on tiny inputs. The expected
 * numbers are derived in the comments next to them. */
#include "op_tests.h"
#include "vt.h"

static const float one_to_nine[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}; /* a 3x3 image, row-major */

static bool conv_values(void) {
  vt t;
  vt_begin(&t);
  int x = vt_input(&t, kn_shape4(1, 1, 3, 3), one_to_nine);
  /* 2x2 kernel [1 2; 3 4], bias 0.5, no padding:
   *   y00 = 1*1 + 2*2 + 3*4 + 4*5 + .5 = 37.5   y01 = 1*2 + 2*3 + 3*5 + 4*6 + .5 = 47.5
   *   y10 = 1*4 + 2*5 + 3*7 + 4*8 + .5 = 67.5   y11 = 1*5 + 2*6 + 3*8 + 4*9 + .5 = 77.5 */
  int w = vt_input(&t, kn_shape4(1, 1, 2, 2), (const float[]){1, 2, 3, 4});
  int b = vt_input(&t, kn_shape1(1), (const float[]){0.5f});
  kn_node *n = vt_node(&t, KN_OP_CONV2D, (int[]){x, w, b}, 3);
  kn_node_set_int(n, KN_ATTR_OUT_CHANNELS, 1);
  kn_node_set_pair(n, KN_ATTR_KERNEL, 2, 2);
  kn_node_set_int(n, KN_ATTR_BIAS, 1);
  int y1 = vt_infer(&t, n);
  /* 3x3 ones, padding 1: each output sums the 3x3 neighbourhood, e.g. corner 1+2+4+5 = 12,
   * centre 45; stride 1 gives all nine, stride 2 the four corners. */
  static const float ones9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  int w3 = vt_input(&t, kn_shape4(1, 1, 3, 3), ones9);
  int y2[2];
  for (int s = 1; s <= 2; s++) {
    n = vt_node(&t, KN_OP_CONV2D, (int[]){x, w3}, 2);
    kn_node_set_int(n, KN_ATTR_OUT_CHANNELS, 1);
    kn_node_set_pair(n, KN_ATTR_KERNEL, 3, 3);
    kn_node_set_pair(n, KN_ATTR_PADDING, 1, 1);
    kn_node_set_pair(n, KN_ATTR_STRIDE, s, s);
    y2[s - 1] = vt_infer(&t, n);
  }
  /* dilation 2 with a 2x2 ones kernel reads the corners: 1 + 3 + 7 + 9 = 20 */
  int w2 = vt_input(&t, kn_shape4(1, 1, 2, 2), ones9);
  n = vt_node(&t, KN_OP_CONV2D, (int[]){x, w2}, 2);
  kn_node_set_int(n, KN_ATTR_OUT_CHANNELS, 1);
  kn_node_set_pair(n, KN_ATTR_KERNEL, 2, 2);
  kn_node_set_pair(n, KN_ATTR_DILATION, 2, 2);
  int y3 = vt_infer(&t, n);
  /* two channels [3, 5]; groups 2 with weights [2, 10] -> [6, 50]; groups 1 with
   * weights [[1, 2], [3, 4]] -> [1*3 + 2*5, 3*3 + 4*5] = [13, 29] */
  int x2 = vt_input(&t, kn_shape4(1, 2, 1, 1), (const float[]){3, 5});
  int wg = vt_input(&t, kn_shape4(2, 1, 1, 1), (const float[]){2, 10});
  int wf = vt_input(&t, kn_shape4(2, 2, 1, 1), (const float[]){1, 2, 3, 4});
  n = vt_node(&t, KN_OP_CONV2D, (int[]){x2, wg}, 2);
  kn_node_set_int(n, KN_ATTR_OUT_CHANNELS, 2);
  kn_node_set_int(n, KN_ATTR_GROUPS, 2);
  int y4 = vt_infer(&t, n);
  n = vt_node(&t, KN_OP_CONV2D, (int[]){x2, wf}, 2);
  kn_node_set_int(n, KN_ATTR_OUT_CHANNELS, 2);
  int y5 = vt_infer(&t, n);
  vt_run(&t);
  bool ok = vt_check(&t, y1, (const float[]){37.5f, 47.5f, 67.5f, 77.5f}, "conv 2x2");
  ok &= vt_check(&t, y2[0], (const float[]){12, 21, 16, 27, 45, 33, 24, 39, 28}, "conv 3x3 pad 1");
  ok &= vt_check(&t, y2[1], (const float[]){12, 16, 24, 28}, "conv 3x3 pad 1 stride 2");
  ok &= vt_check(&t, y3, (const float[]){20}, "conv dilation 2");
  ok &= vt_check(&t, y4, (const float[]){6, 50}, "conv groups 2");
  ok &= vt_check(&t, y5, (const float[]){13, 29}, "conv 1x1 two channels");
  vt_end(&t);
  return ok;
}

static bool batchnorm_values(void) {
  vt t;
  vt_begin(&t);
  /* x [2,1,1,2] = {1, 2 | 3, 4}: batch mean 2.5, biased variance (2.25+.25+.25+2.25)/4 = 1.25.
   * Training, gamma 2, beta 1, eps 1e-5: y = (x - 2.5) * 2 / sqrt(1.25001) + 1
   *   = {-1.68327084, 0.10557639, 1.89442361, 3.68327084}.
   * Eval with running mean 1, running var 4, eps 0: y = (x - 1) / 2 * 2 + 1 = x. */
  int x = vt_input(&t, kn_shape4(2, 1, 1, 2), (const float[]){1, 2, 3, 4});
  int gamma = vt_input(&t, kn_shape1(1), (const float[]){2});
  int beta = vt_input(&t, kn_shape1(1), (const float[]){1});
  int rm = vt_input(&t, kn_shape1(1), (const float[]){1});
  int rv = vt_input(&t, kn_shape1(1), (const float[]){4});
  kn_node *n = vt_node(&t, KN_OP_BATCHNORM2D, (int[]){x, gamma, beta, rm, rv}, 5);
  int y = vt_infer(&t, n), mean = n->out[1], var = n->out[2];
  n = vt_node(&t, KN_OP_BATCHNORM2D, (int[]){x, gamma, beta, rm, rv}, 5);
  kn_node_set_int(n, KN_ATTR_TRAINING, 0);
  kn_node_set_float(n, KN_ATTR_EPS, 0);
  int y_eval = vt_infer(&t, n);
  vt_run(&t);
  bool ok = vt_check(&t, y, (const float[]){-1.68327084f, 0.10557639f, 1.89442361f, 3.68327084f}, "bn training");
  ok &= vt_check(&t, mean, (const float[]){2.5f}, "bn batch mean");
  ok &= vt_check(&t, var, (const float[]){1.25f}, "bn batch var (biased)");
  ok &= vt_check(&t, y_eval, (const float[]){1, 2, 3, 4}, "bn eval");
  vt_end(&t);
  return ok;
}

static bool activation_values(void) {
  vt t;
  vt_begin(&t);
  /* relu {-1, 0, 2, -0.5} = {0, 0, 2, 0}; sigmoid(0) = 1/2, sigmoid(+-ln 3) = 1/(1 + 1/3) = 3/4, 1/4 */
  int x = vt_input(&t, kn_shape2(1, 4), (const float[]){-1, 0, 2, -0.5f});
  int s = vt_input(&t, kn_shape2(1, 3), (const float[]){0, 1.09861229f, -1.09861229f});
  int r = vt_infer(&t, vt_node(&t, KN_OP_RELU, (int[]){x}, 1));
  int sg = vt_infer(&t, vt_node(&t, KN_OP_SIGMOID, (int[]){s}, 1));
  vt_run(&t);
  bool ok = vt_check(&t, r, (const float[]){0, 0, 2, 0}, "relu");
  ok &= vt_check(&t, sg, (const float[]){0.5f, 0.75f, 0.25f}, "sigmoid");
  vt_end(&t);
  return ok;
}

/* One unary op on x = {-1, 0, 1, 2} (x4 = {-4, -3, -1.5, 0, 1.5, 3, 4} for the hard ops). */
static int unary(vt *t, kn_op op, int x) { return vt_infer(t, vt_node(t, op, (int[]){x}, 1)); }

static bool more_activation_values(void) {
  vt t;
  vt_begin(&t);
  int x = vt_input(&t, kn_shape2(1, 4), (const float[]){-1, 0, 1, 2});
  int x4 = vt_input(&t, kn_shape2(1, 7), (const float[]){-4, -3, -1.5f, 0, 1.5f, 3, 4});
  kn_node *n = vt_node(&t, KN_OP_LEAKY_RELU, (int[]){x}, 1);
  kn_node_set_float(n, KN_ATTR_NEGATIVE_SLOPE, 0.25);
  int lr = vt_infer(&t, n), lr0 = unary(&t, KN_OP_LEAKY_RELU, x);
  int ge = unary(&t, KN_OP_GELU, x), gt = unary(&t, KN_OP_GELU_TANH, x), si = unary(&t, KN_OP_SILU, x);
  int hw = unary(&t, KN_OP_HARDSWISH, x4), hs = unary(&t, KN_OP_HARDSIGMOID, x4);
  vt_run(&t);
  /* leaky_relu, slope 0.25: {-0.25, 0, 1, 2}; with the default slope 0.01: {-0.01, 0, 1, 2} */
  bool ok = vt_check(&t, lr, (const float[]){-0.25f, 0, 1, 2}, "leaky_relu slope 0.25");
  ok &= vt_check(&t, lr0, (const float[]){-0.01f, 0, 1, 2}, "leaky_relu default slope");
  /* gelu(x) = x Phi(x): Phi(1) = 0.8413447461, Phi(2) = 0.9772498681, Phi(-1) = 1 - Phi(1) */
  ok &= vt_check(&t, ge, (const float[]){-0.1586552539f, 0, 0.8413447461f, 1.9544997361f}, "gelu");
  /* gelu_tanh(1) = 0.5 (1 + tanh(sqrt(2/pi) * 1.044715)) = 0.5 (1 + tanh(0.8335661)) = 0.8411920;
   * (2) = 0.5 * 2 (1 + tanh(sqrt(2/pi) * 2.35772)) = 1.9545977; odd part: (-1) = -(1 - 0.8411920) */
  ok &= vt_check(&t, gt, (const float[]){-0.1588080094f, 0, 0.8411919906f, 1.9545976941f}, "gelu_tanh");
  /* silu(x) = x / (1 + e^-x): (1) = 0.7310585786, (2) = 2 * 0.8807970780, (-1) = -(1 - 0.7310585786) */
  ok &= vt_check(&t, si, (const float[]){-0.2689414214f, 0, 0.7310585786f, 1.7615941560f}, "silu");
  /* hardswish x * clamp(x + 3, 0, 6) / 6: {0, 0, -1.5 * 1.5 / 6, 0, 1.5 * 4.5 / 6, 3, 4} */
  ok &= vt_check(&t, hw, (const float[]){0, 0, -0.375f, 0, 1.125f, 3, 4}, "hardswish");
  /* hardsigmoid clamp(x + 3, 0, 6) / 6: {0, 0, 0.25, 0.5, 0.75, 1, 1} */
  ok &= vt_check(&t, hs, (const float[]){0, 0, 0.25f, 0.5f, 0.75f, 1, 1}, "hardsigmoid");
  vt_end(&t);
  return ok;
}

static int pool(vt *t, kn_op op, int x, int k, int s, int p) {
  kn_node *n = vt_node(t, op, (int[]){x}, 1);
  kn_node_set_pair(n, KN_ATTR_KERNEL, k, k);
  kn_node_set_pair(n, KN_ATTR_STRIDE, s, s);
  kn_node_set_pair(n, KN_ATTR_PADDING, p, p);
  return vt_infer(t, n);
}

static bool maxpool_values(void) {
  static const float x16[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  static const float neg9[9] = {-1, -2, -3, -4, -5, -6, -7, -8, -9};
  vt t;
  vt_begin(&t);
  /* 4x4 1..16, k2 s2: maxima of the 2x2 blocks {6, 8, 14, 16}.
   * 3x3 1..9, k3 s2 p1: windows around the corners {5, 6, 8, 9}.
   * 3x3 -1..-9, k3 s2 p1: padding is -inf, not 0: {-1, -2, -4, -5}. */
  int a = pool(&t, KN_OP_MAXPOOL2D, vt_input(&t, kn_shape4(1, 1, 4, 4), x16), 2, 2, 0);
  int b = pool(&t, KN_OP_MAXPOOL2D, vt_input(&t, kn_shape4(1, 1, 3, 3), one_to_nine), 3, 2, 1);
  int c = pool(&t, KN_OP_MAXPOOL2D, vt_input(&t, kn_shape4(1, 1, 3, 3), neg9), 3, 2, 1);
  vt_run(&t);
  bool ok = vt_check(&t, a, (const float[]){6, 8, 14, 16}, "maxpool k2 s2");
  ok &= vt_check(&t, b, (const float[]){5, 6, 8, 9}, "maxpool k3 s2 p1");
  ok &= vt_check(&t, c, (const float[]){-1, -2, -4, -5}, "maxpool pads with -inf");
  vt_end(&t);
  return ok;
}

static bool avgpool_values(void) {
  vt t;
  vt_begin(&t);
  /* 3x3 1..9, k3 s1 p1, count_include_pad: neighbourhood sums / 9, e.g. corner (1+2+4+5)/9 */
  int a = pool(&t, KN_OP_AVGPOOL2D, vt_input(&t, kn_shape4(1, 1, 3, 3), one_to_nine), 3, 1, 1);
  /* k2 s1 no padding: {(1+2+4+5)/4, (2+3+5+6)/4, (4+5+7+8)/4, (5+6+8+9)/4} = {3, 4, 6, 7} */
  int b = pool(&t, KN_OP_AVGPOOL2D, vt_input(&t, kn_shape4(1, 1, 3, 3), one_to_nine), 2, 1, 0);
  vt_run(&t);
  bool ok = vt_check(&t, a,
                     (const float[]){12 / 9.f, 21 / 9.f, 16 / 9.f, 27 / 9.f, 45 / 9.f, 33 / 9.f, 24 / 9.f,
                                     39 / 9.f, 28 / 9.f},
                     "avgpool k3 p1");
  ok &= vt_check(&t, b, (const float[]){3, 4, 6, 7}, "avgpool k2");
  vt_end(&t);
  return ok;
}

/* x [1,2,1,2]: channel 0 = {1, 2}, channel 1 = {5, -4} */
static bool reduce_values(kn_op op, const float *want, const char *what) {
  vt t;
  vt_begin(&t);
  int x = vt_input(&t, kn_shape4(1, 2, 1, 2), (const float[]){1, 2, 5, -4});
  int y = vt_infer(&t, vt_node(&t, op, (int[]){x}, 1));
  vt_run(&t);
  bool ok = vt_check(&t, y, want, what);
  vt_end(&t);
  return ok;
}
/* per channel: mean {1.5, 0.5}, max {2, 5}; per pixel over channels: mean {3, -1}, max {5, 2} */
static bool gavg_values(void) { return reduce_values(KN_OP_GLOBAL_AVGPOOL, (const float[]){1.5f, 0.5f}, "global_avgpool"); }
static bool gmax_values(void) { return reduce_values(KN_OP_GLOBAL_MAXPOOL, (const float[]){2, 5}, "global_maxpool"); }
static bool cmean_values(void) { return reduce_values(KN_OP_CHANNEL_MEAN, (const float[]){3, -1}, "channel_mean"); }
static bool cmax_values(void) { return reduce_values(KN_OP_CHANNEL_MAX, (const float[]){5, 2}, "channel_max"); }

static bool concat_values(void) {
  vt t;
  vt_begin(&t);
  /* N = 2: a = {1 | 2} (one channel), b = {3, 4 | 5, 6} (two): y = {1, 3, 4 | 2, 5, 6} */
  int a = vt_input(&t, kn_shape4(2, 1, 1, 1), (const float[]){1, 2});
  int b = vt_input(&t, kn_shape4(2, 2, 1, 1), (const float[]){3, 4, 5, 6});
  int y = vt_infer(&t, vt_node(&t, KN_OP_CONCAT, (int[]){a, b}, 2));
  vt_run(&t);
  bool ok = vt_check(&t, y, (const float[]){1, 3, 4, 2, 5, 6}, "concat");
  vt_end(&t);
  return ok;
}

static bool add_mul_values(kn_op op) {
  vt t;
  vt_begin(&t);
  /* a [1,2,1,2] = {1, 2 | 3, 4}; per-channel c [1,2,1,1] = {10, 20}; per-pixel p [1,1,1,2] = {2, 3}
   * add: a + c = {11, 12, 23, 24}, c + a (broadcast on the left) the same, a + p = {3, 5, 5, 7}
   * mul: a * c = {10, 20, 60, 80}, c * a the same, a * p = {2, 6, 6, 12} */
  int a = vt_input(&t, kn_shape4(1, 2, 1, 2), (const float[]){1, 2, 3, 4});
  int c = vt_input(&t, kn_shape4(1, 2, 1, 1), (const float[]){10, 20});
  int p = vt_input(&t, kn_shape4(1, 1, 1, 2), (const float[]){2, 3});
  int ac = vt_infer(&t, vt_node(&t, op, (int[]){a, c}, 2));
  int ca = vt_infer(&t, vt_node(&t, op, (int[]){c, a}, 2));
  int ap = vt_infer(&t, vt_node(&t, op, (int[]){a, p}, 2));
  vt_run(&t);
  bool add = op == KN_OP_ADD, ok;
  const float *want_ac = add ? (const float[]){11, 12, 23, 24} : (const float[]){10, 20, 60, 80};
  ok = vt_check(&t, ac, want_ac, "a op c");
  ok &= vt_check(&t, ca, want_ac, "c op a");
  ok &= vt_check(&t, ap, add ? (const float[]){3, 5, 5, 7} : (const float[]){2, 6, 6, 12}, "a op p");
  vt_end(&t);
  return ok;
}
static bool add_values(void) { return add_mul_values(KN_OP_ADD); }
static bool mul_values(void) { return add_mul_values(KN_OP_MUL); }

static bool linear_values(void) {
  vt t;
  vt_begin(&t);
  /* x = {1, 2 | 3, 4}, W = [[1, 2], [3, 4], [5, 6]], b = 1:
   *   row 0: {1+4, 3+8, 5+12} + 1 = {6, 12, 18};  row 1: {3+8, 9+16, 15+24} + 1 = {12, 26, 40}
   * The same x given as [2,2,1,1] is flattened first. */
  int x = vt_input(&t, kn_shape2(2, 2), (const float[]){1, 2, 3, 4});
  int x4 = vt_input(&t, kn_shape4(2, 2, 1, 1), (const float[]){1, 2, 3, 4});
  int w = vt_input(&t, kn_shape2(3, 2), (const float[]){1, 2, 3, 4, 5, 6});
  int b = vt_input(&t, kn_shape1(3), (const float[]){1, 1, 1});
  kn_node *n = vt_node(&t, KN_OP_LINEAR, (int[]){x, w, b}, 3);
  kn_node_set_int(n, KN_ATTR_OUT_FEATURES, 3);
  int y = vt_infer(&t, n);
  n = vt_node(&t, KN_OP_LINEAR, (int[]){x4, w, b}, 3);
  kn_node_set_int(n, KN_ATTR_OUT_FEATURES, 3);
  int y4 = vt_infer(&t, n);
  vt_run(&t);
  bool ok = vt_check(&t, y, (const float[]){6, 12, 18, 12, 26, 40}, "linear");
  ok &= vt_check(&t, y4, (const float[]){6, 12, 18, 12, 26, 40}, "linear of [N,C,1,1]");
  vt_end(&t);
  return ok;
}

static bool flatten_values(void) {
  vt t;
  vt_begin(&t);
  int x = vt_input(&t, kn_shape4(2, 2, 1, 2), (const float[]){1, 2, 3, 4, 5, 6, 7, 8});
  int y = vt_infer(&t, vt_node(&t, KN_OP_FLATTEN, (int[]){x}, 1));
  vt_run(&t);
  bool ok = t.g->vals[y].shape.rank == 2 && t.g->vals[y].shape.d[1] == 4;
  ok &= vt_check(&t, y, (const float[]){1, 2, 3, 4, 5, 6, 7, 8}, "flatten");
  vt_end(&t);
  return ok;
}

static bool allreduce_values(void) {
  vt t;
  vt_begin(&t);
  int x = vt_input(&t, kn_shape2(2, 3), (const float[]){1, -2, 3, 4.5f, 0, -6});
  int y = vt_infer(&t, vt_node(&t, KN_OP_ALLREDUCE_MEAN, (int[]){x}, 1));
  vt_run(&t);
  bool ok = vt_check(&t, y, (const float[]){1, -2, 3, 4.5f, 0, -6}, "allreduce_mean (one process)");
  vt_end(&t);
  return ok;
}

static bool upsample_values(void) {
  vt t;
  vt_begin(&t);
  /* [[1, 2], [3, 4]] x2. Nearest repeats each pixel 2x2.
   * Bilinear, align_corners=False: source row of output i is (i + .5)/2 - .5 = {-.25->0, .25, .75,
   * 1.25->clamped to row 1}, so a 1-D pair {a, b} becomes {a, .75a+.25b, .25a+.75b, b}:
   *   rows {1, 1.25, 1.75, 2} and {3, 3.25, 3.75, 4}, then the same mix vertically. */
  int x = vt_input(&t, kn_shape4(1, 1, 2, 2), (const float[]){1, 2, 3, 4});
  kn_node *n = vt_node(&t, KN_OP_UPSAMPLE, (int[]){x}, 1);
  kn_node_set_int(n, KN_ATTR_SCALE, 2);
  int yn = vt_infer(&t, n);
  n = vt_node(&t, KN_OP_UPSAMPLE, (int[]){x}, 1);
  kn_node_set_int(n, KN_ATTR_SCALE, 2);
  kn_node_set_int(n, KN_ATTR_MODE, KN_MODE_BILINEAR);
  int yb = vt_infer(&t, n);
  vt_run(&t);
  bool ok = vt_check(&t, yn, (const float[]){1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, "nearest");
  ok &= vt_check(&t, yb,
                 (const float[]){1.00f, 1.25f, 1.75f, 2.00f, 1.50f, 1.75f, 2.25f, 2.50f, 2.50f, 2.75f, 3.25f, 3.50f,
                                 3.00f, 3.25f, 3.75f, 4.00f},
                 "bilinear");
  vt_end(&t);
  return ok;
}

static bool softmax_values(void) {
  vt t;
  vt_begin(&t);
  /* rows {0, ln 2, ln 3} and the same + 100: {1/6, 2/6, 3/6} each (the max is subtracted first) */
  int x = vt_input(&t, kn_shape2(2, 3), (const float[]){0, 0.693147181f, 1.09861229f, 100, 100.693147f, 101.098612f});
  /* over channels of [1, 2, 1, 2]: pixel 0 has {0, ln 3} -> {1/4, 3/4}, pixel 1 {5, 5} -> {1/2, 1/2};
   * NCHW order: c0 = {0, 5}, c1 = {ln 3, 5} */
  int xc = vt_input(&t, kn_shape4(1, 2, 1, 2), (const float[]){0, 5, 1.09861229f, 5});
  int y = vt_infer(&t, vt_node(&t, KN_OP_SOFTMAX, (int[]){x}, 1));
  int yc = vt_infer(&t, vt_node(&t, KN_OP_SOFTMAX, (int[]){xc}, 1));
  vt_run(&t);
  const float sixth = 1.0f / 6, third = 1.0f / 3;
  bool ok = vt_check(&t, y, (const float[]){sixth, third, 0.5f, sixth, third, 0.5f}, "softmax rows");
  ok &= vt_check(&t, yc, (const float[]){0.25f, 0.5f, 0.75f, 0.5f}, "softmax over channels");
  vt_end(&t);
  return ok;
}

static bool log_softmax_values(void) {
  vt t;
  vt_begin(&t);
  /* x = {0, ln 2, ln 3}: softmax {1/6, 2/6, 3/6}, log {-1.79175947, -1.09861229, -0.69314718};
   * shifted by 100 the result is the same (the max is subtracted first). */
  int x = vt_input(&t, kn_shape2(2, 3), (const float[]){0, 0.693147181f, 1.09861229f, 100, 100.693147f, 101.098612f});
  int y = vt_infer(&t, vt_node(&t, KN_OP_LOG_SOFTMAX, (int[]){x}, 1));
  vt_run(&t);
  bool ok = vt_check(&t, y,
                     (const float[]){-1.79175947f, -1.09861229f, -0.69314718f, -1.79175947f, -1.09861229f,
                                     -0.69314718f},
                     "log_softmax");
  vt_end(&t);
  return ok;
}

static bool nll_values(void) {
  vt t;
  vt_begin(&t);
  /* logp [[-1, -2], [-3, -4]], labels {1, 0}: loss = -(-2 + -3) / 2 = 2.5.
   * nll_loss_grad with dloss 2: -2/2 = -1 at each label: [[0, -1], [-1, 0]] */
  int logp = vt_input(&t, kn_shape2(2, 2), (const float[]){-1, -2, -3, -4});
  int labels = vt_input_i32(&t, kn_shape1(2), (const int32_t[]){1, 0});
  int dl = vt_input(&t, kn_shape1(1), (const float[]){2});
  int loss = vt_infer(&t, vt_node(&t, KN_OP_NLL_LOSS, (int[]){logp, labels}, 2));
  kn_node *n = vt_node(&t, KN_OP_NLL_LOSS_GRAD, (int[]){dl, labels}, 2);
  kn_node_set_shape(n, KN_ATTR_SHAPE, kn_shape2(2, 2));
  int g = vt_infer(&t, n);
  vt_run(&t);
  bool ok = vt_check(&t, loss, (const float[]){2.5f}, "nll_loss");
  ok &= vt_check(&t, g, (const float[]){0, -1, -1, 0}, "nll_loss_grad");
  vt_end(&t);
  return ok;
}

#define V(op, what, fn) {KN_OP_##op, what, NULL, 0, fn}
const op_row kn_value_rows[] = {
    V(CONV2D, "1x1x3x3: 2x2+bias, 3x3 pad 1 strides 1/2, dilation, groups", conv_values),
    V(BATCHNORM2D, "training and eval", batchnorm_values),
    V(RELU, "relu and sigmoid", activation_values),
    V(SIGMOID, "relu and sigmoid", activation_values),
    V(LEAKY_RELU, "slopes 0.25 and default", more_activation_values),
    V(GELU, "x in {-1, 0, 1, 2}", more_activation_values),
    V(GELU_TANH, "x in {-1, 0, 1, 2}", more_activation_values),
    V(SILU, "x in {-1, 0, 1, 2}", more_activation_values),
    V(HARDSWISH, "both kinks and beyond", more_activation_values),
    V(HARDSIGMOID, "both kinks and beyond", more_activation_values),
    V(MAXPOOL2D, "k2 s2, k3 s2 p1, -inf padding", maxpool_values),
    V(AVGPOOL2D, "k3 p1 count_include_pad, k2", avgpool_values),
    V(GLOBAL_AVGPOOL, "per channel", gavg_values),
    V(GLOBAL_MAXPOOL, "per channel", gmax_values),
    V(CHANNEL_MEAN, "per pixel", cmean_values),
    V(CHANNEL_MAX, "per pixel", cmax_values),
    V(CONCAT, "N = 2", concat_values),
    V(ADD, "broadcast both ways", add_values),
    V(MUL, "broadcast both ways", mul_values),
    V(LINEAR, "[2,2] and [2,2,1,1]", linear_values),
    V(FLATTEN, "[2,2,1,2]", flatten_values),
    V(UPSAMPLE, "2x2 nearest and bilinear", upsample_values),
    V(ALLREDUCE_MEAN, "one process: identity", allreduce_values),
    V(LOG_SOFTMAX, "[2,3], shifted", log_softmax_values),
    V(SOFTMAX, "[2,3] shifted, over channels of [1,2,1,2]", softmax_values),
    V(NLL_LOSS, "[2,2]", nll_values),
    V(NLL_LOSS_GRAD, "dloss 2", nll_values),
};
const int kn_n_value_rows = (int)(sizeof kn_value_rows / sizeof kn_value_rows[0]);

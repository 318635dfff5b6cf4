/* activations.c — reference formulas of the unary elementwise ops listed in eltwise.def (relu,
 * sigmoid, leaky_relu, gelu, gelu_tanh, silu, hardswish, hardsigmoid) and of their gradients,
 * written here a second time, in double and from the textbook (PyTorch's documented) definitions,
 * so that the interpreter stays an independent oracle for the backends that read eltwise.def.
 * kn_ref_<op>(x, a) is the op, kn_ref_<op>_grad(dy, s, a) its gradient from the saved value s
 * (the output y for relu and sigmoid, the input x for the others); a is the node's float
 * attribute (leaky_relu's negative_slope). kn_k_unary / kn_k_unary_grad apply them per element. */
#include <math.h>

#include "kernels.h"

/* Every formula takes the op parameter a, though most ignore it (one function-pointer type). */
#pragma GCC diagnostic ignored "-Wunused-parameter"

static const double kn_pi = 3.14159265358979323846;

double kn_ref_relu(double x, double a) { return x > 0 || isnan(x) ? x : 0; }
double kn_ref_relu_grad(double dy, double y, double a) { return y > 0 ? dy : 0; }

double kn_ref_sigmoid(double x, double a) { return 1.0 / (1.0 + exp(-x)); }
double kn_ref_sigmoid_grad(double dy, double y, double a) { return dy * y * (1.0 - y); }

/* PyTorch LeakyReLU: x for x > 0, negative_slope * x otherwise */
double kn_ref_leaky_relu(double x, double a) { return x > 0 ? x : a * x; }
double kn_ref_leaky_relu_grad(double dy, double x, double a) { return x > 0 ? dy : a * dy; }

/* GELU(x) = x * Phi(x), Phi the standard normal CDF; Phi'(x) = exp(-x^2/2) / sqrt(2 pi) */
static double phi_cdf(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }
double kn_ref_gelu(double x, double a) { return x * phi_cdf(x); }
double kn_ref_gelu_grad(double dy, double x, double a) {
  return dy * (phi_cdf(x) + x * exp(-0.5 * x * x) / sqrt(2.0 * kn_pi));
}

/* GELU(approximate='tanh'): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
double kn_ref_gelu_tanh(double x, double a) {
  return 0.5 * x * (1.0 + tanh(sqrt(2.0 / kn_pi) * (x + 0.044715 * x * x * x)));
}
double kn_ref_gelu_tanh_grad(double dy, double x, double a) {
  double k = sqrt(2.0 / kn_pi), u = k * (x + 0.044715 * x * x * x), t = tanh(u);
  double du = k * (1.0 + 3 * 0.044715 * x * x);
  return dy * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du);
}

/* SiLU (swish): x * sigmoid(x) */
double kn_ref_silu(double x, double a) { return x / (1.0 + exp(-x)); }
double kn_ref_silu_grad(double dy, double x, double a) {
  double sg = 1.0 / (1.0 + exp(-x));
  return dy * (sg + x * sg * (1.0 - sg));
}

/* Hardswish: x * relu6(x + 3) / 6; PyTorch's gradient: 0 below -3, 1 above 3, x/3 + 1/2 between */
static double relu6(double v) { return v < 0 ? 0 : v > 6 ? 6 : v; }
double kn_ref_hardswish(double x, double a) { return x * relu6(x + 3.0) / 6.0; }
double kn_ref_hardswish_grad(double dy, double x, double a) {
  if (x < -3.0) return 0;
  if (x > 3.0) return dy;
  return dy * (x / 3.0 + 0.5);
}

/* Hardsigmoid: relu6(x + 3) / 6; gradient 1/6 strictly inside (-3, 3) */
double kn_ref_hardsigmoid(double x, double a) { return relu6(x + 3.0) / 6.0; }
double kn_ref_hardsigmoid_grad(double dy, double x, double a) { return x > -3.0 && x < 3.0 ? dy / 6.0 : 0; }

void kn_k_unary(const kn_kargs *a, double (*f)(double x, double p)) {
  int64_t n = kn_shape_numel(kn_k_ishape(a, 0));
  const float *x = kn_k_in(a, 0);
  float *y = kn_k_out(a, 0);
  double p = kn_ew_param(a->n);
  for (int64_t i = 0; i < n; i++) y[i] = (float)f(x[i], p);
}

void kn_k_unary_grad(const kn_kargs *a, double (*f)(double dy, double s, double p)) {
  int64_t n = kn_shape_numel(kn_k_ishape(a, 0));
  const float *dy = kn_k_in(a, 0), *s = kn_k_in(a, 1);
  float *dx = kn_k_out(a, 0);
  double p = kn_ew_param(a->n);
  for (int64_t i = 0; i < n; i++) dx[i] = (float)f(dy[i], s[i], p);
}

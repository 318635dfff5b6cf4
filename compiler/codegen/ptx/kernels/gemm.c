/* gemm.c — GPU matrix product for linear layers and their gradients.
 * C[m, n] = sum_k A[m*asm + k*ask] * B[k*bsk + n*bsn] (+ bias[n]); strides make transposes free.
 * i = {M, N, K, asm, ask, bsk, bsn, has_bias}; p = {A, B, bias (NULL unless has_bias), C} */
#include "kn_gpu.h"

void kn_gk_gemm(const long *i, const float *f, void *const *p) {
  long M = i[0], N = i[1], K = i[2], asm_ = i[3], ask = i[4], bsk = i[5], bsn = i[6];
  const float *A = p[0], *B = p[1], *bias = p[2];
  float *C = p[3];
  kn_for(e, M * N) {
    long m = e / N, n = e % N;
    float acc = i[7] ? bias[n] : 0.f;
    for (long k = 0; k < K; k++) acc += A[m * asm_ + k * ask] * B[k * bsk + n * bsn];
    C[e] = acc;
  }
}

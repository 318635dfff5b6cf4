/* dist_compare.c — compares two safetensors files tensor by tensor for the data-parallel tests
 * (test_dist.sh): every F32 tensor of A must exist in B with the same shape and
 * max |a - b| <= tol * max(1, max |a|). Prints the worst tensor; exit 0 when all fit, 1 otherwise.
 *
 *   dist_compare A.safetensors B.safetensors TOL
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kn_safetensors.h"

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: dist_compare A.safetensors B.safetensors TOL\n");
    return 2;
  }
  double tol = atof(argv[3]);
  kn_st_file a, b;
  kn_error err = {{0}};
  if (!kn_st_read(&a, argv[1], &err) || !kn_st_read(&b, argv[2], &err)) {
    fprintf(stderr, "error: %s\n", err.msg);
    return 1;
  }
  int bad = 0, n = 0;
  double worst = 0;
  const char *worst_name = "-";
  for (int i = 0; i < a.n; i++) {
    const kn_st_tensor *ta = &a.tensors[i];
    if (ta->dtype != KN_ST_F32) continue;
    const kn_st_tensor *tb = kn_st_find(&b, ta->name);
    if (!tb || tb->numel != ta->numel) {
      printf("tensor %s: missing or of another size in %s\n", ta->name, argv[2]);
      bad++;
      continue;
    }
    float *x = malloc((size_t)ta->numel * sizeof *x), *y = malloc((size_t)ta->numel * sizeof *y);
    if (!x || !y) return 1;
    memcpy(x, ta->data, (size_t)ta->numel * sizeof *x);
    memcpy(y, tb->data, (size_t)ta->numel * sizeof *y);
    double scale = 1, diff = 0;
    for (int64_t k = 0; k < ta->numel; k++) scale = fmax(scale, fabs(x[k]));
    for (int64_t k = 0; k < ta->numel; k++) diff = fmax(diff, fabs((double)x[k] - (double)y[k]));
    if (!(diff <= tol * scale)) bad++;
    if (!(diff / scale <= worst)) worst = diff / scale, worst_name = ta->name;
    n++;
    free(x);
    free(y);
  }
  printf("%d tensors compared, worst %s: relative error %.3g (tolerance %.3g), %d over\n", n, worst_name, worst, tol, bad);
  kn_st_free(&a);
  kn_st_free(&b);
  return bad || n == 0 ? 1 : 0;
}

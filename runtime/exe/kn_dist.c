/* kn_dist.c — data-parallel state, gradient buckets and collectives (see kn_dist.h). */
#define _POSIX_C_SOURCE 200809L
#include "kn_dist.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kn_mpi.h"

enum { B_IDLE, B_FILLING, B_IN_FLIGHT, B_DONE };

typedef struct dist_bucket {
  float *buf;
  int64_t n, filled;
  kn_mpi_request req;
  int state;
} dist_bucket;

static struct {
  bool active;
  int rank, size;
  kn_mpi m;
  double timeout_s;
  dist_bucket *b;
  int nb;
  double wait_s, comm_s, comm_t0; /* comm_t0: first bucket of this step started, 0 when none */
  int in_flight;
  int kill_rank, kill_sig;
  int64_t kill_step;
} D = {.size = 1, .kill_rank = -1};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int kn_dist_rank(void) { return D.rank; }
int kn_dist_size(void) { return D.size; }
bool kn_dist_is_root(void) { return D.rank == 0; }

/* mpirun sends SIGTERM to every rank when one of them dies or exits with an error. */
static void on_sigterm(int sig) {
  (void)sig;
  char msg[256];
  int len = snprintf(msg, sizeof msg,
                     "kiln: rank %d: stopped by mpirun because another rank failed (see mpirun's message); "
                     "checkpoints are written by rename, the last one is intact\n",
                     D.rank);
  if (len > 0 && write(2, msg, (size_t)len) < 0) _exit(143);
  _exit(143);
}

bool kn_dist_init(kn_error *err) {
  const char *ws = getenv("OMPI_COMM_WORLD_SIZE");
  bool launched = ws ? atoi(ws) > 1 : getenv("PMIX_RANK") != NULL;
  if (!launched || D.active) return true;
  char msg[400];
  if (!kn_mpi_load(&D.m, msg, sizeof msg)) return kn_error_set(err, "started by mpirun, but %s", msg);
  if (D.m.Init(NULL, NULL) != 0) return kn_error_set(err, "MPI_Init failed");
  D.m.Comm_set_errhandler(D.m.comm_world, D.m.errors_are_fatal);
  D.m.Comm_rank(D.m.comm_world, &D.rank);
  D.m.Comm_size(D.m.comm_world, &D.size);
  D.active = D.size > 1;
  const char *t = getenv("KILN_DIST_TIMEOUT");
  D.timeout_s = t && atof(t) > 0 ? atof(t) : 600;
  const char *k = getenv("KILN_FAULT_KILL");
  long long ks;
  char mode[8] = "";
  if (k && sscanf(k, "%d:%lld:%7s", &D.kill_rank, &ks, mode) >= 2) D.kill_step = ks;
  else D.kill_rank = -1;
  D.kill_sig = strcmp(mode, "stop") ? SIGKILL : SIGSTOP;
  signal(SIGTERM, on_sigterm);
  if (D.rank > 0 && !freopen("/dev/null", "w", stdout)) return kn_error_set(err, "cannot silence stdout of rank %d", D.rank);
  return true;
}

void kn_dist_finalize(void) {
  if (!D.m.lib) return;
  for (int i = 0; i < D.nb; i++) free(D.b[i].buf);
  free(D.b);
  D.b = NULL;
  D.nb = 0;
  fflush(stdout);
  D.m.Finalize();
  D.active = false;
}

void kn_dist_abort(int code) {
  if (!D.active) return;
  fflush(stdout);
  fflush(stderr);
  D.m.Abort(D.m.comm_world, code);
  _exit(code);
}

/* Polls req until it completes; past the watchdog's limit, aborts the whole job. */
static void wait_req(kn_mpi_request *req, const char *what) {
  double t0 = now_s();
  int flag = 0;
  for (long spins = 0;; spins++) {
    D.m.Test(req, &flag, NULL);
    if (flag) return;
    if (spins > 2000) nanosleep(&(struct timespec){0, 50000}, NULL);
    if (spins % 1000 == 0 && now_s() - t0 > D.timeout_s) {
      fprintf(stderr,
              "kiln: rank %d: no answer from the other ranks for %.0f s while %s: a rank hangs or the network is "
              "down; aborting the job (KILN_DIST_TIMEOUT sets the limit)\n",
              D.rank, D.timeout_s, what);
      D.m.Abort(D.m.comm_world, 1);
      _exit(1);
    }
  }
}

static int count_of(int64_t n) {
  if (n > 0x7fffffff) {
    fprintf(stderr, "kiln: internal error: a collective of %lld elements exceeds MPI's int count\n", (long long)n);
    abort();
  }
  return (int)n;
}

void kn_dist_sum_f64(double *x, int n) {
  if (!D.active) return;
  kn_mpi_request r;
  D.m.Iallreduce(KN_MPI_IN_PLACE, x, n, D.m.t_double, D.m.op_sum, D.m.comm_world, &r);
  wait_req(&r, "summing statistics");
}

void kn_dist_sum_i64(int64_t *x, int n) {
  if (!D.active) return;
  kn_mpi_request r;
  D.m.Iallreduce(KN_MPI_IN_PLACE, x, n, D.m.t_int64, D.m.op_sum, D.m.comm_world, &r);
  wait_req(&r, "summing counts");
}

void kn_dist_bcast(void *buf, size_t bytes) {
  if (!D.active) return;
  for (size_t done = 0; done < bytes;) { /* in pieces below MPI's int count */
    size_t part = bytes - done < ((size_t)1 << 30) ? bytes - done : (size_t)1 << 30;
    kn_mpi_request r;
    D.m.Ibcast((char *)buf + done, (int)part, D.m.t_byte, 0, D.m.comm_world, &r);
    wait_req(&r, "receiving rank 0's weights");
    done += part;
  }
}

bool kn_dist_same_everywhere(const void *desc, size_t bytes, const char *what, kn_error *err) {
  if (!D.active) return true;
  char *all = malloc(bytes * (size_t)D.size);
  if (!all) return kn_error_set(err, "out of memory");
  kn_mpi_request r;
  D.m.Iallgather(desc, count_of((int64_t)bytes), D.m.t_byte, all, count_of((int64_t)bytes), D.m.t_byte, D.m.comm_world, &r);
  wait_req(&r, "comparing the ranks' executables");
  int bad = -1;
  for (int i = 1; i < D.size && bad < 0; i++)
    if (memcmp(all, all + (size_t)i * bytes, bytes)) bad = i;
  free(all);
  if (bad < 0) return true;
  return kn_error_set(err, "rank %d's %s differs from rank 0's: every rank must run the same executable with the same "
                      "options", bad, what);
}

/* ---- gradient buckets ---- */

static dist_bucket *bucket_at(int64_t b, int64_t bucket_n) {
  if (b >= D.nb) {
    int nb = (int)b + 1;
    dist_bucket *p = realloc(D.b, (size_t)nb * sizeof *p);
    if (!p) abort();
    memset(p + D.nb, 0, (size_t)(nb - D.nb) * sizeof *p);
    D.b = p;
    D.nb = nb;
  }
  dist_bucket *k = &D.b[b];
  if (!k->buf) {
    k->buf = malloc((size_t)bucket_n * sizeof(float));
    if (!k->buf) {
      fprintf(stderr, "kiln: out of memory for a gradient bucket of %lld floats\n", (long long)bucket_n);
      D.m.Abort(D.m.comm_world, 1);
    }
    k->n = bucket_n;
  }
  return k;
}

/* Lets MPI move the buckets in flight along (Open MPI progresses non-blocking collectives only
 * inside MPI calls; each gradient that completes is such a call). */
static void progress(void) {
  for (int i = 0; i < D.nb && D.in_flight; i++) {
    dist_bucket *k = &D.b[i];
    if (k->state != B_IN_FLIGHT) continue;
    int flag = 0;
    D.m.Test(&k->req, &flag, NULL);
    if (flag) {
      k->state = B_DONE;
      if (--D.in_flight == 0) D.comm_s += now_s() - D.comm_t0;
    }
  }
}

void kn_dist_grad_ready(const void *src, int64_t n, int64_t bucket, int64_t offset, int64_t bucket_n) {
  if (!D.active) return;
  dist_bucket *k = bucket_at(bucket, bucket_n);
  if (k->state == B_DONE || k->state == B_IDLE) k->state = B_FILLING, k->filled = 0;
  memcpy(k->buf + offset, src, (size_t)n * sizeof(float));
  k->filled += n;
  if (k->filled == k->n) {
    if (D.in_flight++ == 0) D.comm_t0 = now_s();
    D.m.Iallreduce(KN_MPI_IN_PLACE, k->buf, count_of(k->n), D.m.t_float, D.m.op_sum, D.m.comm_world, &k->req);
    k->state = B_IN_FLIGHT;
  }
  progress();
}

void kn_dist_grad_wait(void *dst, const void *src, int64_t n, int64_t bucket, int64_t offset) {
  if (!D.active) {
    if (dst != src) memcpy(dst, src, (size_t)n * sizeof(float));
    return;
  }
  dist_bucket *k = bucket < D.nb ? &D.b[bucket] : NULL;
  if (!k || k->state == B_IDLE || k->state == B_FILLING) {
    fprintf(stderr, "kiln: internal error: gradient bucket %lld waited for before it was complete\n", (long long)bucket);
    D.m.Abort(D.m.comm_world, 3);
  }
  if (k->state == B_IN_FLIGHT) {
    double t0 = now_s();
    wait_req(&k->req, "averaging gradients");
    k->state = B_DONE;
    if (--D.in_flight == 0) D.comm_s += now_s() - D.comm_t0;
    D.wait_s += now_s() - t0;
  }
  float *d = dst;
  const float *s = k->buf + offset;
  float inv = 1.0f / (float)D.size;
  for (int64_t i = 0; i < n; i++) d[i] = s[i] * inv;
}

void kn_dist_sync_bn(void *a, void *b, int64_t C, int64_t stats) {
  if (!D.active) return;
  float *fa = a, *fb = b;
  double *t = malloc((size_t)C * 2 * sizeof *t);
  if (!t) {
    fprintf(stderr, "kiln: out of memory in synchronised BatchNorm\n");
    kn_dist_abort(1);
  }
  for (int64_t c = 0; c < C; c++) {
    t[c] = fa[c];
    t[C + c] = stats ? (double)fb[c] + (double)fa[c] * fa[c] : fb[c];
  }
  kn_mpi_request r;
  D.m.Iallreduce(KN_MPI_IN_PLACE, t, count_of(2 * C), D.m.t_double, D.m.op_sum, D.m.comm_world, &r);
  wait_req(&r, "synchronising BatchNorm");
  double inv = 1.0 / D.size;
  for (int64_t c = 0; c < C; c++) {
    double m = t[c] * inv, q = t[C + c] * inv;
    fa[c] = (float)m;
    fb[c] = stats ? (float)(q - m * m > 0 ? q - m * m : 0) : (float)q;
  }
  free(t);
}

void kn_dist_bn_running_update(void *rmean, void *rvar, const void *bmean, const void *bvar, int64_t C,
                               double momentum, int64_t count) {
  float *rm = rmean, *rv = rvar;
  const float *bm = bmean, *bv = bvar;
  int64_t n = count * D.size;
  double unbias = n > 1 ? (double)n / (double)(n - 1) : 1.0;
  for (int64_t c = 0; c < C; c++) {
    rm[c] = (float)((1 - momentum) * rm[c] + momentum * bm[c]);
    rv[c] = (float)((1 - momentum) * rv[c] + momentum * bv[c] * unbias);
  }
}

void kn_dist_take_times(double *wait_s, double *comm_s) {
  *wait_s = D.wait_s;
  *comm_s = D.comm_s;
  D.wait_s = D.comm_s = 0;
}

void kn_dist_fault_point(int64_t step) {
  if (D.kill_rank == D.rank && D.active && step == D.kill_step) raise(D.kill_sig);
}

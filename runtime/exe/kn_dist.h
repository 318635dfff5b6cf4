/* kn_dist.h — data-parallel training across processes (docs/distributed.md): rank and size, the
 * gradient buckets the generated train_step fills and waits for, and the few collectives the
 * training loop needs. MPI is Open MPI, loaded by dlopen (kn_mpi.h) only when the process was
 * started by mpirun (OMPI_COMM_WORLD_SIZE > 1 or a PMIx launch); otherwise every function here is
 * the one-process identity and no MPI library is touched.
 *
 *   kn_error err;
 *   if (!kn_dist_init(&err)) ...         // once, before the session; size 1 without mpirun
 *   if (kn_dist_is_root()) write checkpoints and logs;
 *   kn_dist_sum_f64(sums, 3);            // every rank gets the sums over ranks
 *   kn_dist_finalize();
 *
 * Faults: MPI errors are fatal (Open MPI's default, restated at init); mpirun ends the job when a
 * rank dies, and each rank says so on SIGTERM; every wait polls with a watchdog (KILN_DIST_TIMEOUT
 * seconds, default 600) that aborts the job with a message instead of hanging.
 */
#ifndef KN_DIST_H
#define KN_DIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kn_error.h"

/* Starts MPI when launched by mpirun with more than one process; stdout of ranks > 0 goes to
 * /dev/null (only rank 0 logs). False with a message when MPI was needed and could not start. */
bool kn_dist_init(kn_error *err);
void kn_dist_finalize(void);
/* After an error on this rank (printed already): ends every rank of the job with `code`, since
 * the others would wait for it in their next collective. Returns only with one process. */
void kn_dist_abort(int code);
int kn_dist_rank(void);
int kn_dist_size(void); /* 1 without mpirun */
bool kn_dist_is_root(void);

/* Collectives over all ranks (no-ops with one process); each waits under the watchdog. */
void kn_dist_sum_f64(double *x, int n);
void kn_dist_sum_i64(int64_t *x, int n);
void kn_dist_bcast(void *buf, size_t bytes); /* rank 0's bytes to every rank */
/* Every rank passes its descriptor (`what` names it in the message); false with a message naming
 * the first rank whose bytes differ from rank 0's. Every rank gets the same answer. */
bool kn_dist_same_everywhere(const void *desc, size_t bytes, const char *what, kn_error *err);

/* Called by generated code (compiler/codegen/cpu/cpu_dist.c), one call per gradient:
 *   ready: copies n floats of src to [offset, offset + n) of bucket b (bucket_n floats in all) and
 *          starts the bucket's MPI_Iallreduce once it is full;
 *   wait:  waits for bucket b (once) and writes its slice, divided by the number of ranks, to dst.
 * One process: ready does nothing, wait copies src to dst unless they are the same buffer. */
void kn_dist_grad_ready(const void *src, int64_t n, int64_t bucket, int64_t offset, int64_t bucket_n);
void kn_dist_grad_wait(void *dst, const void *src, int64_t n, int64_t bucket, int64_t offset);

/* Synchronised BatchNorm (`kiln compile --sync-bn`), called by generated code between the two
 * phases of a training-mode BatchNorm: stats = 1: a, b are the batch mean and biased variance of
 * C channels, replaced by those of the union of the ranks' batches (mean of means, mean of
 * E[x^2] minus the squared mean, in double); stats = 0: a, b are dgamma and dbeta, replaced by
 * their means over the ranks. Nothing with one process. */
void kn_dist_sync_bn(void *a, void *b, int64_t C, int64_t stats);
/* Its running-statistics update, kn_k_bn_running_update's formula with the variance unbiased by
 * the count of all ranks (count x ranks). */
void kn_dist_bn_running_update(void *rmean, void *rvar, const void *bmean, const void *bvar, int64_t C,
                               double momentum, int64_t count);

/* Seconds spent in kn_dist_grad_wait (blocked) and since the first bucket started until the
 * last finished, accumulated since the last call (bench/ and --verbose statistics). */
void kn_dist_take_times(double *wait_s, double *comm_s);

/* Test hook (tests/dist): KILN_FAULT_KILL=RANK:STEP makes that rank SIGKILL itself before that
 * optimizer step (RANK:STEP:stop: SIGSTOP, a hung rank for the watchdog). */
void kn_dist_fault_point(int64_t step);

#endif

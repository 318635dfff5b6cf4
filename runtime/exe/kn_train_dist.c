/* kn_train_dist.c — the train command's data-parallel parts (see kn_train_dist.h). */
#include "kn_train_dist.h"

#include <stdio.h>
#include <string.h>

#include "kn_dist.h"

/* FNV-1a over bytes and strings. */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}
static uint64_t fnv_str(uint64_t h, const char *s) { return fnv(h, s ? s : "", s ? strlen(s) + 1 : 1); }

static uint64_t hash_tensors(uint64_t h, const kn_tensor_desc *t, int n) {
  for (int i = 0; i < n; i++) {
    h = fnv_str(h, t[i].name);
    h = fnv(h, &t[i].role, sizeof t[i].role);
    h = fnv(h, &t[i].dtype, sizeof t[i].dtype);
    h = fnv(h, &t[i].rank, sizeof t[i].rank);
    h = fnv(h, t[i].dims, sizeof t[i].dims);
    h = fnv(h, &t[i].offset, sizeof t[i].offset);
  }
  return h;
}

static uint64_t model_hash(void) {
  const kn_model_desc *m = &kn_model;
  uint64_t h = 0xcbf29ce484222325ull;
  h = fnv(h, &m->abi_version, sizeof m->abi_version);
  h = fnv(h, &m->batch, sizeof m->batch);
  h = fnv_str(h, m->name);
  h = fnv_str(h, m->cpu);
  h = fnv_str(h, m->features);
  h = fnv(h, &m->persist_size, sizeof m->persist_size);
  h = hash_tensors(h, m->persist, m->n_persist);
  for (int e = 0; e < m->n_entries; e++) {
    h = fnv_str(h, m->entries[e].name);
    h = fnv(h, &m->entries[e].work_size, sizeof m->entries[e].work_size);
    h = hash_tensors(h, m->entries[e].tensors, m->entries[e].n_tensors);
  }
  return h;
}

bool kn_train_dist_start(kn_session *s, const kn_ckpt_meta *m, kn_error *err) {
  if (kn_dist_size() <= 1) return true;
  if (&kn_model_device)
    return kn_error_set(err, "data-parallel training of a --target=cuda build is not supported yet (no NCCL "
                             "lowering); run one process, or compile for the CPU");
  uint64_t h = model_hash();
  if (!kn_dist_same_everywhere(&h, sizeof h, "executable (model descriptor hash)", err)) return false;
  struct {
    int64_t batch, seed, epochs, epoch, step, schedule, warmup;
    double lr;
  } o = {m->batch, (int64_t)m->seed, m->epochs, m->epoch, m->step, m->schedule, m->warmup_epochs, m->lr};
  char what[160];
  snprintf(what, sizeof what, "run options (here: batch %d, seed %llu, epochs %d, lr %g, from epoch %d)", m->batch,
           (unsigned long long)m->seed, m->epochs, m->lr, m->epoch);
  if (!kn_dist_same_everywhere(&o, sizeof o, what, err)) return false;
  kn_dist_bcast(s->persist, (size_t)kn_model.persist_size);
  return true;
}

bool kn_train_dist_shard(kn_loader *train, kn_loader *test, kn_error *err) {
  int r = kn_dist_rank(), n = kn_dist_size();
  if (n <= 1) return true;
  if (!kn_loader_shard(train, r, n, true) || !kn_loader_shard(test, r, n, false))
    return kn_error_set(err, "out of memory for the data shards");
  int64_t ready = 1; /* every rank set up: the epochs start together */
  kn_dist_sum_i64(&ready, 1);
  return true;
}

void kn_train_dist_epoch_sums(double *loss_sum, int64_t *seen, int64_t *correct) {
  if (kn_dist_size() <= 1) return;
  int64_t c[2] = {*seen, *correct};
  kn_dist_sum_f64(loss_sum, 1);
  kn_dist_sum_i64(c, 2);
  *seen = c[0], *correct = c[1];
}

void kn_train_dist_report(double epoch_s) {
  double wait_s, comm_s;
  kn_dist_take_times(&wait_s, &comm_s);
  if (kn_dist_size() <= 1) return;
  double t[2] = {wait_s, comm_s};
  kn_dist_sum_f64(t, 2);
  int n = kn_dist_size();
  printf("ranks %d: epoch %.2f s; gradient all-reduce in flight %.3f s, of which the update waited %.3f s "
         "(%.0f %% overlapped with the backward pass; means over ranks)\n",
         n, epoch_s, t[1] / n, t[0] / n, t[1] > 0 ? 100.0 * (1.0 - t[0] / t[1]) : 0.0);
}

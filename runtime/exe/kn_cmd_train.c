/* kn_cmd_train.c — the `train` command: epochs of shuffled, augmented batches through the
 * generated train_step (lr from the schedule, Adam's step count fed as inputs), evaluation with
 * the forward entry every eval_every epochs, best-model tracking, checkpoints after every epoch,
 * metrics.csv + metrics.svg, and exact --resume.
 *
 * Batches smaller than the compiled N (--batch B < N, or the last batch of an epoch) fill the
 * remaining slots by repeating the batch's own images in order (slot i holds image i mod n), so
 * the step sees only real data; the loss and BatchNorm statistics are then over N slots in which
 * some images count twice. Reported loss and accuracy count each real image once.
 *
 * Under mpirun (kn_train_dist.h, docs/distributed.md) each rank trains on its shard with the
 * generated step averaging the gradients; only rank 0 writes files and logs. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kn_checkpoint.h"
#include "kn_commands.h"
#include "kn_dist.h"
#include "kn_init_from.h"
#include "kn_log.h"
#include "kn_metrics.h"
#include "kn_train_dist.h"
#include "kn_traincfg.h"

typedef struct train_opts {
  const char *data, *out, *resume, *weights, *schedule, *init_from, *map;
  int epochs, batch, seed, threads, eval_every, limit, test_limit, stop_after, warmup, diverge_steps;
  double lr, diverge_factor, val_split;
  bool quiet, force;
} train_opts;

/* The divergence guard on the loss: a batch loss above `factor` times the running average for
 * `steps` batches in a row stops training. The average starts at ln(classes), the loss of a
 * uniform guess, so a run that explodes from its first step (a resumed run at a huge lr) is
 * caught too; batches over the threshold do not enter the average. */
typedef struct diverge_guard {
  double avg, factor;
  int steps, over;
} diverge_guard;

/* Updates the guard with one batch loss; false when the run diverged. */
static bool guard_ok(diverge_guard *g, double loss) {
  if (loss > g->factor * g->avg) return ++g->over < g->steps;
  g->over = 0;
  g->avg = 0.9 * g->avg + 0.1 * loss;
  return true;
}

static bool make_dirs(const char *path, kn_error *err) {
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1;; p++) {
    if (*p != '/' && *p) continue;
    char c = *p;
    *p = 0;
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) return kn_error_set(err, "cannot create directory '%s': %s", buf, strerror(errno));
    *p = c;
    if (!c) return true;
  }
}

static char *join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/%s", dir, name);
  return p;
}

/* --out before anything runs: not a regular file, and not a finished or running run unless
 * --resume continues it or --force overwrites it. Returns -1 to go on, 2 after an error. */
static int check_out_dir(const train_opts *o) {
  struct stat st;
  if (stat(o->out, &st) != 0) return -1; /* created later */
  if (!S_ISDIR(st.st_mode)) {
    fprintf(stderr, "train: --out '%s' exists and is not a directory\n", o->out);
    return 2;
  }
  static const char *const run_files[] = {"checkpoint.safetensors", "best.safetensors", "metrics.csv"};
  for (int i = 0; i < 3 && !o->resume && !o->force; i++) {
    char *p = join(o->out, run_files[i]);
    bool found = p && stat(p, &st) == 0;
    free(p);
    if (found) {
      fprintf(stderr,
              "train: '%s' holds a run already (%s); continue it with --resume %s/checkpoint.safetensors, "
              "overwrite it with --force, or choose another --out\n",
              o->out, run_files[i], o->out);
      return 2;
    }
  }
  return -1;
}

/* Creates and removes a file in dir: permission bits do not tell (root ignores them; a
 * read-only file system does not show in them). */
static bool probe_writable(const char *dir, kn_error *err) {
  char name[64];
  snprintf(name, sizeof name, ".kiln-write-test.%ld", (long)getpid());
  char *p = join(dir, name);
  FILE *f = p ? fopen(p, "wb") : NULL;
  int e = errno;
  if (f) fclose(f), unlink(p);
  free(p);
  return f ? true : kn_error_set(err, "cannot write to output directory '%s': %s", dir, strerror(e));
}

/* Slot i of the compiled batch holds image i mod n of the loaded batch (see the top). */
static void fill_batch(const kn_session *s, const kn_batch *b, float *x, int32_t *y) {
  size_t img = (size_t)s->in_c * (size_t)s->in_h * (size_t)s->in_w;
  for (int i = 0; i < s->batch; i++) {
    int from = i % b->n;
    memcpy(x + img * (size_t)i, b->x + img * (size_t)from, sizeof(float) * img);
    y[i] = b->y[from];
  }
}

/* GPU builds (kn_model_prefetch, kilnrt.h): the inputs of the next train_step, handed over while
 * the current step's kernels run. NULL prefetch for CPU builds and with KILN_NO_PREFETCH=1. */
typedef struct train_prefetch {
  const kn_model_prefetch_desc *pf;
  float *x;          /* the staged batch's images and labels, as kn_session_train_step's inputs */
  int32_t *y;
  int32_t *cur_y;    /* the labels of the step that is running, for scoring it */
  const void **data; /* per tensor of train_step */
} train_prefetch;

static void prefetch_free(train_prefetch *p) {
  free(p->x), free(p->y), free(p->cur_y), free(p->data);
  memset(p, 0, sizeof *p);
}

static bool prefetch_init(train_prefetch *p, kn_session *s, kn_error *err) {
  memset(p, 0, sizeof *p);
  if (!&kn_model_prefetch || kn_model_prefetch.version < 1 || !kn_model_prefetch.available()) return true;
  const kn_entry_desc *e = s->entry[KN_SESSION_TRAIN];
  p->x = malloc((size_t)kn_tensor_bytes(s->input[KN_SESSION_TRAIN]));
  p->y = malloc((size_t)kn_tensor_bytes(s->labels[KN_SESSION_TRAIN]));
  p->cur_y = malloc(sizeof(int32_t) * (size_t)s->batch);
  p->data = calloc((size_t)e->n_tensors + 1, sizeof *p->data);
  if (!p->x || !p->y || !p->cur_y || !p->data) {
    prefetch_free(p);
    return kn_error_set(err, "out of memory");
  }
  p->pf = &kn_model_prefetch;
  return true;
}

/* Hands batch b over as the inputs of the step with this lr and step count: what
 * kn_session_train_step would write into the work region, everything else as it is there. */
static void prefetch_stage(train_prefetch *p, kn_session *s, const kn_batch *b, double lr, int64_t step) {
  const kn_entry_desc *e = s->entry[KN_SESSION_TRAIN];
  /* the conversions of kn_session_train_step's set_scalar */
  float lr_f = (float)lr, step_f = (float)(double)step;
  int32_t lr_i = (int32_t)lr, step_i = (int32_t)(double)step;
  fill_batch(s, b, p->x, p->y);
  for (int i = 0; i < e->n_tensors; i++) {
    const kn_tensor_desc *t = &e->tensors[i];
    bool i32 = t->dtype == KN_TDT_I32;
    p->data[i] = t == s->input[KN_SESSION_TRAIN]    ? (const void *)p->x
                 : t == s->labels[KN_SESSION_TRAIN] ? (const void *)p->y
                 : t == s->lr                       ? (i32 ? (const void *)&lr_i : (const void *)&lr_f)
                 : t == s->step                     ? (i32 ? (const void *)&step_i : (const void *)&step_f)
                                                    : kn_tensor_data(t, s->persist, s->work);
  }
  p->pf->stage((int)(e - kn_model.entries), p->data); /* copies at once */
}

/* One epoch of training; returns false on error. With prefetching, batch k+1 is fetched from the
 * loader and staged after step k's launches are queued and before the wait for its results. */
static bool train_epoch(kn_session *s, kn_loader *ld, train_prefetch *pre, const kn_rt_train_config *c,
                        const kn_ckpt_meta *m, int epoch, int64_t *step, bool progress, diverge_guard *guard,
                        double *loss, double *acc) {
  float *x = kn_session_input(s, KN_SESSION_TRAIN);
  int32_t *y = kn_session_labels(s, KN_SESSION_TRAIN);
  int nb = kn_loader_batches(ld);
  double sum = 0;
  int64_t seen = 0, correct = 0;
  kn_progress pr;
  if (progress) kn_progress_init(&pr, stderr, "train", ld->n_order, KN_PROGRESS_AUTO); /* this rank's images */
  kn_loader_start_epoch(ld, epoch);
  const kn_batch *b = kn_loader_next(ld);
  if (b && pre->pf) prefetch_stage(pre, s, b, kn_sched_lr(c, m->lr, m->epochs, epoch + (double)b->number / nb), *step + 1);
  while (b) {
    int n = b->n, number = b->number;
    double lr = kn_sched_lr(c, m->lr, m->epochs, epoch + (double)number / nb), before = sum;
    kn_dist_fault_point(*step + 1);
    if (!pre->pf) {
      fill_batch(s, b, x, y);
      kn_session_train_step(s, lr, ++*step);
      kn_score_batch(kn_session_output(s, KN_SESSION_TRAIN), b->y, n, s->classes, &sum, &correct, NULL);
      b = kn_loader_next(ld);
    } else {
      memcpy(pre->cur_y, b->y, sizeof(int32_t) * (size_t)n); /* b is gone after the next kn_loader_next */
      ++*step;
      s->entry[KN_SESSION_TRAIN]->fn(s->persist, s->work); /* queues step k on the staged inputs */
      b = kn_loader_next(ld);
      if (b) prefetch_stage(pre, s, b, kn_sched_lr(c, m->lr, m->epochs, epoch + (double)b->number / nb), *step + 1);
      pre->pf->wait(); /* step k's results */
      kn_score_batch(kn_session_output(s, KN_SESSION_TRAIN), pre->cur_y, n, s->classes, &sum, &correct, NULL);
    }
    seen += n;
    double avg = guard->avg, batch_loss = (sum - before) / n;
    if (!isfinite(sum) || !guard_ok(guard, batch_loss)) {
      if (pre->pf) pre->pf->discard();
      if (progress) kn_progress_finish(&pr);
      if (!isfinite(sum))
        fprintf(stderr, "error: the loss became %g at epoch %d, batch %d (lr %g): training diverged; try a smaller --lr\n",
                sum, epoch + 1, number, lr);
      else
        fprintf(stderr,
                "error: the loss stayed above %g x its running average (%g) for %d batches, last %g at epoch %d, batch "
                "%d (lr %g): training diverged; try a smaller --lr (or a larger --diverge-factor)\n",
                guard->factor, avg, guard->steps, batch_loss, epoch + 1, number, lr);
      return false;
    }
    if (progress) kn_progress_update(&pr, seen, sum / (double)seen, (double)correct / (double)seen);
  }
  if (progress) kn_progress_finish(&pr);
  kn_train_dist_epoch_sums(&sum, &seen, &correct);
  *loss = sum / (double)(seen ? seen : 1);
  *acc = (double)correct / (double)(seen ? seen : 1);
  return true;
}

typedef struct train_run {
  kn_session s;
  kn_dataset train, test;
  kn_loader ltrain, ltest;
  bool have_ltrain, have_ltest;
  train_prefetch pre;
  kn_metrics metrics;
  kn_confusion cm;
  char *ckpt_path, *best_path, *csv_path, *svg_path;
  char (*names)[KN_DATASET_NAME_LEN];
} train_run;

static void run_free(train_run *r) {
  if (r->have_ltrain) kn_loader_free(&r->ltrain);
  if (r->have_ltest) kn_loader_free(&r->ltest);
  prefetch_free(&r->pre);
  kn_dataset_free(&r->train);
  kn_dataset_free(&r->test);
  kn_metrics_free(&r->metrics);
  kn_confusion_free(&r->cm);
  kn_session_free(&r->s);
  free(r->ckpt_path), free(r->best_path), free(r->csv_path), free(r->svg_path), free(r->names);
}

/* Sets up the session, its starting point (fresh or resumed) and the data. */
static bool run_setup(train_run *r, train_opts *o, kn_ckpt_meta *m, kn_error *err) {
  const kn_rt_train_config *c = kn_traincfg_get();
  if (!kn_session_init(&r->s, (uint64_t)o->seed, err)) return false;
  if (!r->s.entry[KN_SESSION_TRAIN] || !r->s.entry[KN_SESSION_FORWARD])
    return kn_error_set(err, "this executable lacks the train_step or forward entry point (compile with --entry=both)");
  r->names = calloc((size_t)r->s.classes, KN_DATASET_NAME_LEN);
  if (!r->names) return kn_error_set(err, "out of memory");
  *m = (kn_ckpt_meta){.epochs = c->epochs, .seed = (uint64_t)o->seed, .batch = c->batch < r->s.batch ? c->batch : r->s.batch,
                      .lr = c->lr, .schedule = c->sched, .warmup_epochs = c->warmup_epochs, .best_acc = -1};
  const char *init_from = o->init_from ? o->init_from : c->init_from[0] && !o->weights ? c->init_from : NULL;
  kn_init_report rep;
  if (o->resume) {
    if (!kn_ckpt_load(&r->s, o->resume, m, err)) return false;
  } else if (init_from) { /* a foreign checkpoint, where it fits (kn_init_from.h) */
    if (!kn_init_from(&r->s, init_from, o->map, o->quiet ? NULL : stdout, &rep, err)) return false;
  } else if (!kn_weights_load(&r->s, o->weights, NULL, true, err)) {
    return false;
  }
  int64_t bad;
  const char *t = kn_session_nonfinite(&r->s, &bad);
  if (t)
    return kn_error_set(err, "the starting weights are not usable: tensor '%s' has %lld non-finite values", t,
                        (long long)bad);
  /* Options given on the command line override the spec and the checkpoint. */
  if (o->epochs >= 0) m->epochs = o->epochs;
  if (o->batch > 0) m->batch = o->batch;
  if (!isnan(o->lr)) m->lr = o->lr;
  if (o->warmup >= 0) m->warmup_epochs = o->warmup;
  if (o->schedule) {
    int sc = kn_sched_parse(o->schedule);
    if (sc < 0) return kn_error_set(err, "unknown --schedule '%s' (use constant, step or cosine)", o->schedule);
    m->schedule = sc;
  }
  if (m->batch > r->s.batch)
    return kn_error_set(err, "--batch %d is larger than the compiled batch %d (recompile with `kiln compile --batch %d`)",
                        m->batch, r->s.batch, m->batch);
  if (!kn_train_dist_start(&r->s, m, err)) return false;
  if (!kn_data_open(&r->train, o->data, true, o->limit, &r->s, err) ||
      !kn_data_open(&r->test, o->data, false, o->test_limit, &r->s, err))
    return false;
  for (int i = 0; i < r->s.classes; i++)
    snprintf(r->names[i], KN_DATASET_NAME_LEN, "%s", i < r->train.num_classes ? r->train.class_names[i] : "?");
  if (!(r->have_ltrain = kn_loader_for(&r->ltrain, &r->train, &r->s, true, m->batch, m->seed, o->threads, err)) ||
      !(r->have_ltest = kn_loader_for(&r->ltest, &r->test, &r->s, false, r->s.batch, 0, o->threads, err)) ||
      !kn_train_dist_shard(&r->ltrain, &r->ltest, err))
    return false;
  if (m->warmup_epochs > m->epochs)
    return kn_error_set(err, "warm-up of %d epochs is longer than the %d epochs of the run (give --warmup 0 to %d)",
                        m->warmup_epochs, m->epochs, m->epochs);
  /* rank 0 writes the files (one rank's failure ends the job: kn_dist_abort) */
  if ((kn_dist_is_root() && (!make_dirs(o->out, err) || !probe_writable(o->out, err))) ||
      !kn_confusion_init(&r->cm, r->s.classes, err) || !prefetch_init(&r->pre, &r->s, err))
    return false;
  r->ckpt_path = join(o->out, "checkpoint.safetensors");
  r->best_path = join(o->out, "best.safetensors");
  r->csv_path = join(o->out, "metrics.csv");
  r->svg_path = join(o->out, "metrics.svg");
  kn_metrics_init(&r->metrics);
  if (!r->ckpt_path || !r->best_path || !r->csv_path || !r->svg_path) return kn_error_set(err, "out of memory");
  return !o->resume || !kn_dist_is_root() || kn_metrics_read_csv(&r->metrics, r->csv_path, err);
}

static bool run_epochs(train_run *r, train_opts *o, kn_ckpt_meta *m, kn_error *err) {
  const kn_rt_train_config *c = kn_traincfg_get();
  kn_rt_train_config sc = *c; /* the schedule as this run uses it */
  sc.sched = (kn_rt_sched)m->schedule;
  sc.warmup_epochs = m->warmup_epochs;
  int eval_every = o->eval_every > 0 ? o->eval_every : c->eval_every;
  bool progress = !o->quiet && kn_dist_is_root(); /* the progress display is rank 0's */
  char line[160];
  printf("training %s: %d train / %d test images (%s), input %dx%d, batch %d (compiled %d), epochs %d..%d, lr %g %s, "
         "%d threads\n",
         kn_model.name, r->train.n, r->test.n, o->data ? o->data : "synthetic", r->s.in_h, r->s.in_w, m->batch,
         r->s.batch, m->epoch + 1, m->epochs, m->lr, kn_sched_name((kn_rt_sched)m->schedule), kn_parallel_threads());
  int stop = o->stop_after > 0 ? m->epoch + o->stop_after : m->epochs;
  if (stop > m->epochs) stop = m->epochs;
  diverge_guard guard = {log(r->s.classes > 1 ? r->s.classes : 2), o->diverge_factor, o->diverge_steps, 0};
  for (int epoch = m->epoch; epoch < stop; epoch++) {
    double t0 = kn_log_now(), tl, ta, vl = NAN, va = NAN;
    int64_t step = m->step;
    if (!train_epoch(&r->s, &r->ltrain, &r->pre, &sc, m, epoch, &step, progress, &guard, &tl, &ta))
      return kn_error_set(err, "training stopped; the last good checkpoint is %s", r->ckpt_path);
    /* ReLU can turn NaN weights into a finite loss: the values themselves are checked too. */
    int64_t bad;
    const char *t = kn_session_nonfinite(&r->s, &bad);
    if (t)
      return kn_error_set(err, "tensor '%s' has %lld non-finite values after epoch %d: training diverged; try a smaller "
                               "--lr; the last good checkpoint is %s", t, (long long)bad, epoch + 1, r->ckpt_path);
    double dt = kn_log_now() - t0;
    m->step = step;
    m->epoch = epoch + 1;
    kn_log_line(stdout, kn_log_epoch(line, sizeof line, epoch + 1));
    kn_log_line(stdout, kn_log_train(line, sizeof line, tl, ta));
    if ((epoch + 1) % eval_every == 0 || epoch + 1 == m->epochs) {
      memset(r->cm.m, 0, sizeof(int64_t) * (size_t)r->cm.k * (size_t)r->cm.k);
      if (!kn_evaluate(&r->s, &r->ltest, &r->cm, &vl, progress, err)) return false;
      va = kn_confusion_accuracy(&r->cm);
      kn_log_line(stdout, kn_log_val(line, sizeof line, vl, va));
      if (va > m->best_acc) {
        m->best_acc = va;
        m->best_epoch = epoch + 1;
        if (kn_dist_is_root() &&
            !kn_ckpt_save(&r->s, r->best_path, m, (const char(*)[KN_DATASET_NAME_LEN])r->names, false, err))
          return false;
      }
    }
    double lr_now = kn_sched_lr(&sc, m->lr, m->epochs, epoch);
    kn_metrics_add(&r->metrics, (kn_metrics_row){.epoch = epoch + 1, .train_loss = tl, .train_acc = ta, .val_loss = vl,
                                                 .val_acc = va, .lr = lr_now, .images_per_s = r->train.n / dt,
                                                 .seconds = dt});
    kn_train_dist_report(dt);
    if (!kn_dist_is_root()) continue; /* rank 0 writes the files */
    if (!kn_metrics_write_csv(&r->metrics, r->csv_path, err) ||
        !kn_metrics_write_svg(&r->metrics, r->svg_path, kn_model.name, err) ||
        !kn_ckpt_save(&r->s, r->ckpt_path, m, (const char(*)[KN_DATASET_NAME_LEN])r->names, true, err))
      return false;
  }
  if (m->best_acc >= 0) kn_log_line(stdout, kn_log_best(line, sizeof line, m->best_acc));
  if (m->epoch < m->epochs)
    printf("stopped after epoch %d of %d; continue with --resume %s\n", m->epoch, m->epochs, r->ckpt_path);
  if (m->best_epoch > 0)
    printf("checkpoint %s, best weights %s (epoch %d), metrics %s\n", r->ckpt_path, r->best_path, m->best_epoch,
           r->csv_path);
  else /* stopped before the first evaluation: best.safetensors was never written */
    printf("checkpoint %s, metrics %s (no evaluation yet, so no best weights)\n", r->ckpt_path, r->csv_path);
  return true;
}

int kn_cmd_train(int argc, char **argv) {
  train_opts o = {.out = "kiln-run", .seed = 42, .lr = NAN, .diverge_factor = NAN, .val_split = NAN};
  int *unset[] = {&o.epochs,     &o.batch,      &o.threads, &o.eval_every,   &o.limit,
                  &o.test_limit, &o.stop_after, &o.warmup,  &o.diverge_steps};
  for (size_t i = 0; i < sizeof unset / sizeof unset[0]; i++) *unset[i] = KN_OPT_UNSET;
  const kn_opt opts[] = {
      {"data", KN_OPT_STR, &o.data, "DIR", "CIFAR-10 binary directory or image folder (DIR/<class>/*.png|jpg, or DIR/train/... + DIR/val/...); default: the built-in synthetic set"},
      {"val-split", KN_OPT_DOUBLE, &o.val_split, "F", "image folder without train/ and val/: the last F of each class is the test split (default 0.2)"},
      {"epochs", KN_OPT_INT, &o.epochs, "N", "epochs in all (default: the spec's)"},
      {"batch", KN_OPT_INT, &o.batch, "B", "images per step, at most the compiled batch (default: the spec's)"},
      {"lr", KN_OPT_DOUBLE, &o.lr, "LR", "base learning rate (default: the spec's)"},
      {"schedule", KN_OPT_STR, &o.schedule, "S", "constant, step or cosine (default: the spec's)"},
      {"warmup", KN_OPT_INT, &o.warmup, "N", "epochs of linear warm-up from lr/10"},
      {"seed", KN_OPT_INT, &o.seed, "S", "seed of the initialisation, shuffling and augmentation (default 42)"},
      {"threads", KN_OPT_INT, &o.threads, "N", "threads for the model and the data pipeline (default: all CPUs)"},
      {"eval-every", KN_OPT_INT, &o.eval_every, "N", "evaluate on the test set every N epochs (and after the last)"},
      {"out", KN_OPT_STR, &o.out, "DIR", "directory for checkpoint.safetensors, best.safetensors, metrics.csv/svg (default kiln-run)"},
      {"resume", KN_OPT_STR, &o.resume, "CKPT", "continue a run from its checkpoint (same seed and data order)"},
      {"weights", KN_OPT_STR, &o.weights, "FILE", "initial weights (safetensors, torchvision names)"},
      {"init-from", KN_OPT_STR, &o.init_from, "FILE", "start from the tensors of FILE that fit (name and shape); the rest keep the spec's init"},
      {"map", KN_OPT_STR, &o.map, "RULES", "--init-from name mapping: 'REGEX=REPLACEMENT' rules separated by ';'"},
      {"limit", KN_OPT_INT, &o.limit, "N", "train on the first N images only"},
      {"test-limit", KN_OPT_INT, &o.test_limit, "N", "evaluate on the first N test images only"},
      {"stop-after", KN_OPT_INT, &o.stop_after, "N", "stop after N epochs of this run (resume later)"},
      {"force", KN_OPT_FLAG, &o.force, NULL, "overwrite the run already in --out (without it, train refuses)"},
      {"diverge-factor", KN_OPT_DOUBLE, &o.diverge_factor, "F",
       "stop when the batch loss stays above F x its running average (default 10) ..."},
      {"diverge-steps", KN_OPT_INT, &o.diverge_steps, "K", "... for K batches in a row (default 20)"},
      {"quiet", KN_OPT_FLAG, &o.quiet, NULL, "no progress display"},
  };
  int rc = kn_opts_parse("train", "[options]", opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, 0, NULL);
  if (rc >= 0) return rc;
  /* unset: -1 keeps the spec's (or the checkpoint's) value, 0 the built-in default */
  const kn_int_range ranges[] = {
      {"epochs", &o.epochs, 1, 1000000, -1},     {"batch", &o.batch, 1, 1 << 20, 0},
      {"warmup", &o.warmup, 0, 1000000, -1},     {"seed", &o.seed, 0, INT_MAX, 42},
      {"threads", &o.threads, 1, 1024, 0},       {"eval-every", &o.eval_every, 1, 1000000, 0},
      {"limit", &o.limit, 1, INT_MAX, 0},        {"test-limit", &o.test_limit, 1, INT_MAX, 0},
      {"stop-after", &o.stop_after, 1, 1000000, 0}, {"diverge-steps", &o.diverge_steps, 1, 1000000, 20},
  };
  if ((rc = kn_opts_check_ints("train", ranges, (int)(sizeof ranges / sizeof ranges[0]))) >= 0 ||
      (rc = kn_opts_check_double("train", "lr", o.lr, 0, 1000)) >= 0 ||
      (rc = kn_opts_check_double("train", "diverge-factor", o.diverge_factor, 1, 1e30)) >= 0 ||
      (rc = kn_opts_check_double("train", "val-split", o.val_split, 0, 0.9)) >= 0)
    return rc;
  if (isnan(o.diverge_factor)) o.diverge_factor = 10;
  if ((rc = check_out_dir(&o)) >= 0) return rc;
  if (o.warmup >= 0 && o.epochs >= 0 && o.warmup > o.epochs) {
    fprintf(stderr, "train: --warmup %d is longer than --epochs %d (allowed range is 0 to %d)\n", o.warmup, o.epochs,
            o.epochs);
    return 2;
  }
  if (!!o.resume + !!o.weights + !!o.init_from > 1) {
    fprintf(stderr, "train: --resume, --weights and --init-from exclude each other\n");
    return 2;
  }
  if (o.map && !o.init_from && !kn_traincfg_get()->init_from[0]) {
    fprintf(stderr, "train: --map applies to --init-from (or the spec's train.init_from)\n");
    return 2;
  }
  kn_threads_apply(o.threads);
  if (!isnan(o.val_split)) kn_data_set_val_split(o.val_split);
  kn_error err = {{0}};
  if (!kn_dist_init(&err)) {
    fprintf(stderr, "error: %s\n", err.msg);
    return 1;
  }
  train_run r;
  memset(&r, 0, sizeof r);
  kn_ckpt_meta m;
  bool ok = run_setup(&r, &o, &m, &err) && run_epochs(&r, &o, &m, &err);
  if (!ok && kn_dist_size() > 1) {
    fprintf(stderr, "error: rank %d: %s\n", kn_dist_rank(), err.msg);
    kn_dist_abort(1);
  } else if (!ok) {
    fprintf(stderr, "error: %s\n", err.msg);
  }
  run_free(&r);
  kn_dist_finalize();
  return ok ? 0 : 1;
}

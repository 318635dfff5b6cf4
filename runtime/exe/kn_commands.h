/* kn_commands.h — the user-facing commands of every generated executable (train, eval, predict;
 * rows of the command table in main.c) and what they share: a table-driven option parser, data
 * set opening (CIFAR-10 directory or the built-in synthetic set) and weight loading.
 *
 *   int epochs = 10; const char *data = NULL;
 *   kn_opt opts[] = {{"epochs", KN_OPT_INT, &epochs, "N", "epochs to train"},
 *                    {"data", KN_OPT_STR, &data, "DIR", "CIFAR-10 binary directory"}};
 *   int rc = kn_opts_parse("train", "[options]", opts, 2, argc, argv, NULL, 0, NULL);
 *   if (rc >= 0) return rc;   // --help printed (0) or a bad option (2)
 */
#ifndef KN_COMMANDS_H
#define KN_COMMANDS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "kn_confusion.h"
#include "kn_dataset.h"
#include "kn_error.h"
#include "kn_loader.h"
#include "kn_session.h"

int kn_cmd_train(int argc, char **argv);
int kn_cmd_eval(int argc, char **argv);
int kn_cmd_predict(int argc, char **argv);

typedef enum { KN_OPT_INT, KN_OPT_DOUBLE, KN_OPT_STR, KN_OPT_FLAG } kn_opt_kind;

typedef struct kn_opt {
  const char *name; /* without the leading "--" */
  kn_opt_kind kind;
  void *dst;        /* int *, double *, const char **, bool * */
  const char *arg;  /* placeholder shown in the help ("N") */
  const char *help;
} kn_opt;

/* Parses "--name VALUE", "--name=VALUE" and flags from argv[1..] (argv[0] is the command).
 * Positional arguments go to pos (up to max_pos; more is an error). Returns -1 to go on, 0 after
 * printing --help, 2 after printing an error about the command line. */
int kn_opts_parse(const char *cmd, const char *usage, const kn_opt *opts, int n_opts, int argc, char **argv,
                  char **pos, int max_pos, int *n_pos);

/* Range checks after kn_opts_parse: an int option still at KN_OPT_UNSET was not given and gets
 * `unset`; a given value outside lo..hi prints "CMD: --NAME V is out of range (allowed range is
 * LO to HI)". Returns -1 to go on, 2 after an error. Doubles: NAN marks "not given" (the parser
 * refuses non-finite values), lo < v <= hi. */
#define KN_OPT_UNSET INT_MIN
typedef struct kn_int_range {
  const char *name;
  int *v;
  int lo, hi, unset;
} kn_int_range;
int kn_opts_check_ints(const char *cmd, const kn_int_range *r, int n);
int kn_opts_check_double(const char *cmd, const char *name, double v, double lo_open, double hi);

/* The test share of an image folder without train/ and val/ subfolders (default 0.2). */
void kn_data_set_val_split(double f);
/* Opens a split: an image folder (kn_imagefolder.h, at the model's input size), the CIFAR-10
 * binary files in dir, or (dir NULL) the built-in synthetic set
 * (5000 train / 1000 test images; at the model's input size up to 64x64, else 32x32), keeping
 * the first `limit` images when limit > 0. */
bool kn_data_open(kn_dataset *ds, const char *dir, bool train, int limit, const kn_session *s, kn_error *err);

/* Initial weights by precedence: `path` (a weights file or a checkpoint), the embedded weights,
 * the spec's `weights:` file, else the random initialisation stays. Class names found in the
 * file's metadata ("classes", comma-separated) are copied to names (when not NULL). Prints what
 * it loaded to stderr when verbose (train), and a note when nothing was loaded otherwise. */
bool kn_weights_load(kn_session *s, const char *path, char (*names)[KN_DATASET_NAME_LEN], bool verbose,
                     kn_error *err);
/* The class names to show when nothing better is known: CIFAR-10's for 10 classes, else "classK". */
void kn_class_names_default(char (*names)[KN_DATASET_NAME_LEN], int k);

/* A loader over ds with the spec's training (shuffled, augmented) or test pipeline, checked
 * against the model's input shape. */
bool kn_loader_for(kn_loader *ld, const kn_dataset *ds, const kn_session *s, bool train, int batch, uint64_t seed,
                   int threads, kn_error *err);
/* Runs the forward entry (BatchNorm in eval mode) over one pass of ld (batches of at most the
 * compiled N); adds every prediction to cm and sets *loss to the mean negative log-likelihood. */
bool kn_evaluate(kn_session *s, kn_loader *ld, kn_confusion *cm, double *loss, bool progress, kn_error *err);

/* Scores the first n rows of log-probabilities logp[.][k] against labels y: adds the negative
 * log-likelihoods to *nll, the correct argmax predictions to *correct, and each prediction to cm
 * when cm is not NULL. */
void kn_score_batch(const float *logp, const int32_t *y, int n, int k, double *nll, int64_t *correct, kn_confusion *cm);

/* Sets the model's threads (kn_parallel_set_threads) when threads > 0. */
void kn_threads_apply(int threads);

#endif

/* test_metrics.c — metrics.csv content and read-back (NAN fields, resumed epochs), the SVG plot
 * (well-formed envelope, two panels, one polyline point per measured value), the write-up's log
 * lines, progress output on a TTY and in plain mode, and the confusion matrix. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kn_check.h"
#include "kn_confusion.h"
#include "kn_log.h"
#include "kn_metrics.h"

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  s[fread(s, 1, (size_t)n, f)] = 0;
  fclose(f);
  return s;
}

static int count(const char *s, const char *sub) {
  int n = 0;
  for (const char *p = strstr(s, sub); p; p = strstr(p + 1, sub)) n++;
  return n;
}

/* Number of "x,y" pairs in the points attribute of the polyline with class cls. */
static int polyline_points(const char *svg, const char *cls) {
  char key[64];
  snprintf(key, sizeof key, "<polyline class=\"%s\"", cls);
  const char *p = strstr(svg, key);
  if (!p) return -1;
  p = strstr(p, "points=\"");
  if (!p) return -1;
  p += 8;
  int n = 0;
  while (*p && *p != '"') {
    double x, y;
    int used = 0;
    if (sscanf(p, "%lf,%lf%n", &x, &y, &used) != 2) return -1;
    n++;
    p += used;
    while (*p == ' ') p++;
  }
  return n;
}

static void test_csv_svg(void) {
  char csv[64], svg[64];
  snprintf(csv, sizeof csv, "/tmp/kn_metrics_%ld.csv", (long)getpid());
  snprintf(svg, sizeof svg, "/tmp/kn_metrics_%ld.svg", (long)getpid());
  kn_metrics m;
  kn_error err;
  kn_metrics_init(&m);
  for (int e = 1; e <= 6; e++) {
    bool eval = e % 2 == 0;
    kn_metrics_add(&m, (kn_metrics_row){e, 2.0 / e, 0.1 * e, eval ? 2.5 / e : NAN, eval ? 0.09 * e : NAN, 0.01,
                                        800 + e, 60.5});
  }
  CHECK(kn_metrics_write_csv(&m, csv, &err));
  char *s = slurp(csv);
  CHECK(s && strncmp(s, "epoch,train_loss,train_acc,val_loss,val_acc,lr,images_per_s,seconds\n", 68) == 0);
  CHECK(s && strstr(s, "\n1,2,0.1,,,0.01,801,60.5\n"));
  CHECK(s && strstr(s, "\n2,1,0.2,1.25,0.18,0.01,802,60.5\n"));
  CHECK(s && count(s, "\n") == 7);
  free(s);
  /* read back; a resumed run that repeats epoch 5 drops rows 5 and 6 */
  kn_metrics r;
  kn_metrics_init(&r);
  CHECK(kn_metrics_read_csv(&r, csv, &err) && r.n == 6);
  CHECK(r.n == 6 && r.rows[3].epoch == 4 && r.rows[3].val_acc == 0.36 && isnan(r.rows[2].val_loss));
  kn_metrics_add(&r, (kn_metrics_row){5, 0.3, 0.7, NAN, NAN, 0.001, 900, 50});
  CHECK(r.n == 5 && r.rows[4].lr == 0.001);
  kn_metrics_free(&r);
  CHECK(kn_metrics_read_csv(&r, "/nonexistent.csv", &err) && r.n == 0);
  FILE *f = fopen(csv, "w");
  fprintf(f, "%s\n1,2,x\n", KN_METRICS_CSV_HEADER);
  fclose(f);
  CHECK(!kn_metrics_read_csv(&r, csv, &err) && strstr(err.msg, ":2:"));
  kn_metrics_free(&r);

  CHECK(kn_metrics_write_svg(&m, svg, "sample <resnet>", &err));
  s = slurp(svg);
  CHECK(s && strncmp(s, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
  CHECK(s && strstr(s, "</svg>\n") && strstr(s, "</svg>\n")[7] == 0);
  CHECK(s && polyline_points(s, "train loss") == 6 && polyline_points(s, "val loss") == 3);
  CHECK(s && polyline_points(s, "train acc") == 6 && polyline_points(s, "val acc") == 3);
  CHECK(s && count(s, "<rect") == 3 && count(s, ">epoch</text>") == 2); /* background + 2 panels */
  CHECK(s && strstr(s, "sample &lt;resnet&gt;") && count(s, "<text") > 20);
  CHECK(s && count(s, "<") == count(s, ">")); /* crude balance check of tags */
  free(s);
  /* an empty run still gives a valid plot */
  kn_metrics_free(&m);
  CHECK(kn_metrics_write_svg(&m, svg, NULL, &err));
  s = slurp(svg);
  CHECK(s && strstr(s, "</svg>") && polyline_points(s, "train loss") == 0);
  free(s);
  unlink(csv);
  unlink(svg);
}

static void test_log(void) {
  char b[128];
  CHECK(strcmp(kn_log_epoch(b, sizeof b, 7), "epoch: 7") == 0);
  CHECK(strcmp(kn_log_train(b, sizeof b, 0.57231, 0.82968), "Train loss : 0.5723    Train Acc : 0.8297") == 0);
  CHECK(strcmp(kn_log_val(b, sizeof b, 0.1168, 0.9583), "Val loss : 0.1168    Val Acc : 0.9583") == 0);
  CHECK(strcmp(kn_log_best(b, sizeof b, 0.95834), "best accuracy is 0.9583") == 0);

  FILE *f = tmpfile();
  kn_progress p;
  kn_progress_init(&p, f, "train", 1000, KN_PROGRESS_PLAIN);
  for (int i = 1; i <= 100; i++) kn_progress_update_at(&p, i * 10, 1.0, 0.5, i * 0.1);
  kn_progress_finish(&p);
  long n = ftell(f);
  char *s = calloc((size_t)n + 1, 1);
  rewind(f);
  CHECK(fread(s, 1, (size_t)n, f) == (size_t)n);
  CHECK(count(s, "\n") == 10 && !strchr(s, '\r'));
  CHECK(strstr(s, "train 500/1000 (50%)  100.0 img/s  ETA 0:05  loss 1.0000  acc 0.5000\n") != NULL);
  free(s);
  fclose(f);

  f = tmpfile();
  kn_progress_init(&p, f, "train", 50000, KN_PROGRESS_TTY);
  kn_progress_update_at(&p, 100, 2.0, 0.1, 0.5);
  kn_progress_update_at(&p, 200, 2.0, 0.1, 0.55); /* within 0.1 s: skipped */
  kn_progress_update_at(&p, 25000, 1.5, 0.4, 100);
  kn_progress_update_at(&p, 50000, 1.2, 0.6, 200.01); /* the end is always drawn */
  kn_progress_finish(&p);
  n = ftell(f);
  s = calloc((size_t)n + 1, 1);
  rewind(f);
  CHECK(fread(s, 1, (size_t)n, f) == (size_t)n);
  CHECK(count(s, "\r") == 3 && count(s, "\n") == 1);
  CHECK(strstr(s, "\rtrain [############............]  50% 25000/50000  250.0 img/s  ETA 1:40  loss 1.5000") != NULL);
  CHECK(strstr(s, "100% 50000/50000") != NULL);
  free(s);
  fclose(f);
}

static void test_confusion(void) {
  kn_confusion c;
  kn_error err;
  CHECK(kn_confusion_init(&c, 3, &err));
  const int32_t truth[5] = {0, 1, 2, 2, 1};
  const float scores[15] = {5, 1, 0, /* -> 0 */ 0, 1, 2, /* -> 2 */ 0, 0, 3, /* -> 2 */
                            1, 1, 1, /* tie -> 0 */ 0, 9, 0 /* -> 1 */};
  kn_confusion_add_logits(&c, truth, scores, 5);
  CHECK(kn_confusion_total(&c) == 5 && c.m[0] == 1 && c.m[1 * 3 + 2] == 1 && c.m[1 * 3 + 1] == 1);
  CHECK(c.m[2 * 3 + 2] == 1 && c.m[2 * 3 + 0] == 1);
  CHECK(fabs(kn_confusion_accuracy(&c) - 0.6) < 1e-12);
  CHECK(kn_confusion_class_accuracy(&c, 0) == 1.0 && kn_confusion_class_accuracy(&c, 1) == 0.5);
  kn_confusion_add(&c, 7, 0); /* ignored */
  CHECK(kn_confusion_total(&c) == 5);
  FILE *f = tmpfile();
  const char *names[3] = {"cat", "dog", "bird"};
  kn_confusion_print(&c, f, names);
  long n = ftell(f);
  char *s = calloc((size_t)n + 1, 1);
  rewind(f);
  CHECK(fread(s, 1, (size_t)n, f) == (size_t)n);
  CHECK(strstr(s, "accuracy 0.6000 (5 images)") && strstr(s, "  dog          0.5000\n"));
  CHECK(strstr(s, "bird              1      0      1\n") != NULL);
  free(s);
  fclose(f);
  kn_confusion_free(&c);
  CHECK(!kn_confusion_init(&c, 0, &err));
}

int main(void) {
  test_csv_svg();
  test_log();
  test_confusion();
  return kn_check_summary();
}

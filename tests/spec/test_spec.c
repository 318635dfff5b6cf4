/* test_spec.c — the spec loader's API contract: torchvision parameter names, BatchNorm inputs and
 * TRAINING = 0, initialisers, frozen scopes (value->trainable, node->frozen), the well-known
 * values, the train section, options, in-memory specs, expressions, and verified graphs for every
 * seed and tiny model. Usage: test_spec ROOT (the source tree). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kn_check.h"
#include "spec.h"
#include "util.h"

static const char *root;

static kn_spec *load(const char *rel, const kn_spec_options *o) {
  char *p = kn_fmt("%s/%s", root, rel);
  kn_diag d;
  kn_diag_init(&d);
  kn_spec *s = kn_spec_load(p, o, &d);
  if (!s) kn_diag_print(&d, stderr);
  kn_diag_free(&d);
  free(p);
  return s;
}

/* Loads text from memory; returns the spec, or NULL and the first diagnostic in err. */
static kn_spec *load_text(const char *text, char *err, size_t n) {
  kn_diag d;
  kn_diag_init(&d);
  kn_spec *s = kn_spec_load_string("mem.yaml", text, NULL, &d);
  err[0] = 0;
  if (d.n) {
    const kn_diag_entry *e = &d.items[0];
    snprintf(err, n, "%d:%d: %s", e->loc.line, e->loc.col, e->msg);
  }
  kn_diag_free(&d);
  return s;
}

static const kn_value *val(const kn_spec *s, const char *name) {
  int id = kn_graph_find_value(s->graph, name);
  return id >= 0 ? &s->graph->vals[id] : NULL;
}

static const kn_node *node(const kn_spec *s, const char *name) {
  for (int i = 0; i < s->graph->n_nodes; i++)
    if (!strcmp(s->graph->nodes[i].name, name)) return &s->graph->nodes[i];
  return NULL;
}

static bool verified(kn_spec *s) {
  kn_diag d;
  kn_diag_init(&d);
  bool ok = kn_graph_verify(s->graph, &d);
  if (!ok) kn_diag_print(&d, stderr);
  kn_diag_free(&d);
  return ok;
}

static void test_resnet50_names(void) {
  kn_spec *s = load("models/resnet50_finetune.yaml", NULL);
  CHECK(s != NULL);
  if (!s) return;
  static const char *const names[] = {"conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.conv1.weight",
                                      "layer1.0.bn1.running_mean", "layer1.0.downsample.0.weight",
                                      "layer1.0.downsample.1.weight", "layer2.0.downsample.1.running_var",
                                      "layer3.5.conv3.weight", "layer4.2.bn3.bias", "fc.weight", "fc.bias"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) CHECK(val(s, names[i]) != NULL);
  CHECK(val(s, "layer1.1.downsample.0.weight") == NULL); /* identity shortcut after the first block */
  const kn_value *w = val(s, "layer1.0.conv2.weight");
  CHECK(w && w->shape.rank == 4 && w->shape.d[0] == 64 && w->shape.d[1] == 64 && w->shape.d[2] == 3);
  CHECK(w && w->kind == KN_VAL_PARAM && !w->trainable && w->init == KN_INIT_KAIMING_UNIFORM);
  const kn_value *fw = val(s, "fc.weight"), *fb = val(s, "fc.bias");
  CHECK(fw && fw->trainable && fw->shape.d[0] == 10 && fw->shape.d[1] == 2048);
  CHECK(fb && fb->trainable && fb->init == KN_INIT_FAN_IN_UNIFORM);
  const kn_value *rm = val(s, "bn1.running_mean"), *rv = val(s, "bn1.running_var");
  CHECK(rm && rm->kind == KN_VAL_STATE && rm->init == KN_INIT_ZERO);
  CHECK(rv && rv->kind == KN_VAL_STATE && rv->init == KN_INIT_ONE);
  CHECK(val(s, "bn1.weight")->init == KN_INIT_ONE && val(s, "bn1.bias")->init == KN_INIT_ZERO);
  const kn_node *bn = node(s, "layer2.1.bn2");
  CHECK(bn && bn->op == KN_OP_BATCHNORM2D && bn->n_in == 5 && bn->n_out == 1);
  CHECK(bn && (bn->attr_set & (1u << KN_ATTR_TRAINING)) && kn_node_int(bn, KN_ATTR_TRAINING) == 0);
  CHECK(bn && bn->frozen);
  CHECK(node(s, "fc") && !node(s, "fc")->frozen);
  const kn_graph *g = s->graph;
  CHECK(g->input >= 0 && !strcmp(g->vals[g->input].name, "input"));
  CHECK(g->vals[g->input].shape.d[0] == 32 && g->vals[g->input].shape.d[2] == 224);
  CHECK(g->labels >= 0 && g->vals[g->labels].dtype == KN_DT_I32 && g->vals[g->labels].shape.d[0] == 32);
  CHECK(g->output >= 0 && g->nodes[g->vals[g->output].producer].op == KN_OP_LOG_SOFTMAX);
  CHECK(g->loss >= 0 && g->nodes[g->vals[g->loss].producer].op == KN_OP_NLL_LOSS);
  CHECK(s->train.n_freeze == 1 && !strcmp(s->train.freeze[0], "*") && !strcmp(s->train.unfreeze[0], "fc"));
  CHECK(!strcmp(s->model_name, "resnet50_finetune"));
  CHECK(verified(s));
  kn_spec_dispose(s);
}

static void test_attention(void) {
  kn_spec *s = load("models/resnet_attention_finetune.yaml", NULL);
  CHECK(s != NULL);
  if (!s) return;
  /* CBAM's MLP is shared by the average and max branches: the reuse row creates no parameters. */
  const kn_node *a = node(s, "attention.cbam.mlp.0"), *b = node(s, "attention.cbam.mlp_max.0");
  CHECK(a && b && a->in[1] == b->in[1]);
  CHECK(val(s, "attention.cbam.mlp_max.0.weight") == NULL);
  CHECK(val(s, "attention.shortcut.0.weight") && val(s, "attention.shortcut.0.weight")->trainable);
  CHECK(!val(s, "layer4.2.conv3.weight")->trainable && val(s, "head_conv.weight")->trainable);
  int64_t t, tr;
  kn_graph_count_params(s->graph, &t, &tr);
  CHECK(t == 28706476 && tr == 5198444);
  CHECK(s->n_layers > 10 && !strcmp(s->layers[0].name, "conv1") && s->layers[0].depth == 0);
  CHECK(verified(s));
  kn_spec_dispose(s);
}

static void test_train_and_options(void) {
  kn_spec_options o = {.batch_size = 4, .input_h = 32, .input_w = 32};
  kn_spec *s = load("models/sample_resnet.yaml", &o);
  CHECK(s != NULL);
  if (!s) return;
  const kn_train_config *t = &s->train;
  CHECK(t->batch_size == 4 && t->input_size[0] == 32 && s->graph->vals[s->graph->input].shape.d[3] == 32);
  CHECK(t->optim == KN_OPTIM_SGD && t->lr == 0.01 && t->momentum == 0.9 && t->epochs == 20 && t->eval_every == 5);
  CHECK(t->n_train_aug == 5 && t->train_aug[2].kind == KN_AUG_RANDOM_RESIZED_CROP);
  CHECK(t->train_aug[0].size[0] == 32 && t->train_aug[2].size[1] == 32); /* --input rewrites the pipeline */
  CHECK(t->train_aug[2].scale[0] == 0.8 && t->train_aug[2].ratio[1] == 1.0 && t->train_aug[1].p == 0.5);
  CHECK(t->n_test_aug == 3 && t->test_aug[2].kind == KN_AUG_NORMALIZE && t->test_aug[2].std[2] == 0.225);
  CHECK(verified(s));
  kn_spec_dispose(s);
  /* Default pipeline follows input_size. The weights file must exist (kiln check looks). */
  char err[256];
  mkdir("w", 0777);
  FILE *wf = fopen("w/init.safetensors", "wb");
  if (wf) fclose(wf);
  s = load_text("layers: [global_avgpool, {linear: {out_features: 10}}, log_softmax]\n"
                "train: {input_size: [32, 48], optimizer: {type: adamw, lr: 0.003}, schedule: {type: step, step_size: 5},"
                " weights: w/init.safetensors, bn_frozen: eval}\n",
                err, sizeof err);
  CHECK(s != NULL);
  if (s) {
    CHECK(s->train.train_aug[0].size[0] == 32 && s->train.train_aug[0].size[1] == 48);
    CHECK(s->train.optim == KN_OPTIM_ADAMW && s->train.lr == 0.003 && s->train.weight_decay == 0.01);
    CHECK(s->train.sched == KN_SCHED_STEP && s->train.step_size == 5 && s->train.bn_frozen == KN_BN_FROZEN_EVAL);
    CHECK(s->train.weights && !strcmp(s->train.weights, "w/init.safetensors"));
    CHECK(!strcmp(s->model_name, "mem"));
    kn_spec_dispose(s);
  }
  unlink("w/init.safetensors");
  rmdir("w");
}

static void test_language(void) {
  char err[256];
  /* Expressions, when/skip aliasing, repeat with index, sequential index names, upsample, concat. */
  kn_spec *s = load_text(
      "blocks:\n"
      "  unit:\n"
      "    params: {w: ~, down: false}\n"
      "    layers:\n"
      "      - conv2d: {out_channels: \"${w * 2 if down else w}\", kernel: 3, padding: 1, stride: \"${2 if down else 1}\"}\n"
      "        name: conv\n"
      "      - sequential: [{conv2d: {out_channels: \"${max(w, 2) * (2 if down else 1)}\", kernel: 1,"
      " stride: \"${1 + down}\"}}, batchnorm2d]\n"
      "        name: proj\n"
      "        input: input\n"
      "        when: ${down or in_channels != w}\n"
      "      - add: ~\n"
      "        inputs: [conv, proj]\n"
      "layers:\n"
      "  - unit: {w: 4, down: \"${1 == 1}\"}\n"
      "    name: stage\n"
      "    repeat: 3\n"
      "  - upsample: {scale: 2, mode: bilinear}\n"
      "    name: up\n"
      "  - concat: ~\n"
      "    inputs: [up, up]\n"
      "  - global_maxpool\n"
      "  - flatten\n"
      "  - linear: {out_features: 10}\n"
      "  - log_softmax\n"
      "train: {input_size: 16, batch_size: 2}\n",
      err, sizeof err);
  CHECK(s != NULL);
  if (!s) {
    fprintf(stderr, "  %s\n", err);
    return;
  }
  CHECK(val(s, "stage.0.conv.weight") && val(s, "stage.0.conv.weight")->shape.d[0] == 8);
  CHECK(val(s, "stage.0.proj.1.running_var") != NULL);
  CHECK(val(s, "stage.2.conv.weight") && val(s, "stage.2.conv.weight")->shape.d[1] == 8);
  const kn_node *up = node(s, "up");
  CHECK(up && kn_node_int(up, KN_ATTR_MODE) == KN_MODE_BILINEAR);
  const kn_value *cat = &s->graph->vals[node(s, "concat")->out[0]];
  CHECK(cat->shape.d[1] == 16 && cat->shape.d[2] == 4); /* 16 -> 8 -> 4 -> 2, upsampled to 4 */
  CHECK(verified(s));
  kn_spec_dispose(s);
  /* An error from memory names the given file name, line and column. */
  s = load_text("layers:\n  - conv2d: {out_channels: 8, strid: 2}\n", err, sizeof err);
  CHECK(s == NULL && !strcmp(err, "2:31: unknown attribute 'strid' for conv2d"));
  s = load_text("layers: [relu, relu, {add: ~, inputs: [relu, relu_1]}, global_avgpool,"
                " {linear: {out_features: 10}}, log_softmax]\n",
                err, sizeof err);
  CHECK(s != NULL);
  kn_spec_dispose(s);
}

static void test_all_models(void) {
  static const char *const files[] = {
      "models/sample_resnet.yaml", "models/resnet50_scratch.yaml", "models/resnet_attention_scratch.yaml",
      "tests/models/sample_resnet_tiny.yaml", "tests/models/resnet50_tiny.yaml",
      "tests/models/resnet50_finetune_tiny.yaml", "tests/models/resnet_attention_tiny.yaml",
      "tests/models/resnet_attention_finetune_tiny.yaml"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    kn_spec *s = load(files[i], NULL);
    CHECK(s != NULL);
    if (!s) continue;
    CHECK(verified(s));
    /* Every row's node range lies in the graph; frozen nodes own only frozen parameters. */
    bool ok = true;
    for (int r = 0; r < s->n_layers; r++) ok &= s->layers[r].node_last < s->graph->n_nodes;
    for (int n = 0; n < s->graph->n_nodes; n++) {
      const kn_node *nd = &s->graph->nodes[n];
      for (int j = 0; j < nd->n_in; j++) {
        const kn_value *v = &s->graph->vals[nd->in[j]];
        if (v->kind == KN_VAL_PARAM && nd->frozen == v->trainable) ok = false;
      }
    }
    CHECK(ok);
    kn_spec_dispose(s);
  }
}

int main(int argc, char **argv) {
  root = argc > 1 ? argv[1] : ".";
  test_resnet50_names();
  test_attention();
  test_train_and_options();
  test_language();
  test_all_models();
  return kn_check_summary();
}

/* spec.c — kn_spec_load: a model file (with its `base:` chain and imported block libraries) into
 * the forward training graph input -> layers -> log_softmax -> nll_loss, and its train config. */
#include <stdlib.h>
#include <string.h>

#include "spec_internal.h"
#include "util.h"

static const char *const model_keys[] = {"name", "description", "base", "import", "blocks", "input", "layers", "train",
                                         NULL};
#define KN_SP_MAX_BASES 8

static kn_sp_node first_key(kn_sp_file **chain, int n, const char *key) {
  for (int i = 0; i < n; i++) {
    kn_sp_node v = kn_sp_map_get(kn_sp_root(chain[i]), key);
    if (v.n) return v;
  }
  return (kn_sp_node){chain[0], NULL};
}

/* Follows `base:` from the model file; chain[0] is the model, then its bases. */
static int load_chain(kn_sp *c, kn_sp_file *top, kn_sp_file **chain) {
  int n = 0;
  for (kn_sp_file *f = top; f;) {
    if (!kn_sp_check_map(kn_sp_root(f), "model spec", model_keys, c->d)) return -1;
    chain[n++] = f;
    kn_sp_node b = kn_sp_map_get(kn_sp_root(f), "base");
    if (!b.n) break;
    if (!kn_sp_is_scalar(b) || kn_sp_is_null(b)) {
      kn_diag_error(c->d, kn_sp_loc(b), "write base: other_model.yaml", "'base' must be a file name, not %s",
                    kn_sp_type_name(b));
      return -1;
    }
    kn_sp_file *next = kn_sp_load_file(c, kn_sp_str(b), f->path, kn_sp_loc(b));
    if (!next) return -1;
    for (int i = 0; i < n; i++)
      if (chain[i] == next) {
        kn_diag_error(c->d, kn_sp_loc(b), "a spec cannot be its own base", "base files form a cycle through '%s'",
                      next->path);
        return -1;
      }
    if (n == KN_SP_MAX_BASES) {
      kn_diag_error(c->d, kn_sp_loc(b), NULL, "more than %d base files", KN_SP_MAX_BASES);
      return -1;
    }
    f = next;
  }
  return n;
}

static char *default_name(const char *path) {
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  const char *dot = strrchr(b, '.');
  return dot && dot != b ? kn_fmt("%.*s", (int)(dot - b), b) : kn_xstrdup(b);
}

/* Ends the graph: log_softmax output (checked against num_classes) and the nll loss. */
static bool add_loss(kn_sp *c, int out, kn_loc at) {
  kn_graph *g = c->g;
  const kn_value *v = &g->vals[out];
  const kn_node *p = v->producer >= 0 ? &g->nodes[v->producer] : NULL;
  char buf[64];
  if (p && p->op == KN_OP_NLL_LOSS) {
    g->loss = out;
    g->output = p->in[0];
    return true;
  }
  if (!p || p->op != KN_OP_LOG_SOFTMAX) {
    kn_diag_error(c->d, p ? p->loc : at, "end the network with linear and log_softmax",
                  "the nll loss needs class log-probabilities, but the network ends with %s %s",
                  p ? kn_op_table[p->op].name : "its input", kn_shape_str(v->shape, buf));
    return false;
  }
  if (v->shape.d[1] != c->spec->train.num_classes) {
    char hint[96];
    snprintf(hint, sizeof hint, "set the last linear's out_features to %d, or train.num_classes to %lld",
             c->spec->train.num_classes, (long long)v->shape.d[1]);
    kn_diag_error(c->d, p->loc, hint, "the network outputs %lld classes %s but train.num_classes is %d",
                  (long long)v->shape.d[1], kn_shape_str(v->shape, buf), c->spec->train.num_classes);
    return false;
  }
  g->output = out;
  int id = kn_graph_emit(g, KN_OP_NLL_LOSS, "loss", (int[]){out, g->labels}, 2, p->loc, c->d);
  if (id < 0) return false;
  g->loss = g->nodes[id].out[0];
  return true;
}

static bool build(kn_sp *c, kn_sp_file *top, const kn_spec_options *o) {
  kn_sp_file *chain[KN_SP_MAX_BASES + 1];
  int n = load_chain(c, top, chain);
  if (n < 0) return false;
  for (int i = n - 1; i >= 0; i--)
    if (!kn_sp_add_blocks(c, chain[i], 0)) return false;
  /* train: base first, so the model's own keys win */
  kn_sp_node maps[KN_SP_MAX_BASES + 1];
  int nm = 0;
  for (int i = n - 1; i >= 0; i--) {
    kn_sp_node t = kn_sp_map_get(kn_sp_root(chain[i]), "train");
    if (t.n && !kn_sp_is_null(t)) maps[nm++] = t;
  }
  kn_spec *sp = c->spec;
  if (!kn_sp_parse_train(c, maps, nm, &sp->train) || !kn_sp_finish_train(c, &sp->train, o)) return false;
  kn_sp_node name = first_key(chain, n, "name");
  if (name.n) {
    const char *s;
    if (!kn_sp_get_string(name, "name", &s, c->d)) return false;
    sp->model_name = kn_xstrdup(s);
  } else {
    sp->model_name = default_name(top->path);
  }
  int64_t channels = 3;
  kn_sp_node input = first_key(chain, n, "input");
  if (input.n) {
    static const char *const input_keys[] = {"channels", NULL};
    if (!kn_sp_check_map(input, "input", input_keys, c->d)) return false;
    kn_sp_node ch = kn_sp_map_get(input, "channels");
    if (ch.n && !kn_sp_get_int(ch, "channels", 1, 4096, &channels, c->d)) return false;
  }
  kn_sp_node layers = first_key(chain, n, "layers");
  if (!kn_sp_is_seq(layers) || kn_sp_seq_len(layers) == 0) {
    kn_diag_error(c->d, layers.n ? kn_sp_loc(layers) : (kn_loc){top->path, 1, 1}, "write layers: [- conv2d: ...]",
                  "the model needs a non-empty 'layers:' list");
    return false;
  }
  kn_graph *g = c->g = sp->graph = kn_graph_create(sp->model_name);
  int nb = sp->train.batch_size;
  g->input = kn_graph_add_input(g, "input", KN_DT_F32,
                                kn_shape4(nb, channels, sp->train.input_size[0], sp->train.input_size[1]));
  g->labels = kn_graph_add_input(g, "labels", KN_DT_I32, kn_shape1(nb));
  int out = kn_sp_expand_model(c, layers, g->input, g->labels);
  if (out < 0) return false;
  kn_sp_node last = kn_sp_seq_at(layers, kn_sp_seq_len(layers) - 1);
  return add_loss(c, out, kn_sp_loc(last)) && kn_sp_check_scopes(c, &sp->train);
}

static kn_spec *load(const char *path, const char *text, const kn_spec_options *o, kn_diag *d) {
  kn_sp *c = kn_xcalloc(1, sizeof *c);
  c->d = d;
  kn_spec *sp = c->spec = kn_xcalloc(1, sizeof *sp);
  sp->path = kn_xstrdup(path);
  kn_train_config_defaults(&sp->train);
  kn_sp_file *top = text ? kn_sp_load_text(c, path, text) : kn_sp_load_file(c, path, NULL, (kn_loc){0});
  bool ok = top && build(c, top, o);
  for (int i = 0; i < c->n_files; i++)
    if (c->files[i].has_doc) yaml_document_delete(&c->files[i].doc);
  kn_sp_names_free(&c->rows);
  free(c);
  if (!ok || kn_diag_has_errors(d)) {
    kn_spec_dispose(sp);
    return NULL;
  }
  return sp;
}

kn_spec *kn_spec_load(const char *path, const kn_spec_options *o, kn_diag *d) { return load(path, NULL, o, d); }

kn_spec *kn_spec_load_string(const char *name, const char *text, const kn_spec_options *o, kn_diag *d) {
  return load(name, text, o, d);
}

void kn_spec_dispose(kn_spec *s) {
  if (!s) return;
  free(s->path);
  free(s->model_name);
  kn_graph_dispose(s->graph);
  for (int i = 0; i < s->n_strings; i++) free(s->strings[i]);
  free(s->strings);
  for (int i = 0; i < s->n_layers; i++) {
    free(s->layers[i].name);
    free(s->layers[i].kind);
  }
  free(s->layers);
  free(s);
}

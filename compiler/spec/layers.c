/* layers.c — expanding layer lists into graph nodes: sequential by default, `name:` and
 * `input:`/`inputs:` for branches and joins, `when:` (a skipped layer passes its input through),
 * `repeat:` (indexed names layer1.0, layer1.1 ...), blocks with parameters (optionally `inline:`),
 * `sequential:` groups (index names like nn.Sequential) and `reuse:` (shared parameters).
 * Each expanded layer also becomes a row of spec->layers for `kiln check`. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "spec_internal.h"
#include "util.h"

typedef struct {
  char *name;    /* local name in its scope */
  int value;     /* output value */
  kn_loc loc;
  kn_sp_node layer; /* the layer mapping (reuse re-expands it); n == NULL for aliases */
  int node_first, node_last;
} entry;

typedef struct scope {
  char *prefix;        /* "" at the top level */
  entry *e;
  int n, cap;
  const kn_sp_env *env;
  int input, labels;   /* labels: top level only, else -1 */
  bool index_names;    /* sequential: unnamed layers are named 0, 1, ... */
  kn_sp_names index;   /* name -> position in e */
  kn_sp_names autos;   /* kind -> next suffix tried for an unnamed layer */
} scope;

static const char *const meta_keys[] = {"name", "input", "inputs", "when", "repeat", "inline", "reuse", NULL};

static int expand_seq(kn_sp *c, scope *s, kn_sp_node list);
static int expand_body(kn_sp *c, scope *s, kn_sp_node layer, const char *kind, kn_sp_node kind_key, kn_sp_node args,
                       const kn_sp_env *env, const char *full, const int *in, int n_in, int depth);

static char *full_name(const scope *s, const char *local) {
  return s->prefix[0] ? kn_fmt("%s.%s", s->prefix, local) : kn_xstrdup(local);
}

static entry *find(scope *s, const char *name) {
  int i = kn_sp_names_get(&s->index, name);
  return i >= 0 ? &s->e[i] : NULL;
}

static bool add_entry(kn_sp *c, scope *s, const char *name, int value, kn_loc loc, kn_sp_node layer, int nf, int nl) {
  entry *old = find(s, name);
  if (!strcmp(name, "input") || !strcmp(name, "labels")) {
    kn_diag_error(c->d, loc, "'input' and 'labels' name the data; choose another name", "layer name '%s' is reserved",
                  name);
    return false;
  }
  if (old) {
    char hint[128];
    snprintf(hint, sizeof hint, "first defined at line %d, column %d", old->loc.line, old->loc.col);
    kn_diag_error(c->d, loc, hint, "duplicate layer name '%s'", name);
    return false;
  }
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 16;
    s->e = kn_xrealloc(s->e, (size_t)s->cap * sizeof *s->e);
  }
  kn_sp_names_put(&s->index, name, s->n);
  s->e[s->n++] = (entry){kn_xstrdup(name), value, loc, layer, nf, nl};
  return true;
}

static void scope_free(scope *s) {
  for (int i = 0; i < s->n; i++) free(s->e[i].name);
  free(s->e);
  free(s->prefix);
  kn_sp_names_free(&s->index);
  kn_sp_names_free(&s->autos);
}

/* A row of the expanded model; -1 (with a diagnostic) past the layer-count limit or when the
 * full name is taken: `p.1` beside a repeat making p.0..p.2, or `a.b` beside block a's child b,
 * would otherwise share parameters silently. */
static int add_row(kn_sp *c, const char *name, const char *kind, int depth, kn_loc loc) {
  kn_spec *sp = c->spec;
  if (sp->n_layers == KN_SP_MAX_LAYERS) {
    kn_diag_error(c->d, loc, "repeat: and nested blocks multiply; the limit bounds the expanded model",
                  "model expands to more than %d layers (the layer-count limit)", KN_SP_MAX_LAYERS);
    return -1;
  }
  int old = kn_sp_names_get(&c->rows, name);
  if (old >= 0) {
    kn_loc at = sp->layers[old].loc;
    char hint[160];
    snprintf(hint, sizeof hint, "first defined at line %d, column %d", at.line, at.col);
    if (at.file != loc.file) snprintf(hint, sizeof hint, "first defined at %s:%d:%d", at.file, at.line, at.col);
    kn_diag_error(c->d, loc, hint, "duplicate layer name '%s'", name);
    return -1;
  }
  kn_sp_names_put(&c->rows, name, sp->n_layers);
  if ((sp->n_layers & (sp->n_layers - 1)) == 0) /* capacity doubles at powers of two */
    sp->layers = kn_xrealloc(sp->layers, (size_t)(sp->n_layers ? 2 * sp->n_layers : 1) * sizeof *sp->layers);
  sp->layers[sp->n_layers] = (struct kn_spec_layer){kn_xstrdup(name), kn_xstrdup(kind), depth, c->g->n_nodes, -1, loc};
  return sp->n_layers++;
}

static void end_row(kn_sp *c, int row) {
  if (row >= 0) c->spec->layers[row].node_last = c->g->n_nodes - 1;
}

/* ---- layer syntax ---- */
typedef struct {
  const char *kind;      /* NULL for reuse */
  kn_sp_node kind_key, args;
  kn_sp_node name, input, inputs, when, repeat, inl, reuse;
  kn_loc loc;
} layer_syntax;

static bool is_kind(const kn_sp *c, const char *k) {
  int op = kn_op_lookup(k);
  return (op >= 0 && (kn_op_table[op].flags & KN_OPF_USER)) || !strcmp(k, "sequential") || kn_sp_find_block(c, k);
}

static void unknown_kind(kn_sp *c, kn_sp_node key) {
  const char *cands[KN_OP_COUNT + KN_SP_MAX_BLOCKS + 8];
  int n = 0;
  for (int i = 0; i < KN_OP_COUNT; i++)
    if (kn_op_table[i].flags & KN_OPF_USER) cands[n++] = kn_op_table[i].name;
  for (int i = 0; i < c->n_blocks; i++) cands[n++] = c->blocks[i].name;
  cands[n++] = "sequential";
  for (int i = 0; meta_keys[i]; i++) cands[n++] = meta_keys[i];
  const char *s = kn_diag_suggest(kn_sp_str(key), cands, n);
  char hint[96];
  if (s) snprintf(hint, sizeof hint, "did you mean '%s'?", s);
  kn_diag_error(c->d, kn_sp_loc(key), s ? hint : "a layer is an op (conv2d, relu, ...) or a block",
                "unknown layer kind '%s'", kn_sp_str(key));
}

static bool parse_layer(kn_sp *c, kn_sp_node l, layer_syntax *ls) {
  memset(ls, 0, sizeof *ls);
  ls->loc = kn_sp_loc(l);
  if (kn_sp_is_scalar(l) && !kn_sp_is_null(l)) {
    if (!is_kind(c, kn_sp_str(l))) {
      unknown_kind(c, l);
      return false;
    }
    ls->kind = kn_sp_str(l);
    ls->kind_key = l;
    return true;
  }
  if (!kn_sp_is_map(l)) {
    kn_diag_error(c->d, ls->loc, "write e.g. '- relu' or '- conv2d: {out_channels: 64}'",
                  "a layer must be a name or a mapping, not %s", kn_sp_type_name(l));
    return false;
  }
  if (!kn_sp_check_keys_unique(l, "layer", c->d)) return false;
  kn_sp_node *slots[] = {&ls->name, &ls->input, &ls->inputs, &ls->when, &ls->repeat, &ls->inl, &ls->reuse};
  for (int i = 0; i < kn_sp_map_len(l); i++) {
    kn_sp_node k = kn_sp_map_key(l, i), v = kn_sp_map_val(l, i);
    const char *ks = kn_sp_str(k);
    int m = -1;
    for (int j = 0; meta_keys[j]; j++)
      if (!strcmp(meta_keys[j], ks)) m = j;
    if (m >= 0) {
      *slots[m] = v;
      continue;
    }
    if (ls->kind) {
      int op = kn_op_lookup(ls->kind), a = kn_attr_lookup(ks);
      if (op >= 0 && a >= 0 && (kn_op_table[op].attrs & (1u << a))) {
        kn_diag_error(c->d, kn_sp_loc(k), "indent it under the op: conv2d: {out_channels: 64, kernel: 3}",
                      "'%s' is an attribute of %s, not a layer key", ks, ls->kind);
        return false;
      }
      if (is_kind(c, ks)) {
        kn_diag_error(c->d, kn_sp_loc(k), "give each layer its own '- ' list item",
                      "layer has two kinds, '%s' and '%s'", ls->kind, ks);
        return false;
      }
      kn_sp_unknown_key(k, "layer", meta_keys, c->d);
      return false;
    }
    if (!is_kind(c, ks)) {
      unknown_kind(c, k);
      return false;
    }
    ls->kind = ks;
    ls->kind_key = k;
    ls->args = v;
    ls->loc = kn_sp_loc(k);
  }
  if (!ls->kind && !ls->reuse.n) {
    kn_diag_error(c->d, ls->loc, "add the op or block, e.g. conv2d: {out_channels: 64}", "layer has no kind");
    return false;
  }
  if (ls->kind && ls->reuse.n) {
    kn_diag_error(c->d, kn_sp_loc(ls->reuse), "reuse: takes the kind of the layer it names",
                  "a layer with 'reuse' cannot also be a '%s'", ls->kind);
    return false;
  }
  if (ls->input.n && ls->inputs.n) {
    kn_diag_error(c->d, kn_sp_loc(ls->inputs), "use input: for one, inputs: [a, b] for several",
                  "layer has both 'input' and 'inputs'");
    return false;
  }
  return true;
}

/* Text of a meta scalar after substitution; NULL with a diagnostic. */
static char *meta_text(kn_sp *c, kn_sp_node v, const char *key, const kn_sp_env *env) {
  if (!kn_sp_is_scalar(v) || kn_sp_is_null(v)) {
    kn_diag_error(c->d, kn_sp_loc(v), NULL, "'%s' must be a scalar, not %s", key, kn_sp_type_name(v));
    return NULL;
  }
  return kn_sp_subst(kn_sp_str(v), env, kn_sp_loc(v), c->d);
}

static bool meta_bool(kn_sp *c, kn_sp_node v, const char *key, const kn_sp_env *env, bool *out) {
  char *t = meta_text(c, v, key, env);
  if (!t) return false;
  bool ok = true;
  if (!strcmp(t, "true") || !strcmp(t, "1")) *out = true;
  else if (!strcmp(t, "false") || !strcmp(t, "0")) *out = false;
  else {
    kn_diag_error(c->d, kn_sp_loc(v), "write true, false or ${condition}", "'%s' must be true or false, not '%s'", key,
                  t);
    ok = false;
  }
  free(t);
  return ok;
}

/* Letters, digits, '_', '-', and '.' between non-empty parts ("..", ".a", "a." are not names). */
static bool valid_name(const char *s) {
  if (!*s || *s == '.') return false;
  for (; *s; s++) {
    if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.') return false;
    if (*s == '.' && (s[1] == '.' || s[1] == 0)) return false;
  }
  return true;
}

/* ---- references: undefined names, names used before their definition, cycles ---- */
static int seq_index_of(kn_sp_node list, const char *name) {
  for (int i = 0; i < kn_sp_seq_len(list); i++) {
    kn_sp_node nm = kn_sp_map_get(kn_sp_seq_at(list, i), "name");
    if (kn_sp_is_map(kn_sp_seq_at(list, i)) && kn_sp_is_scalar(nm) && !strcmp(kn_sp_str(nm), name)) return i;
  }
  return -1;
}

/* Depth-first search from entry `at` along input references for `target`; fills path. */
static bool reaches(kn_sp_node list, int at, int target, int *path, int *len, int depth, int *budget) {
  if (depth > 64 || --*budget < 0) return false; /* the budget keeps a dense reference web linear */
  path[(*len)++] = at;
  if (at == target) return true;
  kn_sp_node l = kn_sp_seq_at(list, at);
  kn_sp_node ins = kn_sp_map_get(l, "inputs");
  if (!ins.n) ins = kn_sp_map_get(l, "input");
  if (!ins.n) {
    if (at > 0 && reaches(list, at - 1, target, path, len, depth + 1, budget)) return true;
  } else {
    int n = kn_sp_is_seq(ins) ? kn_sp_seq_len(ins) : 1;
    for (int i = 0; i < n; i++) {
      kn_sp_node r = kn_sp_is_seq(ins) ? kn_sp_seq_at(ins, i) : ins;
      int j = seq_index_of(list, kn_sp_str(r));
      if (j >= 0 && j != at && reaches(list, j, target, path, len, depth + 1, budget)) return true;
    }
  }
  (*len)--;
  return false;
}

static void bad_reference(kn_sp *c, scope *s, kn_sp_node list, int self, const char *self_name, kn_sp_node ref) {
  const char *r = kn_sp_str(ref);
  int j = list.n ? seq_index_of(list, r) : -1;
  if (j > self) {
    int path[80], len = 0, budget = 10000;
    if (reaches(list, j, self, path, &len, 0, &budget)) {
      char msg[512];
      size_t off = (size_t)snprintf(msg, sizeof msg, "%s", self_name);
      for (int i = 0; i < len && off < sizeof msg - 80; i++) {
        kn_sp_node nm = kn_sp_map_get(kn_sp_seq_at(list, path[i]), "name");
        off += (size_t)snprintf(msg + off, sizeof msg - off, " -> %s", path[i] == self ? self_name : kn_sp_str(nm));
      }
      kn_diag_error(c->d, kn_sp_loc(ref), "a layer's inputs must not depend on the layer itself",
                    "layers form a cycle: %s", msg);
      return;
    }
    char hint[96];
    snprintf(hint, sizeof hint, "move '%s' above this layer", r);
    kn_diag_error(c->d, kn_sp_loc(ref), hint, "'%s' is used before it is defined", r);
    return;
  }
  const char *cands[256];
  int n = 0;
  cands[n++] = "input";
  for (int i = 0; i < s->n && n < 255; i++) cands[n++] = s->e[i].name;
  const char *sg = kn_diag_suggest(r, cands, n);
  char hint[96];
  if (sg) snprintf(hint, sizeof hint, "did you mean '%s'?", sg);
  kn_diag_error(c->d, kn_sp_loc(ref), sg ? hint : "inputs name earlier layers of the same block, or 'input'",
                "undefined name '%s'", r);
}

static int resolve(kn_sp *c, scope *s, kn_sp_node list, int self, const char *self_name, kn_sp_node ref) {
  if (!kn_sp_is_scalar(ref) || kn_sp_is_null(ref)) {
    kn_diag_error(c->d, kn_sp_loc(ref), NULL, "an input must be a layer name, not %s", kn_sp_type_name(ref));
    return -1;
  }
  const char *r = kn_sp_str(ref);
  if (!strcmp(r, "input")) return s->input;
  if (s->labels >= 0 && !strcmp(r, "labels")) return s->labels;
  entry *e = find(s, r);
  if (e) return e->value;
  bad_reference(c, s, list, self, self_name, ref);
  return -1;
}

/* ---- blocks ---- */
static int expand_block(kn_sp *c, const kn_sp_block *b, kn_sp_node args, const kn_sp_env *env, scope *outer,
                        const char *full, int input, kn_loc loc, bool inl) {
  for (int i = 0; i < c->depth; i++)
    if (!strcmp(c->stack[i], b->name)) {
      char chain[512];
      size_t off = 0;
      for (int j = i; j < c->depth && off < sizeof chain - 80; j++)
        off += (size_t)snprintf(chain + off, sizeof chain - off, "%s -> ", c->stack[j]);
      snprintf(chain + off, sizeof chain - off, "%s", b->name);
      kn_diag_error(c->d, loc, "a block cannot contain itself", "block '%s' is recursive: %s", b->name, chain);
      return -1;
    }
  if (c->depth == KN_SP_MAX_DEPTH) {
    kn_diag_error(c->d, loc, NULL, "blocks nested more than %d deep", KN_SP_MAX_DEPTH);
    return -1;
  }
  kn_sp_node params = kn_sp_map_get(b->def, "params");
  if (args.n && !kn_sp_is_null(args) && !kn_sp_is_map(args)) {
    kn_diag_error(c->d, kn_sp_loc(args), "write e.g. bottleneck: {planes: 64}",
                  "arguments of block '%s' must be a mapping, not %s", b->name, kn_sp_type_name(args));
    return -1;
  }
  char what[160];
  snprintf(what, sizeof what, "arguments of block '%s'", b->name);
  if (args.n && kn_sp_is_map(args) && !kn_sp_check_keys_unique(args, what, c->d)) return -1;
  kn_sp_env *benv = kn_xcalloc(1, sizeof *benv);
  int result = -1;
  for (int i = 0; i < kn_sp_map_len(args); i++) {
    kn_sp_node k = kn_sp_map_key(args, i), v = kn_sp_map_val(args, i);
    if (!kn_sp_map_get(params, kn_sp_str(k)).n) {
      const char *names[64];
      int n = 0;
      for (int j = 0; j < kn_sp_map_len(params) && n < 64; j++) names[n++] = kn_sp_str(kn_sp_map_key(params, j));
      const char *sg = kn_diag_suggest(kn_sp_str(k), names, n);
      char hint[96];
      if (sg) snprintf(hint, sizeof hint, "did you mean '%s'?", sg);
      kn_diag_error(c->d, kn_sp_loc(k), sg ? hint : "see the block's params:", "block '%s' has no parameter '%s'",
                    b->name, kn_sp_str(k));
      goto done;
    }
    if (!kn_sp_is_scalar(v) || kn_sp_is_null(v)) {
      kn_diag_error(c->d, kn_sp_loc(v), NULL, "parameter '%s' must be a scalar, not %s", kn_sp_str(k),
                    kn_sp_type_name(v));
      goto done;
    }
    char *t = kn_sp_subst(kn_sp_str(v), env, kn_sp_loc(v), c->d);
    if (!t) goto done;
    kn_sp_env_set(benv, kn_sp_str(k), t);
    free(t);
  }
  for (int j = 0; j < kn_sp_map_len(params); j++) {
    kn_sp_node k = kn_sp_map_key(params, j), v = kn_sp_map_val(params, j);
    if (kn_sp_env_get(benv, kn_sp_str(k))) continue;
    if (kn_sp_is_null(v)) {
      kn_diag_error(c->d, loc, NULL, "block '%s' needs parameter '%s'", b->name, kn_sp_str(k));
      goto done;
    }
    kn_sp_env_set(benv, kn_sp_str(k), kn_sp_str(v));
  }
  kn_shape x = c->g->vals[input].shape;
  kn_sp_env_set_int(benv, "in_channels", x.rank >= 2 ? x.d[1] : 1);
  scope s = {inl ? kn_xstrdup(outer->prefix) : kn_xstrdup(full), NULL, 0, 0, benv, input, -1, false, {0}, {0}};
  c->stack[c->depth++] = b->name;
  result = expand_seq(c, &s, kn_sp_map_get(b->def, "layers"));
  c->depth--;
  if (inl && result >= 0)
    for (int i = 0; i < s.n; i++) {
      entry *e = &s.e[i];
      if (!add_entry(c, outer, e->name, e->value, e->loc, e->layer, e->node_first, e->node_last)) {
        result = -1;
        break;
      }
    }
  scope_free(&s);
done:
  kn_sp_env_free(benv);
  free(benv);
  return result;
}

/* ---- one layer ---- */
static int expand_body(kn_sp *c, scope *s, kn_sp_node layer, const char *kind, kn_sp_node kind_key, kn_sp_node args,
                       const kn_sp_env *env, const char *full, const int *in, int n_in, int depth) {
  kn_loc loc = kn_sp_loc(kind_key);
  int op = kn_op_lookup(kind);
  if (op >= 0) return kn_sp_emit_op(c, (kn_op)op, args, env, full, in, n_in, loc);
  if (n_in != 1) {
    kn_diag_error(c->d, loc, NULL, "%s '%s' takes 1 input, got %d", kind, full, n_in);
    return -1;
  }
  if (!strcmp(kind, "sequential")) {
    if (!kn_sp_is_seq(args) || !kn_sp_seq_len(args)) {
      kn_diag_error(c->d, kn_sp_is_null(args) ? loc : kn_sp_loc(args), "write sequential: [conv2d: {...}, batchnorm2d]",
                    "sequential needs a non-empty list of layers");
      return -1;
    }
    scope sub = {kn_xstrdup(full), NULL, 0, 0, env, in[0], -1, true, {0}, {0}};
    c->row_depth++;
    int r = expand_seq(c, &sub, args);
    c->row_depth--;
    scope_free(&sub);
    return r;
  }
  (void)layer;
  (void)depth;
  const kn_sp_block *b = kn_sp_find_block(c, kind);
  KN_ASSERT(b);
  c->row_depth++;
  int r = expand_block(c, b, args, env, s, full, in[0], loc, false);
  c->row_depth--;
  return r;
}

/* kind, kind_1, kind_2 ...: the first free one; the scope remembers where the search stopped. */
static char *auto_name(scope *s, const char *kind, int index) {
  if (s->index_names) return kn_fmt("%d", index);
  int k = kn_sp_names_get(&s->autos, kind);
  if (k < 0) k = 0;
  char *nm = k ? kn_fmt("%s_%d", kind, k) : kn_xstrdup(kind);
  while (find(s, nm)) {
    free(nm);
    nm = kn_fmt("%s_%d", kind, ++k);
  }
  kn_sp_names_put(&s->autos, kind, k);
  return nm;
}

/* Expands entry `idx` of `list`; *prev is the current sequential value. */
static bool expand_layer(kn_sp *c, scope *s, kn_sp_node list, int idx, int *prev) {
  kn_sp_node l = kn_sp_seq_at(list, idx);
  layer_syntax ls;
  if (!parse_layer(c, l, &ls)) return false;
  const kn_sp_env *env = s->env;
  char *local = NULL, *full = NULL;
  bool ok = false;
  int nf = c->g->n_nodes, out = -1;
  if (ls.name.n) {
    local = meta_text(c, ls.name, "name", env);
    if (!local) return false;
    if (!valid_name(local)) {
      kn_diag_error(c->d, kn_sp_loc(ls.name), "use letters, digits, '_', '-', and '.' between parts",
                    "invalid layer name '%s'", local);
      goto done;
    }
  } else {
    local = auto_name(s, ls.kind ? ls.kind : "reuse", idx);
  }
  full = full_name(s, local);
  /* inputs */
  int in[KN_MAX_IN], n_in = 0;
  kn_sp_node refs = ls.inputs.n ? ls.inputs : ls.input;
  if (refs.n) {
    int n = kn_sp_is_seq(refs) ? kn_sp_seq_len(refs) : 1;
    if (n == 0 || n > KN_MAX_IN) {
      kn_diag_error(c->d, kn_sp_loc(refs), NULL, "a layer takes 1 to %d inputs, got %d", KN_MAX_IN, n);
      goto done;
    }
    for (int i = 0; i < n; i++) {
      in[n_in] = resolve(c, s, list, idx, local, kn_sp_is_seq(refs) ? kn_sp_seq_at(refs, i) : refs);
      if (in[n_in++] < 0) goto done;
    }
  } else {
    in[n_in++] = *prev;
  }
  /* when: false passes the (first) input through under this name */
  if (ls.when.n) {
    bool on;
    if (!meta_bool(c, ls.when, "when", env, &on)) goto done;
    if (!on) {
      ok = add_entry(c, s, local, in[0], ls.loc, (kn_sp_node){0}, nf, nf - 1);
      *prev = in[0];
      goto done;
    }
  }
  bool inl = false;
  if (ls.inl.n && !meta_bool(c, ls.inl, "inline", env, &inl)) goto done;
  if (inl && (!ls.kind || !kn_sp_find_block(c, ls.kind) || ls.repeat.n || ls.name.n)) {
    kn_diag_error(c->d, kn_sp_loc(ls.inl), "inline expands one block into the current scope",
                  "'inline' needs a block layer without 'name' or 'repeat'");
    goto done;
  }
  if (inl) {
    if (n_in != 1) {
      kn_diag_error(c->d, ls.loc, NULL, "block '%s' takes 1 input, got %d", ls.kind, n_in);
      goto done;
    }
    out = expand_block(c, kn_sp_find_block(c, ls.kind), ls.args, env, s, full, in[0], ls.loc, true);
    if (out < 0) goto done;
    *prev = out;
    ok = true; /* the block's names were merged into this scope */
    goto done;
  }
  if (ls.reuse.n) {
    entry *t = NULL;
    if (kn_sp_is_scalar(ls.reuse)) t = find(s, kn_sp_str(ls.reuse));
    if (!t || !t->layer.n) {
      if (t) kn_diag_error(c->d, kn_sp_loc(ls.reuse), NULL, "'%s' is a skipped layer and cannot be reused", t->name);
      else resolve(c, s, list, idx, local, ls.reuse);
      goto done;
    }
    if (c->reusing || kn_sp_map_get(t->layer, "repeat").n) {
      kn_diag_error(c->d, kn_sp_loc(ls.reuse), "reuse one layer, block or sequential group",
                    c->reusing ? "reuse inside a reused layer is not supported" : "a repeated layer cannot be reused");
      goto done;
    }
    layer_syntax ts;
    KN_ASSERT(parse_layer(c, t->layer, &ts));
    int *ps = NULL, np = 0;
    for (int ni = t->node_first; ni <= t->node_last; ni++) {
      const kn_node *nd = &c->g->nodes[ni];
      for (int j = 0; j < nd->n_in; j++) {
        kn_value_kind k = c->g->vals[nd->in[j]].kind;
        if (k != KN_VAL_PARAM && k != KN_VAL_STATE) continue;
        ps = kn_xrealloc(ps, (size_t)(np + 1) * sizeof *ps);
        ps[np++] = nd->in[j];
      }
    }
    c->reusing = true;
    c->reuse_params = ps;
    c->n_reuse = np;
    c->reuse_pos = 0;
    c->reuse_loc = kn_sp_loc(ls.reuse);
    char *rk = kn_fmt("reuse %s", t->name);
    int row = add_row(c, full, rk, c->row_depth, ls.loc);
    free(rk);
    out = row < 0 ? -1 : expand_body(c, s, t->layer, ts.kind, ts.kind_key, ts.args, env, full, in, n_in, 0);
    end_row(c, row);
    c->reusing = false;
    free(ps);
    if (out < 0) goto done;
  } else if (ls.repeat.n) {
    char *t = meta_text(c, ls.repeat, "repeat", env);
    int64_t count = 0;
    if (!t) goto done;
    bool good = kn_sp_parse_int_text(t, &count) && count >= 1 && count <= 1024;
    if (!good)
      kn_diag_error(c->d, kn_sp_loc(ls.repeat), "allowed range is 1 to 1024", "'repeat' must be a count, not '%s'", t);
    free(t);
    if (!good) goto done;
    char *kind = kn_fmt("%s x%lld", ls.kind, (long long)count);
    int row = add_row(c, full, kind, c->row_depth, ls.loc);
    free(kind);
    if (row < 0) goto done;
    c->row_depth++;
    int cur = in[0];
    kn_sp_env ienv = {.parent = env};
    for (int k = 0; k < count && cur >= 0; k++) {
      kn_sp_env_set_int(&ienv, "index", k);
      char *child = kn_fmt("%s.%d", full, k);
      int r = add_row(c, child, ls.kind, c->row_depth, ls.loc);
      int first_in[KN_MAX_IN];
      memcpy(first_in, in, sizeof in);
      first_in[0] = cur;
      cur = r < 0 ? -1 : expand_body(c, s, l, ls.kind, ls.kind_key, ls.args, &ienv, child, first_in, k ? 1 : n_in, 0);
      end_row(c, r);
      free(child);
    }
    kn_sp_env_free(&ienv);
    c->row_depth--;
    end_row(c, row);
    out = cur;
    if (out < 0) goto done;
  } else {
    int row = add_row(c, full, ls.kind, c->row_depth, ls.loc);
    out = row < 0 ? -1 : expand_body(c, s, l, ls.kind, ls.kind_key, ls.args, env, full, in, n_in, 0);
    end_row(c, row);
    if (out < 0) goto done;
  }
  ok = add_entry(c, s, local, out, ls.loc, l, nf, c->g->n_nodes - 1);
  *prev = out;
done:
  free(local);
  free(full);
  return ok;
}

static int expand_seq(kn_sp *c, scope *s, kn_sp_node list) {
  int prev = s->input;
  if (c->row_depth > KN_SP_MAX_LAYER_DEPTH) {
    kn_diag_error(c->d, kn_sp_loc(list), "sequential groups and blocks count; flatten the model",
                  "layers nested more than %d levels deep (the layer-depth limit)", KN_SP_MAX_LAYER_DEPTH);
    return -1;
  }
  for (int i = 0; i < kn_sp_seq_len(list); i++)
    if (!expand_layer(c, s, list, i, &prev)) return -1;
  return prev;
}

int kn_sp_expand_model(kn_sp *c, kn_sp_node layers, int input, int labels) {
  kn_sp_env env = {0};
  kn_shape x = c->g->vals[input].shape;
  kn_sp_env_set_int(&env, "in_channels", x.d[1]);
  scope s = {kn_xstrdup(""), NULL, 0, 0, &env, input, labels, false, {0}, {0}};
  int out = expand_seq(c, &s, layers);
  scope_free(&s);
  kn_sp_env_free(&env);
  return out;
}

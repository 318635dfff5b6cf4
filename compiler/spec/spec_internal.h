/* spec_internal.h — shared state of the spec loader (not a public API).
 *
 * The loader is split by job:
 *   yaml_util.c   YAML documents, locations, typed scalars, mappings checked for unknown and
 *                 duplicate keys (libyaml does not detect duplicates)
 *   expr.c        `$name` and `${expr}` substitutions inside blocks
 *   files.c       the model file, `base:` inheritance, `import:` of block libraries
 *   train_section.c   the `train:` section -> kn_train_config
 *   layers.c      layer lists, names, inputs, repeat/when/reuse -> graph nodes
 *   ops_emit.c    one op layer -> parameters + one graph node
 *   spec.c        kn_spec_load*, dispose
 * Every function that can fail reports a diagnostic and returns false / -1; the loader stops at the
 * first error.
 */
#ifndef KN_SPEC_INTERNAL_H
#define KN_SPEC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <yaml.h>

#include "diag.h"
#include "ir.h"
#include "spec.h"
#include "train.h"

/* ---- YAML helpers (yaml_util.c) ---- */
typedef struct kn_sp_file {
  const char *path;     /* interned (outlives the spec, for diagnostics) */
  yaml_document_t doc;
  bool has_doc;
  bool blocks_added;
} kn_sp_file;

typedef struct kn_sp_node {
  kn_sp_file *file;
  yaml_node_t *n;
} kn_sp_node;

/* Interns a file name for kn_loc: lives until the process exits. */
const char *kn_sp_intern(const char *s);
/* Parses `text` into f->doc within the YAML limits; on a syntax error reports problem/context
 * marks. */
bool kn_sp_parse(kn_sp_file *f, const char *text, size_t len, kn_diag *d);
/* yaml_limits.c: file size, nesting depth and node count before parsing (prescan) and with
 * aliases expanded on the built document; the location of a byte offset. */
bool kn_sp_yaml_prescan(kn_sp_file *f, const char *text, size_t len, kn_diag *d);
bool kn_sp_yaml_check_expansion(kn_sp_file *f, kn_diag *d);
kn_loc kn_sp_offset_loc(const char *path, const char *text, size_t len, size_t offset);
kn_loc kn_sp_loc(kn_sp_node n);
kn_sp_node kn_sp_root(kn_sp_file *f);
kn_sp_node kn_sp_child(kn_sp_node parent, int id);
bool kn_sp_is_null(kn_sp_node n);
bool kn_sp_is_scalar(kn_sp_node n);
bool kn_sp_is_seq(kn_sp_node n);
bool kn_sp_is_map(kn_sp_node n);
const char *kn_sp_str(kn_sp_node n); /* scalar text, "" for others */
const char *kn_sp_type_name(kn_sp_node n); /* "a mapping", "a list", "'text'" ... for messages */
int kn_sp_seq_len(kn_sp_node n);
kn_sp_node kn_sp_seq_at(kn_sp_node n, int i);
int kn_sp_map_len(kn_sp_node n);
kn_sp_node kn_sp_map_key(kn_sp_node n, int i);
kn_sp_node kn_sp_map_val(kn_sp_node n, int i);
/* Value of `key` in mapping n, or a node with n == NULL. */
kn_sp_node kn_sp_map_get(kn_sp_node n, const char *key);

/* Checks that n is a mapping whose keys are scalars, unique, and in `allowed` (NULL-terminated);
 * `what` names the mapping in messages ("layer", "train"). */
bool kn_sp_check_map(kn_sp_node n, const char *what, const char *const *allowed, kn_diag *d);
/* Checks scalar keys and duplicates only. */
bool kn_sp_check_keys_unique(kn_sp_node n, const char *what, kn_diag *d);

/* Typed scalars: report "expected ..." or range errors at n. */
bool kn_sp_parse_int_text(const char *s, int64_t *out);
bool kn_sp_parse_float_text(const char *s, double *out);
bool kn_sp_get_int(kn_sp_node n, const char *key, int64_t lo, int64_t hi, int64_t *out, kn_diag *d);
bool kn_sp_get_float(kn_sp_node n, const char *key, double lo, double hi, double *out, kn_diag *d);
bool kn_sp_get_bool(kn_sp_node n, const char *key, bool *out, kn_diag *d);
bool kn_sp_get_string(kn_sp_node n, const char *key, const char **out, kn_diag *d);
/* A list of exactly `count` floats, or (when allow_scalar) one float repeated. */
bool kn_sp_get_floats(kn_sp_node n, const char *key, int count, bool allow_scalar, double lo, double hi,
                      double *out, kn_diag *d);
/* Size: n or [h, w]. */
bool kn_sp_get_size(kn_sp_node n, const char *key, int lo, int hi, int out[2], kn_diag *d);
/* The scalar's text, or a copy of a whole sequence of scalars; for scope lists. */
void kn_sp_unknown_key(kn_sp_node key, const char *what, const char *const *allowed, kn_diag *d);

/* ---- expressions (expr.c) ---- */
typedef struct kn_sp_var {
  const char *name; /* not owned */
  char *text;       /* owned: the value as text (numbers printed canonically) */
} kn_sp_var;

typedef struct kn_sp_env {
  const struct kn_sp_env *parent; /* looked up after this one (repeat's `index`) */
  kn_sp_var vars[48];
  int n;
} kn_sp_env;

void kn_sp_env_set(kn_sp_env *e, const char *name, const char *text);
void kn_sp_env_set_int(kn_sp_env *e, const char *name, int64_t v);
const char *kn_sp_env_get(const kn_sp_env *e, const char *name);
void kn_sp_env_free(kn_sp_env *e);
void kn_sp_env_names(const kn_sp_env *e, const char **names, int *n, int cap);
/* Substitutes `$name` / `${expr}` in a scalar. Returns a malloc'd text (the original text when no
 * substitution applies), or NULL with a diagnostic at loc. env may be NULL (no variables). */
char *kn_sp_subst(const char *text, const kn_sp_env *env, kn_loc loc, kn_diag *d);

/* ---- name tables (names.c): string -> int, -1 when absent ---- */
typedef struct kn_sp_names {
  char **keys; /* owned; NULL marks an empty slot */
  int *vals;
  int cap, n;
} kn_sp_names;
int kn_sp_names_get(const kn_sp_names *t, const char *key);
void kn_sp_names_put(kn_sp_names *t, const char *key, int val);
void kn_sp_names_free(kn_sp_names *t);

/* ---- the loader context and its limits (docs/spec.md, "Limits") ---- */
#define KN_SP_MAX_FILES 32
#define KN_SP_MAX_BLOCKS 128
#define KN_SP_MAX_DEPTH 32                /* blocks inside blocks */
#define KN_SP_MAX_FILE_BYTES (1 << 20)    /* one spec or library file */
#define KN_SP_MAX_YAML_DEPTH 64           /* YAML nesting, aliases expanded */
#define KN_SP_MAX_YAML_NODES 1000000      /* YAML nodes of one file, aliases expanded */
#define KN_SP_MAX_LAYERS 10000            /* rows of the expanded model (kiln check) */
#define KN_SP_MAX_LAYER_DEPTH 64          /* nested sequential groups and blocks */
#define KN_SP_MAX_EXPR_DEPTH 64           /* nesting inside ${...} */
#define KN_SP_MAX_IMPORT_DEPTH 16

typedef struct kn_sp_block {
  const char *name;  /* points into the YAML document */
  kn_sp_node def;    /* mapping: params, layers */
  kn_loc loc;
} kn_sp_block;

typedef struct kn_sp {
  kn_diag *d;
  kn_spec *spec;
  kn_graph *g;
  kn_sp_file files[KN_SP_MAX_FILES];
  int n_files;
  kn_sp_block blocks[KN_SP_MAX_BLOCKS];
  int n_blocks;
  /* Block expansion stack, for recursion errors. */
  const char *stack[KN_SP_MAX_DEPTH];
  int depth;
  int row_depth; /* nesting depth of the next kiln-check row */
  kn_sp_names rows; /* full layer name -> row, for duplicates across scopes */
  /* Reuse: while > 0, parameters come from this list instead of being created. */
  int *reuse_params;
  int n_reuse, reuse_pos;
  kn_loc reuse_loc;
  bool reusing;
  /* Where train settings were given, for errors found after parsing. */
  kn_loc aug_loc[2];       /* augment, test_augment (file NULL: the default pipeline) */
  kn_loc input_size_loc;
  kn_loc warmup_loc;
  kn_loc scope_loc[2][KN_MAX_SCOPES]; /* freeze, unfreeze */
} kn_sp;

/* files.c: loads a file (relative paths against `from`'s directory); NULL with a diagnostic. */
kn_sp_file *kn_sp_load_file(kn_sp *c, const char *path, const char *from, kn_loc at);
kn_sp_file *kn_sp_load_text(kn_sp *c, const char *name, const char *text);
/* Registers the blocks of a file and follows its imports. */
bool kn_sp_add_blocks(kn_sp *c, kn_sp_file *f, int import_depth);
const kn_sp_block *kn_sp_find_block(const kn_sp *c, const char *name);
/* Owned string kept by the spec (train strings). */
const char *kn_sp_keep(kn_sp *c, const char *s);

/* train_section.c: applies each train mapping in order (base first). */
bool kn_sp_parse_train(kn_sp *c, const kn_sp_node *maps, int n, kn_train_config *t);
/* Before the graph: command-line overrides, pipeline sizes against the input size. */
bool kn_sp_finish_train(kn_sp *c, kn_train_config *t, const kn_spec_options *o);
/* After the graph: every freeze/unfreeze scope must name something. */
bool kn_sp_check_scopes(kn_sp *c, const kn_train_config *t);

/* layers.c: expands the model's layer list; returns the output value or -1. */
int kn_sp_expand_model(kn_sp *c, kn_sp_node layers, int input, int labels);

/* ops_emit.c: parameters + node for one op layer. Returns the output value or -1. */
int kn_sp_emit_op(kn_sp *c, kn_op op, kn_sp_node args, const kn_sp_env *env, const char *name,
                  const int *inputs, int n_inputs, kn_loc loc);
/* Number of data inputs an op layer takes (parameters excluded). */
void kn_sp_op_arity(kn_op op, int *lo, int *hi);

#endif

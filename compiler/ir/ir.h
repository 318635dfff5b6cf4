/* ir.h — kiln's graph IR: values (tensors with static shapes) and nodes (ops from ops.def).
 *
 * A graph is a list of nodes in topological order (append order). Every node reads input values
 * and defines output values; parameters, running statistics, optimizer state, data inputs and
 * constants are values with no producer. Shapes are static; dimension 0 is the batch N, fixed at
 * compile time (the generated code may run a smaller batch; see docs/architecture.md).
 * Layout is NCHW, float32; labels are int32.
 *
 *   kn_graph *g = kn_graph_create("tiny");
 *   int x = kn_graph_add_input(g, "input", KN_DT_F32, kn_shape4(8, 3, 32, 32));
 *   int w = kn_graph_add_param(g, "conv1.weight", kn_shape4(16, 3, 3, 3));
 *   kn_node *n = kn_graph_add_node(g, KN_OP_CONV2D, "conv1", (int[]){x, w}, 2, loc);
 *   kn_node_set_int(n, KN_ATTR_OUT_CHANNELS, 16); kn_node_set_pair(n, KN_ATTR_KERNEL, 3, 3);
 *   kn_diag d; kn_diag_init(&d);
 *   kn_graph_infer_shapes(g, &d);      // creates the output values of every node
 *   kn_graph_print_text(g, stdout);
 *   kn_graph_dispose(g);
 *
 * Ownership: the graph owns every value, node and name; ids are indices that stay valid until
 * kn_graph_compact() renumbers them.
 */
#ifndef KN_IR_H
#define KN_IR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../support/diag.h"

/* ---- the op and attribute tables ---- */
typedef enum kn_attr_id {
#define KN_ATTR(ID, key, type, def, lo, hi, doc) KN_ATTR_##ID,
#include "attrs.def"
#undef KN_ATTR
  KN_NUM_ATTRS
} kn_attr_id;

typedef enum { KN_ATYPE_INT, KN_ATYPE_PAIR, KN_ATYPE_FLOAT, KN_ATYPE_BOOL, KN_ATYPE_ENUM, KN_ATYPE_INTS } kn_attr_type;

enum { KN_OPF_USER = 1, KN_OPF_GRAD = 2, KN_OPF_UPDATE = 4 };

typedef enum {
  KN_CLASS_HEAVY, KN_CLASS_ELEMENTWISE, KN_CLASS_REDUCE, KN_CLASS_WINDOW,
  KN_CLASS_COPY, KN_CLASS_NORM, KN_CLASS_LOSS, KN_CLASS_UPDATE
} kn_op_class;

typedef enum kn_op {
#define KN_OP(ID, name, cls, imin, imax, omax, flags, mut, attrs) KN_OP_##ID,
#include "ops.def"
#undef KN_OP
  KN_OP_COUNT
} kn_op;

typedef struct kn_op_info {
  const char *name;
  kn_op_class cls;
  int in_min, in_max, out_max;
  unsigned flags;
  unsigned mutates; /* bit i: input i is written in place */
  uint32_t attrs;   /* bit per kn_attr_id */
} kn_op_info;

typedef struct kn_attr_info {
  const char *key;
  kn_attr_type type;
  double def, lo, hi;
  const char *doc;
} kn_attr_info;

extern const kn_op_info kn_op_table[KN_OP_COUNT];
extern const kn_attr_info kn_attr_table[KN_NUM_ATTRS];
/* Names for KN_ATYPE_ENUM attributes: index = stored integer value. */
enum { KN_MODE_NEAREST = 0, KN_MODE_BILINEAR = 1 };
extern const char *const kn_mode_names[2];

/* Looks a YAML op keyword or attribute key up; -1 when unknown. */
int kn_op_lookup(const char *name);
int kn_attr_lookup(const char *key);

/* ---- shapes ---- */
#define KN_MAX_RANK 4
typedef struct kn_shape {
  int rank;
  int64_t d[KN_MAX_RANK];
} kn_shape;

kn_shape kn_shape1(int64_t a);
kn_shape kn_shape2(int64_t a, int64_t b);
kn_shape kn_shape4(int64_t n, int64_t c, int64_t h, int64_t w);
/* Element count; saturates at INT64_MAX instead of overflowing. */
int64_t kn_shape_numel(kn_shape s);
/* The tensor-size limit shape inference enforces on every value (2^32 elements, 16 GiB of fp32),
 * so that byte sizes and arena offsets (sums of at most millions of values) fit in int64. */
#define KN_MAX_TENSOR_ELEMS (INT64_C(1) << 32)
bool kn_shape_eq(kn_shape a, kn_shape b);
/* Writes "[8, 64, 56, 56]" into buf (>= 64 bytes); returns buf. */
char *kn_shape_str(kn_shape s, char *buf);

/* ---- values ---- */
typedef enum {
  KN_DT_F32,
  KN_DT_I32
} kn_dtype;

typedef enum {
  KN_VAL_INPUT,  /* data fed each step: images, labels, learning rate, step count */
  KN_VAL_PARAM,  /* learnable parameter (counted by kn_graph_count_params) */
  KN_VAL_STATE,  /* persistent non-learnable state: BN running stats, optimizer buffers */
  KN_VAL_CONST,  /* constant filled with `fill` */
  KN_VAL_ACT     /* defined by a node: activations and gradients */
} kn_value_kind;

typedef struct kn_value {
  int id;
  char *name;        /* hierarchical, torchvision-style for params ("layer1.0.conv1.weight") */
  kn_value_kind kind;
  kn_dtype dtype;
  kn_shape shape;
  int producer;      /* node id, -1 if none */
  int out_index;     /* which output of the producer */
  bool trainable;    /* PARAM: receives a gradient and an optimizer update */
  float fill;        /* CONST: every element */
  int grad_of;       /* gradient values: the value this is d(loss)/d(.) of; else -1 */
  int init;          /* PARAM/STATE initialiser, kn_init_kind */
} kn_value;

/* How parameters and state start before training (matches PyTorch defaults). */
typedef enum {
  KN_INIT_ZERO, KN_INIT_ONE,
  KN_INIT_KAIMING_UNIFORM, /* conv/linear weight: U(-b, b), b = 1/sqrt(fan_in) (PyTorch's a=sqrt(5)) */
  KN_INIT_FAN_IN_UNIFORM   /* conv/linear bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
} kn_init_kind;

/* ---- nodes ---- */
#define KN_MAX_IN 16
#define KN_MAX_OUT 3

typedef struct kn_attr_val {
  int64_t i[KN_MAX_RANK]; /* INT/BOOL/ENUM: i[0]; PAIR: i[0], i[1]; INTS: i[0..n) */
  int n;                  /* INTS: count */
  double f;               /* FLOAT */
} kn_attr_val;

typedef struct kn_node {
  int id;
  kn_op op;
  char *name;       /* scope, e.g. "layer1.0.conv1"; printed and used for weight names */
  int in[KN_MAX_IN];
  int n_in;
  int out[KN_MAX_OUT];
  int n_out;
  kn_attr_val attr[KN_NUM_ATTRS];
  uint32_t attr_set; /* bit per attribute given explicitly (others read their default) */
  kn_loc loc;        /* where the spec defined it; file NULL for generated nodes */
  bool frozen;       /* inside a frozen scope: its params get no gradient */
  bool dead;         /* removed by a pass; dropped by kn_graph_compact */
  int fwd;           /* backward/update nodes: id of the forward node they come from, else -1 */
  int kernel;        /* fusion group (compiler/passes/kernel_groups.h): 0 = a kernel of its own, k > 0 =
                        emitted with every node of group k as one kernel; kept by clone/compact */
  int inplace;       /* memory-planner hint: 0 = none, k > 0 = output 0 may reuse the buffer of
                        input k-1 (same size, read last here); set by the `inplace` pass */
} kn_node;

typedef struct kn_graph {
  char *name;
  kn_value *vals;
  int n_vals, cap_vals;
  kn_node *nodes;
  int n_nodes, cap_nodes;
  /* Well-known values, -1 when absent. */
  int input;   /* images [N,C,H,W] */
  int labels;  /* [N] i32 */
  int output;  /* class scores (log-probabilities) [N,K] */
  int loss;    /* [1] */
  int lr;      /* [1] learning rate, a run-time input of the training graph */
  int step;    /* [1] optimizer step count (Adam) */
} kn_graph;

kn_graph *kn_graph_create(const char *name);
void kn_graph_dispose(kn_graph *g);
kn_graph *kn_graph_clone(const kn_graph *g);
/* The inference graph of a spec's forward graph: a clone without the loss and the labels
 * (BatchNorm stays in eval mode, as the spec emits it). Caller disposes. */
kn_graph *kn_graph_inference_clone(const kn_graph *fwd);

int kn_graph_add_value(kn_graph *g, const char *name, kn_value_kind kind, kn_dtype dt, kn_shape s);
int kn_graph_add_input(kn_graph *g, const char *name, kn_dtype dt, kn_shape s);
int kn_graph_add_param(kn_graph *g, const char *name, kn_shape s, kn_init_kind init);
int kn_graph_add_state(kn_graph *g, const char *name, kn_shape s, kn_init_kind init);
int kn_graph_add_const(kn_graph *g, const char *name, kn_shape s, float fill);
/* Appends a node; its outputs are created by kn_node_define_outputs (called by shape inference).
 * Returns a pointer valid until the next add. */
kn_node *kn_graph_add_node(kn_graph *g, kn_op op, const char *name, const int *in, int n_in, kn_loc loc);
/* Adds a node and immediately infers its output shapes; returns the node id or -1 with a diagnostic. */
int kn_graph_emit(kn_graph *g, kn_op op, const char *name, const int *in, int n_in, kn_loc loc,
                  kn_diag *d);
kn_value *kn_val(kn_graph *g, int id);
kn_node *kn_node_at(kn_graph *g, int id);
int kn_graph_find_value(const kn_graph *g, const char *name); /* -1 if none */

/* Attribute access: the getters return the default from attrs.def when not set. */
void kn_node_set_int(kn_node *n, kn_attr_id a, int64_t v);
void kn_node_set_pair(kn_node *n, kn_attr_id a, int64_t h, int64_t w);
void kn_node_set_float(kn_node *n, kn_attr_id a, double v);
void kn_node_set_ints(kn_node *n, kn_attr_id a, const int64_t *v, int count);
void kn_node_set_shape(kn_node *n, kn_attr_id a, kn_shape s);
int64_t kn_node_int(const kn_node *n, kn_attr_id a);
int64_t kn_node_pair(const kn_node *n, kn_attr_id a, int which); /* which 0 = h, 1 = w */
double kn_node_float(const kn_node *n, kn_attr_id a);

/* ---- unary elementwise ops of eltwise.def (the op or its _grad) ---- */
typedef struct kn_ew_info {
  kn_op op, grad; /* the forward op and its gradient op */
  bool saves_y;   /* the gradient reads the forward output (else the forward input) */
} kn_ew_info;
/* The eltwise.def row of op (forward or gradient); NULL for every other op. */
const kn_ew_info *kn_ew_find(kn_op op);
/* The formulas' parameter `a` of node n: its float attribute (negative_slope), 0 when none. */
float kn_ew_param(const kn_node *n);
kn_shape kn_node_shape_attr(const kn_node *n, kn_attr_id a);
void kn_node_copy_attrs(kn_node *dst, const kn_node *src);

/* Shape inference for one node: checks input shapes and creates/updates its outputs.
 * Errors name both shapes and go to d at the node's loc. Returns false on error. */
bool kn_node_infer(kn_graph *g, kn_node *n, kn_diag *d);
/* All nodes in order; stops at the first error. */
bool kn_graph_infer_shapes(kn_graph *g, kn_diag *d);
/* Structural checks (ids in range, topological order, arity, shapes consistent);
 * internal errors are reported as diagnostics with no location. */
bool kn_graph_verify(kn_graph *g, kn_diag *d);
/* Drops dead nodes and values no live node uses (except params, state and well-known values),
 * renumbering ids. */
void kn_graph_compact(kn_graph *g);

/* Counts: learnable parameter elements, total and trainable. */
void kn_graph_count_params(const kn_graph *g, int64_t *total, int64_t *trainable);

/* Printers. */
void kn_graph_print_text(const kn_graph *g, FILE *f);
void kn_graph_print_dot(const kn_graph *g, FILE *f);

/* Users of each value: fills counts[n_vals] (caller frees nothing; arrays are caller-provided). */
void kn_graph_count_uses(const kn_graph *g, int *counts);

#endif

/* yaml_limits.c — the YAML limits of a spec file (docs/spec.md, "Limits"), checked before the
 * document is built and again on the built document with aliases expanded: libyaml shares an
 * aliased node instead of copying it, so a 3 KB file of nested anchors can stand for billions
 * of nodes, and an alias inside its own anchor makes a node contain itself. Each check stops at
 * the limit and reports where the limit was crossed. */
#include <stdlib.h>
#include <string.h>

#include "spec_internal.h"
#include "util.h"

kn_loc kn_sp_offset_loc(const char *path, const char *text, size_t len, size_t offset) {
  kn_loc at = {path, 1, 1};
  for (size_t i = 0; i < offset && i < len; i++) {
    if (text[i] == '\n') {
      at.line++;
      at.col = 1;
    } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
      at.col++; /* count characters, not UTF-8 continuation bytes */
    }
  }
  return at;
}

static kn_loc mark_loc(const kn_sp_file *f, yaml_mark_t m) {
  return (kn_loc){f->path, (int)m.line + 1, (int)m.column + 1};
}

bool kn_sp_yaml_prescan(kn_sp_file *f, const char *text, size_t len, kn_diag *d) {
  if (len > KN_SP_MAX_FILE_BYTES) {
    kn_diag_error(d, (kn_loc){f->path, 1, 1}, "split it into block libraries (import:)",
                  "spec file is %zu bytes, over the file-size limit of %d bytes", len, KN_SP_MAX_FILE_BYTES);
    return false;
  }
  /* libyaml's scanner is quadratic in flow nesting: walk the events and stop at the depth limit
   * before the document is built. Syntax errors are left to the loader, which reports them. */
  yaml_parser_t p;
  if (!yaml_parser_initialize(&p)) KN_ASSERT(!"yaml_parser_initialize");
  yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
  int depth = 0;
  long nodes = 0;
  bool ok = true, done = false;
  while (ok && !done) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&p, &ev)) break;
    switch (ev.type) {
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
      if (++depth > KN_SP_MAX_YAML_DEPTH) {
        kn_diag_error(d, mark_loc(f, ev.start_mark), "flatten the spec; blocks can be nested by name",
                      "YAML nested more than %d levels deep (the nesting limit)", KN_SP_MAX_YAML_DEPTH);
        ok = false;
      }
      /* fall through */
    case YAML_SCALAR_EVENT:
    case YAML_ALIAS_EVENT:
      if (ok && ++nodes > KN_SP_MAX_YAML_NODES) {
        kn_diag_error(d, mark_loc(f, ev.start_mark), NULL, "spec has more than %d YAML nodes (the node limit)",
                      KN_SP_MAX_YAML_NODES);
        ok = false;
      }
      break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
      depth--;
      break;
    case YAML_STREAM_END_EVENT:
      done = true;
      break;
    default:
      break;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&p);
  return ok;
}

/* ---- the built document, aliases expanded ---- */
typedef struct {
  kn_sp_file *f;
  kn_diag *d;
  long *size;     /* expanded node count, 0 = not computed; saturates above the limit */
  int *height;    /* expanded nesting below the node */
  char *state;    /* 0 new, 1 on the current path, 2 done */
  bool failed;
} expand_ctx;

static long expand(expand_ctx *x, int id, int depth) {
  yaml_node_t *n = yaml_document_get_node(&x->f->doc, id);
  int i = id - 1;
  kn_loc at = mark_loc(x->f, n->start_mark);
  if (x->state[i] == 1) {
    kn_diag_error(x->d, at, "an alias (*name) may not stand inside the node its anchor (&name) marks",
                  "this YAML node contains itself through an alias");
    x->failed = true;
    return -1;
  }
  if (x->state[i] == 0) {
    x->state[i] = 1;
    long size = 1;
    int height = 0;
    yaml_node_item_t *items = NULL, *items_end = NULL;
    yaml_node_pair_t *pairs = NULL, *pairs_end = NULL;
    if (n->type == YAML_SEQUENCE_NODE) items = n->data.sequence.items.start, items_end = n->data.sequence.items.top;
    if (n->type == YAML_MAPPING_NODE) pairs = n->data.mapping.pairs.start, pairs_end = n->data.mapping.pairs.top;
    int n_kids = (int)(items_end - items) + 2 * (int)(pairs_end - pairs);
    for (int k = 0; k < n_kids && !x->failed; k++) {
      int kid = items ? items[k] : k % 2 ? pairs[k / 2].value : pairs[k / 2].key;
      if (depth + 1 > KN_SP_MAX_YAML_DEPTH) {
        kn_diag_error(x->d, at, "a YAML alias repeats a deep subtree here; flatten the spec",
                      "YAML nested more than %d levels deep with aliases expanded (the nesting limit)",
                      KN_SP_MAX_YAML_DEPTH);
        x->failed = true;
        break;
      }
      long s = expand(x, kid, depth + 1);
      if (s < 0) break;
      size += s;
      if (size > KN_SP_MAX_YAML_NODES) size = KN_SP_MAX_YAML_NODES + 1L;
      if (x->height[kid - 1] + 1 > height) height = x->height[kid - 1] + 1;
    }
    if (x->failed) return -1;
    if (size > KN_SP_MAX_YAML_NODES) {
      kn_diag_error(x->d, at, "YAML aliases repeat this subtree; write the layers out or use repeat:",
                    "spec expands to more than %d YAML nodes with aliases expanded (the node limit)",
                    KN_SP_MAX_YAML_NODES);
      x->failed = true;
      return -1;
    }
    x->size[i] = size;
    x->height[i] = height;
    x->state[i] = 2;
  }
  if (depth + x->height[i] > KN_SP_MAX_YAML_DEPTH) {
    kn_diag_error(x->d, at, "a YAML alias repeats a deep subtree here; flatten the spec",
                  "YAML nested more than %d levels deep with aliases expanded (the nesting limit)",
                  KN_SP_MAX_YAML_DEPTH);
    x->failed = true;
    return -1;
  }
  return x->size[i];
}

bool kn_sp_yaml_check_expansion(kn_sp_file *f, kn_diag *d) {
  int n = (int)(f->doc.nodes.top - f->doc.nodes.start);
  if (n == 0) return true;
  expand_ctx x = {f, d, kn_xcalloc((size_t)n, sizeof(long)), kn_xcalloc((size_t)n, sizeof(int)),
                  kn_xcalloc((size_t)n, 1), false};
  expand(&x, 1, 1);
  free(x.size);
  free(x.height);
  free(x.state);
  return !x.failed;
}

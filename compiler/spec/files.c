/* files.c — the files of a spec: reading and parsing them, `import:` of block libraries
 * (models/blocks/ files) and the table of blocks they define. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spec_internal.h"
#include "util.h"

static char *resolve(const char *path, const char *from) {
  if (path[0] == '/' || !from) return kn_xstrdup(path);
  const char *slash = strrchr(from, '/');
  if (!slash) return kn_xstrdup(path);
  return kn_fmt("%.*s/%s", (int)(slash - from), from, path);
}

static kn_sp_file *new_file(kn_sp *c, const char *path, kn_loc at) {
  if (c->n_files == KN_SP_MAX_FILES) {
    kn_diag_error(c->d, at, NULL, "too many files (the limit is %d)", KN_SP_MAX_FILES);
    return NULL;
  }
  kn_sp_file *f = &c->files[c->n_files++];
  memset(f, 0, sizeof *f);
  f->path = kn_sp_intern(path);
  return f;
}

/* Reads a spec file: a regular file within the file-size limit (a FIFO, a device such as
 * /dev/zero or a huge file would read until memory runs out). NULL with *err set. */
static char *read_spec(const char *path, size_t *len, char *err, size_t cap) {
  struct stat st; /* before opening: opening a FIFO blocks until a writer comes */
  if (stat(path, &st) != 0) {
    snprintf(err, cap, "%s", strerror(errno));
    return NULL;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(err, cap, "%s", S_ISDIR(st.st_mode) ? "it is a directory" : "it is not a regular file");
    return NULL;
  }
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    snprintf(err, cap, "%s", strerror(errno));
    return NULL;
  }
  if (st.st_size > KN_SP_MAX_FILE_BYTES) {
    snprintf(err, cap, "it is %lld bytes, over the file-size limit of %d bytes", (long long)st.st_size,
             KN_SP_MAX_FILE_BYTES);
    fclose(fp);
    return NULL;
  }
  char *buf = kn_xmalloc((size_t)KN_SP_MAX_FILE_BYTES + 2);
  size_t n = fread(buf, 1, (size_t)KN_SP_MAX_FILE_BYTES + 1, fp);
  bool bad = ferror(fp);
  fclose(fp);
  if (bad || n > KN_SP_MAX_FILE_BYTES) {
    snprintf(err, cap, "%s", bad ? "read error" : "it grew over the file-size limit while being read");
    free(buf);
    return NULL;
  }
  buf[n] = 0;
  *len = n;
  return buf;
}

kn_sp_file *kn_sp_load_text(kn_sp *c, const char *name, const char *text) {
  kn_sp_file *f = new_file(c, name, (kn_loc){kn_sp_intern(name), 0, 0});
  if (!f || !kn_sp_parse(f, text, strlen(text), c->d)) return NULL;
  return f;
}

kn_sp_file *kn_sp_load_file(kn_sp *c, const char *path, const char *from, kn_loc at) {
  char *full = resolve(path, from);
  for (int i = 0; i < c->n_files; i++)
    if (!strcmp(c->files[i].path, full)) {
      free(full);
      return &c->files[i];
    }
  char err[160];
  size_t len = 0;
  char *text = read_spec(full, &len, err, sizeof err);
  if (!text) {
    if (!at.file) at.file = kn_sp_intern(full);
    kn_diag_error(c->d, at, NULL, "cannot read '%s': %s", full, err);
    free(full);
    return NULL;
  }
  kn_sp_file *f = new_file(c, full, at);
  free(full);
  bool ok = f && kn_sp_parse(f, text, len, c->d);
  free(text);
  return ok ? f : NULL;
}

const kn_sp_block *kn_sp_find_block(const kn_sp *c, const char *name) {
  for (int i = 0; i < c->n_blocks; i++)
    if (!strcmp(c->blocks[i].name, name)) return &c->blocks[i];
  return NULL;
}

static const char *const block_keys[] = {"params", "layers", "description", NULL};

static bool add_block(kn_sp *c, kn_sp_node key, kn_sp_node def) {
  const char *name = kn_sp_str(key);
  if (kn_op_lookup(name) >= 0 || !strcmp(name, "sequential") || !strcmp(name, "reuse")) {
    kn_diag_error(c->d, kn_sp_loc(key), "choose another name", "block '%s' has the name of a built-in layer", name);
    return false;
  }
  const kn_sp_block *old = kn_sp_find_block(c, name);
  if (old) {
    char hint[512];
    snprintf(hint, sizeof hint, "first defined at %s:%d:%d", old->loc.file, old->loc.line, old->loc.col);
    kn_diag_error(c->d, kn_sp_loc(key), hint, "block '%s' is defined twice", name);
    return false;
  }
  char what[160];
  snprintf(what, sizeof what, "block '%s'", name);
  if (!kn_sp_check_map(def, what, block_keys, c->d)) return false;
  kn_sp_node params = kn_sp_map_get(def, "params"), layers = kn_sp_map_get(def, "layers");
  if (params.n && !kn_sp_is_null(params)) {
    snprintf(what, sizeof what, "params of block '%s'", name);
    if (!kn_sp_is_map(params)) {
      kn_diag_error(c->d, kn_sp_loc(params), "write params: {name: default, other: ~}", "%s must be a mapping", what);
      return false;
    }
    if (!kn_sp_check_keys_unique(params, what, c->d)) return false;
    for (int i = 0; i < kn_sp_map_len(params); i++) {
      kn_sp_node k = kn_sp_map_key(params, i), v = kn_sp_map_val(params, i);
      if (!kn_sp_is_scalar(v)) {
        kn_diag_error(c->d, kn_sp_loc(v), "defaults are scalars; ~ marks a required parameter",
                      "default of parameter '%s' must be a scalar, not %s", kn_sp_str(k), kn_sp_type_name(v));
        return false;
      }
      if (!strcmp(kn_sp_str(k), "in_channels") || !strcmp(kn_sp_str(k), "index")) {
        kn_diag_error(c->d, kn_sp_loc(k), "it is set by kiln", "parameter name '%s' is reserved", kn_sp_str(k));
        return false;
      }
    }
  }
  if (!kn_sp_is_seq(layers) || kn_sp_seq_len(layers) == 0) {
    kn_diag_error(c->d, kn_sp_loc(layers.n ? layers : def), "a block is a list of layers",
                  "block '%s' needs a non-empty 'layers:' list", name);
    return false;
  }
  KN_ASSERT(c->n_blocks < KN_SP_MAX_BLOCKS);
  c->blocks[c->n_blocks++] = (kn_sp_block){name, def, kn_sp_loc(key)};
  return true;
}

bool kn_sp_add_blocks(kn_sp *c, kn_sp_file *f, int import_depth) {
  if (f->blocks_added) return true;
  f->blocks_added = true;
  kn_sp_node root = kn_sp_root(f);
  kn_sp_node imp = kn_sp_map_get(root, "import");
  if (imp.n && !kn_sp_is_null(imp)) {
    int n = kn_sp_is_seq(imp) ? kn_sp_seq_len(imp) : 1;
    for (int i = 0; i < n; i++) {
      kn_sp_node it = kn_sp_is_seq(imp) ? kn_sp_seq_at(imp, i) : imp;
      if (!kn_sp_is_scalar(it) || kn_sp_is_null(it)) {
        kn_diag_error(c->d, kn_sp_loc(it), "write import: [blocks/resnet.yaml]", "an import is a file name, not %s",
                      kn_sp_type_name(it));
        return false;
      }
      if (import_depth > KN_SP_MAX_IMPORT_DEPTH) {
        kn_diag_error(c->d, kn_sp_loc(it), NULL, "imports nested more than %d deep (the import-depth limit)",
                      KN_SP_MAX_IMPORT_DEPTH);
        return false;
      }
      kn_sp_file *lib = kn_sp_load_file(c, kn_sp_str(it), f->path, kn_sp_loc(it));
      if (!lib) return false;
      kn_sp_node lr = kn_sp_root(lib);
      static const char *const lib_keys[] = {"import", "blocks", "description", NULL};
      if (!kn_sp_check_map(lr, "block library", lib_keys, c->d)) return false;
      if (!kn_sp_add_blocks(c, lib, import_depth + 1)) return false;
    }
  }
  kn_sp_node blocks = kn_sp_map_get(root, "blocks");
  if (!blocks.n || kn_sp_is_null(blocks)) return true;
  if (!kn_sp_is_map(blocks)) {
    kn_diag_error(c->d, kn_sp_loc(blocks), "write blocks: {name: {params: ..., layers: [...]}}",
                  "'blocks' must be a mapping, not %s", kn_sp_type_name(blocks));
    return false;
  }
  if (!kn_sp_check_keys_unique(blocks, "blocks", c->d)) return false;
  for (int i = 0; i < kn_sp_map_len(blocks); i++)
    if (!add_block(c, kn_sp_map_key(blocks, i), kn_sp_map_val(blocks, i))) return false;
  return true;
}

const char *kn_sp_keep(kn_sp *c, const char *s) {
  kn_spec *sp = c->spec;
  sp->strings = kn_xrealloc(sp->strings, (size_t)(sp->n_strings + 1) * sizeof *sp->strings);
  sp->strings[sp->n_strings] = kn_xstrdup(s);
  return sp->strings[sp->n_strings++];
}

/* objcache.c — the persistent kernel object cache (objcache.h): checked entries, atomic writes,
 * LRU trimming by file time. */
#include "objcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define KN_OBJ_MAGIC "KILNOBJ1"
#define KN_OBJ_HDR 28 /* magic 8, key length 4, payload length 8, checksum 8 */

struct kn_objcache {
  char *dir;
  int64_t max_bytes;
  pthread_mutex_t lock;
  int hits, misses, bad, tmp_serial;
};

uint64_t kn_fnv1a(uint64_t h, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

char *kn_objcache_default_dir(void) {
  const char *x = getenv("XDG_CACHE_HOME");
  if (x && *x == '/') return kn_fmt("%s/kiln", x);
  const char *home = getenv("HOME");
  return home && *home ? kn_fmt("%s/.cache/kiln", home) : NULL;
}

static bool mkdir_p(const char *path) {
  char *p = kn_xstrdup(path);
  bool ok = true;
  for (char *s = p + 1; ok; s++) {
    if (*s != '/' && *s) continue;
    char c = *s;
    *s = 0;
    if (mkdir(p, 0777) != 0 && errno != EEXIST) ok = false;
    *s = c;
    if (!c) break;
  }
  free(p);
  return ok;
}

kn_objcache *kn_objcache_open(const char *dir) {
  char *d = dir ? kn_xstrdup(dir) : kn_objcache_default_dir();
  if (!d || !mkdir_p(d)) {
    fprintf(stderr, "kiln: warning: cannot create the kernel cache directory '%s'; compiling without the cache\n",
            d ? d : "(neither XDG_CACHE_HOME nor HOME is set)");
    free(d);
    return NULL;
  }
  kn_objcache *c = kn_xcalloc(1, sizeof *c);
  c->dir = d;
  const char *mb = getenv("KILN_CACHE_MAX_MB");
  double m = mb ? atof(mb) : 0;
  c->max_bytes = (int64_t)((m > 0 && m < 1e9 ? m : 1024) * 1048576.0);
  pthread_mutex_init(&c->lock, NULL);
  return c;
}

void kn_objcache_close(kn_objcache *c) {
  if (!c) return;
  pthread_mutex_destroy(&c->lock);
  free(c->dir);
  free(c);
}

const char *kn_objcache_dir(const kn_objcache *c) { return c->dir; }

void kn_objcache_counts(const kn_objcache *c, int *hits, int *misses, int *bad) {
  *hits = c->hits, *misses = c->misses, *bad = c->bad;
}

static void count(kn_objcache *c, int *n) {
  pthread_mutex_lock(&c->lock);
  (*n)++;
  pthread_mutex_unlock(&c->lock);
}

static char *entry_path(const kn_objcache *c, const char *key) {
  size_t n = strlen(key);
  uint64_t a = kn_fnv1a(KN_FNV_SEED, key, n), b = kn_fnv1a(0x84222325cbf29ce4ull, key, n);
  return kn_fmt("%s/%016llx%016llx.kobj", c->dir, (unsigned long long)a, (unsigned long long)b);
}

static uint64_t get_u64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static void put_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Why entry bytes f[0..n) cannot be used for key, or NULL when they can. */
static const char *check_entry(const unsigned char *f, size_t n, const char *key, bool *other_key) {
  size_t klen = strlen(key);
  *other_key = false;
  if (n < KN_OBJ_HDR || memcmp(f, KN_OBJ_MAGIC, 8)) return n < KN_OBJ_HDR ? "truncated" : "not a kiln cache entry";
  uint64_t kl = (uint64_t)f[8] | (uint64_t)f[9] << 8 | (uint64_t)f[10] << 16 | (uint64_t)f[11] << 24;
  uint64_t pl = get_u64(f + 12);
  if (kl > n || pl > n || KN_OBJ_HDR + kl + pl != n) return KN_OBJ_HDR + kl + pl > n ? "truncated" : "of the wrong size";
  uint64_t sum = kn_fnv1a(kn_fnv1a(KN_FNV_SEED, f + KN_OBJ_HDR, kl), f + KN_OBJ_HDR + kl, pl);
  if (sum != get_u64(f + 20)) return "corrupt (checksum mismatch)";
  *other_key = kl != klen || memcmp(f + KN_OBJ_HDR, key, klen);
  return NULL;
}

void *kn_objcache_get(kn_objcache *c, const char *key, size_t *len) {
  char *path = entry_path(c, key);
  size_t n = 0;
  const char *err = NULL;
  unsigned char *f = (unsigned char *)kn_read_file(path, &n, &err);
  void *out = NULL;
  if (f) {
    bool other;
    const char *why = check_entry(f, n, key, &other);
    if (why) {
      fprintf(stderr, "kiln: warning: kernel cache entry '%s' is %s: deleted, the kernel is compiled again\n", path, why);
      unlink(path);
      count(c, &c->bad);
    } else if (!other) {
      size_t kl = strlen(key);
      *len = n - KN_OBJ_HDR - kl;
      out = kn_xmalloc(*len ? *len : 1);
      memcpy(out, f + KN_OBJ_HDR + kl, *len);
      utimensat(AT_FDCWD, path, NULL, 0); /* most recently used */
    }
  }
  count(c, out ? &c->hits : &c->misses);
  free(f);
  free(path);
  return out;
}

bool kn_objcache_put(kn_objcache *c, const char *key, const void *payload, size_t len) {
  char *path = entry_path(c, key);
  pthread_mutex_lock(&c->lock);
  int serial = c->tmp_serial++;
  pthread_mutex_unlock(&c->lock);
  char *tmp = kn_fmt("%s/.tmp-%d-%d", c->dir, (int)getpid(), serial);
  size_t kl = strlen(key);
  unsigned char h[KN_OBJ_HDR];
  memcpy(h, KN_OBJ_MAGIC, 8);
  for (int i = 0; i < 4; i++) h[8 + i] = (unsigned char)(kl >> (8 * i));
  put_u64(h + 12, len);
  put_u64(h + 20, kn_fnv1a(kn_fnv1a(KN_FNV_SEED, key, kl), payload, len));
  FILE *f = fopen(tmp, "wb");
  bool ok = f && fwrite(h, 1, sizeof h, f) == sizeof h && fwrite(key, 1, kl, f) == kl &&
            fwrite(payload, 1, len, f) == len;
  if (f && fclose(f) != 0) ok = false;
  if (ok && rename(tmp, path) != 0) ok = false;
  if (!ok) unlink(tmp);
  free(tmp);
  free(path);
  return ok;
}

typedef struct {
  char *path;
  int64_t size;
  double mtime;
} entry_info;

static int by_mtime(const void *a, const void *b) {
  double x = ((const entry_info *)a)->mtime, y = ((const entry_info *)b)->mtime;
  return x < y ? -1 : x > y;
}

/* The entries of the directory (and, with tmp_too, temporary files older than an hour). */
static entry_info *list_entries(kn_objcache *c, int *n, bool tmp_too) {
  entry_info *v = NULL;
  int cap = 0;
  *n = 0;
  DIR *dir = opendir(c->dir);
  if (!dir) return NULL;
  time_t now = time(NULL);
  for (struct dirent *e; (e = readdir(dir));) {
    size_t l = strlen(e->d_name);
    bool entry = l > 5 && !strcmp(e->d_name + l - 5, ".kobj"), tmp = !strncmp(e->d_name, ".tmp-", 5);
    if (!entry && !(tmp && tmp_too)) continue;
    char *p = kn_fmt("%s/%s", c->dir, e->d_name);
    struct stat st;
    if (stat(p, &st) != 0 || (tmp && now - st.st_mtime < 3600)) {
      free(p);
      continue;
    }
    if (*n == cap) v = kn_xrealloc(v, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *v);
    v[(*n)++] = (entry_info){p, (int64_t)st.st_size, (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec * 1e-9};
  }
  closedir(dir);
  return v;
}

static void free_entries(entry_info *v, int n) {
  for (int i = 0; i < n; i++) free(v[i].path);
  free(v);
}

void kn_objcache_stat(kn_objcache *c, kn_objcache_stats *s) {
  int n;
  entry_info *v = list_entries(c, &n, false);
  *s = (kn_objcache_stats){n, 0, c->max_bytes};
  for (int i = 0; i < n; i++) s->bytes += v[i].size;
  free_entries(v, n);
}

void kn_objcache_trim(kn_objcache *c) {
  int n;
  entry_info *v = list_entries(c, &n, true);
  int64_t total = 0;
  for (int i = 0; i < n; i++)
    if (!strstr(v[i].path, "/.tmp-")) total += v[i].size;
  qsort(v, (size_t)n, sizeof *v, by_mtime);
  for (int i = 0; i < n; i++) {
    bool tmp = strstr(v[i].path, "/.tmp-") != NULL; /* left by a killed compile, an hour old */
    if (!tmp && total <= c->max_bytes / 10 * 9) continue;
    if (unlink(v[i].path) == 0 && !tmp) total -= v[i].size;
  }
  free_entries(v, n);
}

int kn_objcache_clean(kn_objcache *c) {
  int n, removed = 0;
  entry_info *v = list_entries(c, &n, true);
  for (int i = 0; i < n; i++) removed += unlink(v[i].path) == 0;
  free_entries(v, n);
  return removed;
}

/* objcache.h — kiln's persistent cache of compiled kernel objects: a directory of entries, each
 * one blob (an object file) stored under a key text that names everything the blob depends on.
 *
 *   kn_objcache *c = kn_objcache_open(NULL);   // $XDG_CACHE_HOME/kiln or ~/.cache/kiln
 *   size_t n; char *obj = kn_objcache_get(c, key, &n);   // NULL: miss (or a bad entry, reported)
 *   if (!obj) { ...compile...; kn_objcache_put(c, key, bytes, len); }
 *   kn_objcache_trim(c);                       // evict least recently used entries over the bound
 *   kn_objcache_close(c);
 *
 * Entry file <dir>/<32 hex digits of the key hash>.kobj: magic "KILNOBJ1", key length (u32),
 * payload length (u64), FNV-1a 64 checksum of key and payload (u64), the key, the payload. A
 * reader checks the size, the magic, the key and the checksum, so a truncated or corrupted entry
 * is reported on stderr, deleted and never used; the caller then rebuilds and rewrites it. Writers
 * use a unique temporary file and rename(2), so concurrent compiles never see half an entry. The
 * size bound is $KILN_CACHE_MAX_MB megabytes (default 1024; fractions allowed). Thread-safe: get and put may run on several
 * threads at once. */
#ifndef KN_OBJCACHE_H
#define KN_OBJCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kn_objcache kn_objcache;

typedef struct kn_objcache_stats {
  int entries;
  int64_t bytes, max_bytes;
} kn_objcache_stats;

/* The cache directory (created when missing; NULL dir = the default above). NULL when it cannot
 * be created; the reason goes to stderr once. */
kn_objcache *kn_objcache_open(const char *dir);
void kn_objcache_close(kn_objcache *c);
const char *kn_objcache_dir(const kn_objcache *c);
/* The default directory (caller frees); NULL when neither XDG_CACHE_HOME nor HOME is set. */
char *kn_objcache_default_dir(void);

/* The payload stored under key (caller frees), or NULL. Refreshes the entry's time (LRU). */
void *kn_objcache_get(kn_objcache *c, const char *key, size_t *len);
/* Stores payload under key; false (silently) when the directory is not writable. */
bool kn_objcache_put(kn_objcache *c, const char *key, const void *payload, size_t len);
/* Deletes least recently used entries until the cache is under 90% of its bound. */
void kn_objcache_trim(kn_objcache *c);
void kn_objcache_stat(kn_objcache *c, kn_objcache_stats *s);
/* Deletes every entry (and stale temporary files); returns how many files were removed. */
int kn_objcache_clean(kn_objcache *c);

/* Hits, misses and bad entries seen by this handle. */
void kn_objcache_counts(const kn_objcache *c, int *hits, int *misses, int *bad);

/* 64-bit FNV-1a, continuing from h (start with KN_FNV_SEED). */
#define KN_FNV_SEED 0xcbf29ce484222325ull
uint64_t kn_fnv1a(uint64_t h, const void *data, size_t len);

#endif

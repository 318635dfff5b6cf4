/* cmd_cache.c — `kiln cache stats|clean|dir`: the kernel object cache of `kiln compile`
 * (support/objcache.h): where it is, how big, and emptying it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "objcache.h"

static void usage(FILE *f) {
  fputs("usage: kiln cache stats|clean|dir\n\n"
        "kiln compile keeps the optimised object code of every specialised kernel in a cache, keyed\n"
        "by the kernel's bitcode and constants, the target CPU and features, the options and the\n"
        "kiln build, so a recompile after a pass-flag change compiles only the kernels that changed.\n\n"
        "  stats   print the directory, the number of entries, their size and the bound\n"
        "  clean   delete every entry\n"
        "  dir     print the directory\n\n"
        "The directory is $XDG_CACHE_HOME/kiln, or ~/.cache/kiln when XDG_CACHE_HOME is unset. The\n"
        "cache is trimmed to 90% of $KILN_CACHE_MAX_MB (default 1024) megabytes, least recently\n"
        "used entries first, after each compile that adds to it. A damaged entry is reported,\n"
        "deleted and rebuilt. 'kiln compile --no-cache' neither reads nor writes it.\n",
        f);
}

int kn_cmd_cache(int argc, char **argv) {
  if (argc != 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
    usage(argc == 2 ? stdout : stderr);
    return argc == 2 ? KN_EXIT_OK : KN_EXIT_USAGE;
  }
  const char *what = argv[1];
  if (strcmp(what, "stats") && strcmp(what, "clean") && strcmp(what, "dir")) {
    fprintf(stderr, "kiln cache: unknown action '%s' (use stats, clean or dir)\n", what);
    return KN_EXIT_USAGE;
  }
  kn_objcache *c = kn_objcache_open(NULL);
  if (!c) return KN_EXIT_USER;
  if (!strcmp(what, "dir")) printf("%s\n", kn_objcache_dir(c));
  else if (!strcmp(what, "clean")) printf("removed %d files from %s\n", kn_objcache_clean(c), kn_objcache_dir(c));
  else {
    kn_objcache_stats s;
    kn_objcache_stat(c, &s);
    printf("directory  %s\nentries    %d\nsize       %.1f MB of %.0f MB\n", kn_objcache_dir(c), s.entries,
           (double)s.bytes / 1048576.0, (double)s.max_bytes / 1048576.0);
  }
  kn_objcache_close(c);
  return KN_EXIT_OK;
}

/* cpu_link.c — links a model object with the executable runtime (runtime/exe, libkiln_exe.a,
 * and libkilnrt.a when it exists) using the system C compiler. The library is looked up in
 * $KILN_RUNTIME_DIR, next to the kiln binary, then in the build tree kiln came from. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codegen_cpu.h"
#include "util.h"

#ifndef KN_EXE_LIB
#define KN_EXE_LIB ""
#endif
#ifndef KN_RT_LIB
#define KN_RT_LIB ""
#endif
#ifndef KN_EXE_LINK_FLAGS
#define KN_EXE_LINK_FLAGS ""
#endif

static bool readable(const char *p) { return p && *p && access(p, R_OK) == 0; }

static char *sibling(const char *lib, const char *name) {
  const char *slash = strrchr(lib, '/');
  return slash ? kn_fmt("%.*s/%s", (int)(slash - lib), lib, name) : kn_xstrdup(name);
}

const char *kn_cpu_runtime_lib(void) {
  static char found[PATH_MAX + 64];
  const char *env = getenv("KILN_RUNTIME_DIR");
  if (env) {
    snprintf(found, sizeof found, "%s/libkiln_exe.a", env);
    if (readable(found)) return found;
  }
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (slash) {
      *slash = 0;
      snprintf(found, sizeof found, "%s/libkiln_exe.a", self);
      if (readable(found)) return found;
      snprintf(found, sizeof found, "%s/runtime/exe/libkiln_exe.a", self);
      if (readable(found)) return found;
    }
  }
  return readable(KN_EXE_LIB) ? KN_EXE_LIB : NULL;
}

bool kn_cpu_link_exe(const char *obj, const char *out, kn_diag *d) {
  static kn_loc noloc;
  const char *lib = kn_cpu_runtime_lib();
  if (!lib) {
    kn_diag_error(d, noloc, "build kiln's runtime (target kiln_exe) or set KILN_RUNTIME_DIR",
                  "cannot find the executable runtime libkiln_exe.a");
    return false;
  }
  char *rt = sibling(lib, "../libkilnrt.a");
  if (!readable(rt)) {
    free(rt);
    rt = kn_xstrdup(readable(KN_RT_LIB) ? KN_RT_LIB : "");
  }
  const char *cc = getenv("CC") ? getenv("CC") : "cc";
  char *tmp = kn_fmt("%s.tmp%d", out, (int)getpid());
  char *log = kn_fmt("%s.link%d.log", out, (int)getpid());
  char *cmd = kn_fmt("%s -o '%s' '%s' '%s' %s%s%s %s -Wl,-Bstatic -lpng16 -lz -ljpeg -Wl,-Bdynamic -lpthread -lm -ldl > '%s' 2>&1", cc, tmp, obj, lib,
                     *rt ? "'" : "", rt, *rt ? "'" : "", KN_EXE_LINK_FLAGS, log);
  int rc = system(cmd);
  bool ok = rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
  if (ok && rename(tmp, out) != 0) ok = false;
  if (!ok) {
    size_t len = 0;
    const char *err = NULL;
    char *msg = kn_read_file(log, &len, &err);
    kn_diag_error(d, noloc, "the command was: see above", "linking '%s' failed:\n%s", out, msg ? msg : "(no output)");
    free(msg);
    fprintf(stderr, "kiln: link command: %s\n", cmd);
    unlink(tmp);
  }
  unlink(log);
  free(cmd);
  free(tmp);
  free(log);
  free(rt);
  return ok;
}

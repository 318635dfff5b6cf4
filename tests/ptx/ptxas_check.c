/* ptxas_check.c — see ptxas_check.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ptxas_check.h"
#include "util.h"

bool kn_test_ptxas_found(const char *path) { return path && *path && access(path, X_OK) == 0; }

bool kn_test_ptxas(const char *ptxas, const char *ptx, const char *arch, const char *what) {
  char dir[] = "/tmp/kn_ptxas_XXXXXX";
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return false;
  }
  char *in = kn_fmt("%s/m.ptx", dir), *out = kn_fmt("%s/m.cubin", dir), *log = kn_fmt("%s/log", dir);
  bool ok = kn_write_file_atomic(in, ptx, strlen(ptx));
  if (ok) {
    char *cmd = kn_fmt("'%s' -arch=%s -o '%s' '%s' > '%s' 2>&1", ptxas, arch, out, in, log);
    ok = system(cmd) == 0;
    free(cmd);
    if (!ok) {
      size_t n;
      const char *err;
      char *text = kn_read_file(log, &n, &err);
      fprintf(stderr, "ptxas -arch=%s failed for %s:\n%s\n", arch, what, text ? text : err);
      free(text);
    }
  }
  remove(in);
  remove(out);
  remove(log);
  rmdir(dir);
  free(in);
  free(out);
  free(log);
  return ok;
}

/* cpu_rename.c — renaming a module's exported symbols for multi-target executables
 * (kn_cpu_module_rename_symbols, codegen_cpu.h). */
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "util.h"

static void rename_value(LLVMValueRef v, const char *suffix) {
  if (LLVMIsDeclaration(v)) return; /* references to the runtime and libc stay */
  LLVMLinkage l = LLVMGetLinkage(v);
  if (l == LLVMInternalLinkage || l == LLVMPrivateLinkage) return;
  size_t len;
  const char *name = LLVMGetValueName2(v, &len);
  if (!len) return;
  char *to = kn_fmt("%.*s%s", (int)len, name, suffix);
  LLVMSetValueName2(v, to, strlen(to));
  free(to);
}

void kn_cpu_module_rename_symbols(kn_cpu_module *m, const char *suffix) {
  LLVMModuleRef mod = kn_cpu_module_llvm(m);
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) rename_value(f, suffix);
  for (LLVMValueRef g = LLVMGetFirstGlobal(mod); g; g = LLVMGetNextGlobal(g)) rename_value(g, suffix);
}

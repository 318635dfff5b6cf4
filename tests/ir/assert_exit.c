/* assert_exit.c — a failed KN_ASSERT ends the process with KN_EXIT_INTERNAL (3), the documented
 * status of internal errors, not with abort()'s 134. Registered with the expected exit status
 * checked by the test below (ir.assert_exit). */
#include <stdlib.h>

#include "diag.h"

int main(void) {
  unsetenv("KILN_ABORT");
  KN_ASSERT(1 + 1 == 3);
  return 0;
}

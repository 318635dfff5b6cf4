/* kn_gpu_prefetch.h — internal to libkilnrt_cuda: what kn_gpu_model.c (the entry points of a
 * --target=cuda executable) and kn_gpu_prefetch.c (the kn_model_prefetch hook of kilnrt.h: the
 * next batch staged in pinned memory and uploaded on a second stream) call of each other.
 *
 *   entry call:  if (kn_gpu_prefetch_take(cu, index, dev_work)) ...  // staged inputs, no upload
 */
#ifndef KN_GPU_PREFETCH_H
#define KN_GPU_PREFETCH_H

#include <stdbool.h>

#include "kilnrt.h"
#include "kn_cuda.h"

/* kn_gpu_model.c */
int kn_gpu_open(char *why, int why_len); /* kn_model_device.open */
kn_cuda *kn_gpu_cuda(void);              /* the open device, or NULL */
void kn_gpu_die(void);                   /* prints "error: CUDA: <cu->error>", exits 1 */
void kn_gpu_complete_pending(void);      /* finishes an entry call that returned early */
bool kn_gpu_is_input(const kn_tensor_desc *t); /* an input the host hands over (work region) */

/* kn_gpu_prefetch.c */
/* When inputs are staged for `entry`: queues on cu->stream a wait for their upload and their copy
 * into the device work region at the tensors' offsets, and returns true. Else false. */
bool kn_gpu_prefetch_take(kn_cuda *cu, int entry, kn_cu_deviceptr work);
void kn_gpu_prefetch_free(kn_cuda *cu); /* at exit, before the driver is closed */

#endif

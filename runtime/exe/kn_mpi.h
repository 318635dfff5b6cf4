/* kn_mpi.h — the few MPI functions a data-parallel kiln executable calls, loaded with dlopen from
 * Open MPI's libmpi.so.40 at run time, so an executable started alone needs no MPI library
 * (`ldd` shows none) and a machine without MPI runs it unchanged.
 *
 * No mpi.h: Open MPI's handles are the addresses of exported globals (MPI_COMM_WORLD is
 * &ompi_mpi_comm_world, MPI_FLOAT &ompi_mpi_float, MPI_SUM &ompi_mpi_op_sum), which mpi.h turns
 * into link-time references; kn_mpi_load resolves them with dlsym instead. Requests are pointers,
 * MPI_IN_PLACE is (void *)1 and MPI_STATUS_IGNORE NULL in that ABI. Other MPI implementations
 * (MPICH's libmpi.so.12, with integer handles) are not supported.
 *
 *   kn_mpi m;
 *   if (!kn_mpi_load(&m, err, sizeof err)) ... "cannot load Open MPI: ..." ...
 *   m.Init(NULL, NULL); m.Comm_rank(m.comm_world, &rank);
 */
#ifndef KN_MPI_H
#define KN_MPI_H

#include <stdbool.h>
#include <stddef.h>

typedef void *kn_mpi_handle;  /* MPI_Comm, MPI_Datatype, MPI_Op, MPI_Errhandler */
typedef void *kn_mpi_request; /* MPI_Request */
#define KN_MPI_IN_PLACE ((void *)1)

typedef struct kn_mpi {
  void *lib;
  kn_mpi_handle comm_world, t_float, t_double, t_byte, t_int64, op_sum, errors_are_fatal;
  int (*Init)(int *argc, char ***argv);
  int (*Finalize)(void);
  int (*Abort)(kn_mpi_handle comm, int code);
  int (*Comm_rank)(kn_mpi_handle comm, int *rank);
  int (*Comm_size)(kn_mpi_handle comm, int *size);
  int (*Comm_set_errhandler)(kn_mpi_handle comm, kn_mpi_handle eh);
  int (*Iallreduce)(const void *send, void *recv, int count, kn_mpi_handle type, kn_mpi_handle op,
                    kn_mpi_handle comm, kn_mpi_request *req);
  int (*Iallgather)(const void *send, int scount, kn_mpi_handle stype, void *recv, int rcount,
                    kn_mpi_handle rtype, kn_mpi_handle comm, kn_mpi_request *req);
  int (*Ibcast)(void *buf, int count, kn_mpi_handle type, int root, kn_mpi_handle comm, kn_mpi_request *req);
  int (*Test)(kn_mpi_request *req, int *flag, void *status);
} kn_mpi;

/* dlopens libmpi.so.40 (RTLD_GLOBAL: Open MPI's plugins resolve symbols against it) and fills m;
 * false with a message in err when the library or a symbol is missing. */
bool kn_mpi_load(kn_mpi *m, char *err, size_t errlen);

#endif

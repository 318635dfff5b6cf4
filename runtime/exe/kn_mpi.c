/* kn_mpi.c — dlopen of Open MPI's libmpi.so.40 (see kn_mpi.h). */
#include "kn_mpi.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

bool kn_mpi_load(kn_mpi *m, char *err, size_t errlen) {
  memset(m, 0, sizeof *m);
  const char *names[] = {"libmpi.so.40", "libmpi.so"};
  for (size_t i = 0; i < sizeof names / sizeof names[0] && !m->lib; i++)
    m->lib = dlopen(names[i], RTLD_NOW | RTLD_GLOBAL);
  if (!m->lib) {
    snprintf(err, errlen, "cannot load Open MPI's libmpi.so.40 (%s); install openmpi-bin (scripts/deps.sh)", dlerror());
    return false;
  }
  struct {
    const char *name;
    void **dst;
  } syms[] = {
      {"ompi_mpi_comm_world", &m->comm_world},
      {"ompi_mpi_float", &m->t_float},
      {"ompi_mpi_double", &m->t_double},
      {"ompi_mpi_byte", &m->t_byte},
      {"ompi_mpi_long_long_int", &m->t_int64},
      {"ompi_mpi_op_sum", &m->op_sum},
      {"ompi_mpi_errors_are_fatal", &m->errors_are_fatal},
      {"MPI_Init", (void **)&m->Init},
      {"MPI_Finalize", (void **)&m->Finalize},
      {"MPI_Abort", (void **)&m->Abort},
      {"MPI_Comm_rank", (void **)&m->Comm_rank},
      {"MPI_Comm_size", (void **)&m->Comm_size},
      {"MPI_Comm_set_errhandler", (void **)&m->Comm_set_errhandler},
      {"MPI_Iallreduce", (void **)&m->Iallreduce},
      {"MPI_Iallgather", (void **)&m->Iallgather},
      {"MPI_Ibcast", (void **)&m->Ibcast},
      {"MPI_Test", (void **)&m->Test},
  };
  for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
    *syms[i].dst = dlsym(m->lib, syms[i].name);
    if (!*syms[i].dst) {
      snprintf(err, errlen, "libmpi has no symbol %s: only Open MPI (libmpi.so.40) is supported", syms[i].name);
      dlclose(m->lib);
      m->lib = NULL;
      return false;
    }
  }
  return true;
}

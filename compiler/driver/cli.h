/* cli.h — argument helpers shared by the kiln subcommands that read a spec (check, dump, compile).
 *
 *   for each argv[i]:  r = kn_cli_spec_option(cmd, argc, argv, &i, &o)   --batch N, --input HxW
 *                      else if (!kn_cli_file_arg(cmd, a, &file)) return KN_EXIT_USAGE;
 *   after the loop:    if (!kn_cli_args_ok(&pass_diag, file, usage)) return KN_EXIT_USAGE;
 *                      kn_spec *s = kn_cli_load_spec(file, &o);            NULL: KN_EXIT_USER */
#ifndef KN_CLI_H
#define KN_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "diag.h"
#include "spec.h"

/* --batch N, --input HxW. Returns 1 when argv[*i] was one of them (consuming its value), 0 when
 * not, -1 after printing a usage error. */
int kn_cli_spec_option(const char *cmd, int argc, char **argv, int *i, kn_spec_options *o);
/* An argument no option took: FILE (stored in *file; only one) or an unknown option. Returns false
 * after printing the usage error. */
bool kn_cli_file_arg(const char *cmd, const char *a, const char **file);
/* After parsing: prints and frees the pass-flag diagnostics `pass_diag` (NULL: none); prints
 * usage to stderr when no FILE was given. Returns false when the command should exit with
 * KN_EXIT_USAGE. */
bool kn_cli_args_ok(kn_diag *pass_diag, const char *file, void (*usage)(FILE *));
/* Loads FILE, printing its diagnostics; NULL when it has errors. */
kn_spec *kn_cli_load_spec(const char *file, const kn_spec_options *o);

#endif

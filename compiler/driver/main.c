/* main.c — the `kiln` command line: dispatches to the subcommands listed in commands.def. */
#include <stdio.h>
#include <string.h>

#include "diag.h"

#define KN_CMD(name, fn, doc) int fn(int argc, char **argv);
#include "commands.def"
#undef KN_CMD

typedef struct {
  const char *name;
  int (*fn)(int, char **);
  const char *doc;
} kn_command;

static const kn_command commands[] = {
#define KN_CMD(name, fn, doc) {#name, fn, doc},
#include "commands.def"
#undef KN_CMD
};
#define N_COMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void usage(FILE *f) {
  fputs("usage: kiln <command> [options] FILE\n\n"
        "kiln compiles convolutional networks described in YAML into standalone executables\n"
        "that train, evaluate and classify.\n\ncommands:\n",
        f);
  for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].doc);
  fputs("\nRun 'kiln <command> --help' for a command's options.\n"
        "Exit status: 0 success, 1 error in the input, 2 bad usage, 3 internal error.\n",
        f);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return KN_EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return KN_EXIT_OK;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("kiln %s\n", KN_VERSION);
    return KN_EXIT_OK;
  }
  for (int i = 0; i < N_COMMANDS; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
  const char *names[N_COMMANDS];
  for (int i = 0; i < N_COMMANDS; i++) names[i] = commands[i].name;
  const char *s = kn_diag_suggest(argv[1], names, N_COMMANDS);
  fprintf(stderr, "kiln: unknown command '%s'", argv[1]);
  if (s) fprintf(stderr, " (did you mean '%s'?)", s);
  fputs("\nRun 'kiln --help' for the list of commands.\n", stderr);
  return KN_EXIT_USAGE;
}

/* The one argument parser of the lambkin command line: each command
 * describes its options in a table, and getopt_long reads them, so every
 * command takes options and operands in any order, --name=value and
 * "--" alike. Numbers are checked whole and in range (lk_parse_long). */
#ifndef LK_ARGS_H
#define LK_ARGS_H

#define LK_ARGS_MAX_POS 32

typedef enum {
  LK_OPT_FLAG, /* no value: sets an int to 1 */
  LK_OPT_STR,  /* a string: const char * */
  LK_OPT_INT,  /* a whole number in [lo, hi]: int */
  LK_OPT_LONG, /* a whole number in [lo, hi]: long */
  LK_OPT_CALL  /* a value handed to call(), which may refuse it */
} lk_opt_kind_t;

typedef struct lk_opt {
  const char *name; /* the long name, without "--" */
  int short_name;   /* 't' for -t, or 0 */
  lk_opt_kind_t kind;
  void *out; /* int *, const char **, long *; set only when given */
  long lo, hi;
  int *seen; /* set to 1 when the option is given (may be NULL) */
  /* LK_OPT_CALL: 0 to take the value, else it is refused; out is ud. */
  int (*call)(const char *value, void *ud);
} lk_opt_t;

typedef struct lk_args {
  const char *pos[LK_ARGS_MAX_POS]; /* operands, in order */
  int n_pos;
  char **rest; /* what follows "--" */
  int n_rest;
} lk_args_t;

/* Parses argv[first..argc). A bad option or value is reported on stderr
 * as "lambkin: ..." and gives -1; else 0. */
int lk_args_parse(int argc, char **argv, int first, const lk_opt_t *opts,
                  int n_opts, lk_args_t *out);

#endif

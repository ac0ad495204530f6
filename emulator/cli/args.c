/* The argument parser (see args.h), on getopt_long. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "codec.h"

#define MAX_OPTS 48

/* The index of the option getopt_long returned as c, or -1. */
static int find(const lk_opt_t *opts, int n, int c) {
  int i;

  if (c >= 256 && c - 256 < n)
    return c - 256;
  for (i = 0; i < n; i++)
    if (opts[i].short_name && opts[i].short_name == c)
      return i;
  return -1;
}

/* Stores one option's value; 0, or -1 with the reason printed. */
static int take(const lk_opt_t *o, const char *v) {
  long n;

  if (o->seen)
    *o->seen = 1;
  switch (o->kind) {
  case LK_OPT_FLAG:
    *(int *)o->out = 1;
    return 0;
  case LK_OPT_STR:
    *(const char **)o->out = v;
    return 0;
  case LK_OPT_CALL:
    if (o->call(v, o->out) == 0)
      return 0;
    fprintf(stderr, "lambkin: --%s: bad value %s\n", o->name, v);
    return -1;
  default:
    if (lk_parse_long(v, o->lo, o->hi, &n) != 0) {
      fprintf(stderr, "lambkin: --%s wants a number from %ld to %ld, not %s\n",
              o->name, o->lo, o->hi, v);
      return -1;
    }
    if (o->kind == LK_OPT_INT)
      *(int *)o->out = (int)n;
    else
      *(long *)o->out = n;
    return 0;
  }
}

/* getopt_long's tables from ours: a leading ':' so that a missing value
 * is told apart from an unknown option. */
static void tables(const lk_opt_t *opts, int n, struct option *longs,
                   char *shorts, size_t cap) {
  size_t s = 0;
  int i;

  shorts[s++] = ':';
  for (i = 0; i < n; i++) {
    longs[i].name = opts[i].name;
    longs[i].has_arg =
        opts[i].kind == LK_OPT_FLAG ? no_argument : required_argument;
    longs[i].flag = NULL;
    longs[i].val = 256 + i;
    if (opts[i].short_name && s + 3 < cap) {
      shorts[s++] = (char)opts[i].short_name;
      if (opts[i].kind != LK_OPT_FLAG)
        shorts[s++] = ':';
    }
  }
  memset(&longs[n], 0, sizeof(longs[n]));
  shorts[s] = '\0';
}

static int refuse(char **argv, int c) {
  const char *what = argv[optind - 1];

  if (c == ':')
    fprintf(stderr, "lambkin: %s needs a value\n", what);
  else if (optopt)
    fprintf(stderr, "lambkin: unknown option -%c\n", optopt);
  else
    fprintf(stderr, "lambkin: unknown option %s\n", what);
  return -1;
}

int lk_args_parse(int argc, char **argv, int first, const lk_opt_t *opts,
                  int n_opts, lk_args_t *out) {
  struct option longs[MAX_OPTS + 1];
  char shorts[2 * MAX_OPTS + 2];
  char **av = argv + first - 1; /* av[0] stands for the program */
  int ac = argc - first + 1, c, i, k;

  memset(out, 0, sizeof(*out));
  if (n_opts > MAX_OPTS)
    return -1;
  for (i = 1; i < ac; i++) /* "--": the rest is not ours */
    if (strcmp(av[i], "--") == 0) {
      out->rest = av + i + 1;
      out->n_rest = ac - i - 1;
      ac = i;
      break;
    }
  tables(opts, n_opts, longs, shorts, sizeof(shorts));
  optind = 0; /* a fresh scan, as glibc wants it */
  opterr = 0;
  for (c = getopt_long(ac, av, shorts, longs, NULL); c != -1;
       c = getopt_long(ac, av, shorts, longs, NULL)) {
    k = c == '?' || c == ':' ? -1 : find(opts, n_opts, c);
    if (k < 0)
      return refuse(av, c);
    if (take(&opts[k], optarg) != 0)
      return -1;
  }
  for (i = optind; i < ac; i++) {
    if (out->n_pos == LK_ARGS_MAX_POS) {
      fprintf(stderr, "lambkin: too many arguments\n");
      return -1;
    }
    out->pos[out->n_pos++] = av[i];
  }
  return 0;
}

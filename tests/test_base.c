/* The base layer: a buffer that fails as a whole, the path join that
 * refuses to cut a path, and the one random generator. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "codec.h"
#include "fs.h"
#include "lambkin/lambkin.h"
#include "rand.h"
#include "strmap.h"

/* Past the ceiling the whole buffer goes, every later append fails the
 * same way, and an ignored error leaves nothing half written. */
static void test_buf_fails_whole(void **state) {
  lk_buf_t b;

  (void)state;
  lk_buf_init(&b, 8);
  assert_int_equal(lk_buf_adds(&b, "12345678"), 0);
  assert_int_equal(lk_buf_room(&b), 0);
  assert_int_equal(lk_buf_adds(&b, "9"), LK_E2BIG);
  assert_int_equal(b.len, 0);
  assert_null(b.data);
  assert_string_equal(lk_buf_str(&b), "");
  assert_int_equal(lk_buf_adds(&b, "a"), LK_E2BIG); /* sticky */
  assert_int_equal(lk_buf_printf(&b, "%d", 1), LK_E2BIG);
  assert_int_equal(lk_buf_error(&b), LK_E2BIG);
  assert_null(lk_buf_steal(&b, NULL));
  /* Reset makes it usable again. */
  lk_buf_reset(&b);
  assert_int_equal(lk_buf_error(&b), 0);
  assert_int_equal(lk_buf_adds(&b, "ok"), 0);
  assert_string_equal(b.data, "ok");
  lk_buf_free(&b);
}

static void test_buf_printf_and_json(void **state) {
  lk_buf_t b;
  char *s;
  size_t n;

  (void)state;
  /* printf: into spare room, growing, and past the ceiling. */
  lk_buf_init(&b, 200);
  assert_int_equal(lk_buf_printf(&b, "%s-%d", "ab", 7), 0);
  assert_int_equal(lk_buf_printf(&b, "%d", 8), 0);
  assert_string_equal(b.data, "ab-78");
  assert_int_equal(lk_buf_printf(&b, "%0100d", 1), 0);
  assert_int_equal(b.len, 105);
  assert_int_equal(b.data[104], '1');
  assert_int_equal(lk_buf_printf(&b, "%0100d", 2), LK_E2BIG);
  assert_int_equal(b.len, 0);
  lk_buf_free(&b);
  lk_buf_init(&b, 64);
  assert_int_equal(lk_buf_add_json_str(&b, "a\"b\\\n\x01", 6), 0);
  assert_string_equal(b.data, "\"a\\\"b\\\\\\n\\u0001\"");
  s = lk_buf_steal(&b, &n);
  assert_int_equal(n, 16);
  assert_string_equal(s, "\"a\\\"b\\\\\\n\\u0001\"");
  assert_null(b.data);
  free(s);
  /* A codec that meets bad input fails its output too. */
  lk_buf_init(&b, 64);
  assert_int_equal(lk_b64_decode(&b, "aGk*", 4), LK_EINVAL);
  assert_int_equal(lk_buf_error(&b), LK_EINVAL);
  assert_int_equal(b.len, 0);
  lk_buf_free(&b);
}

static void test_path_join(void **state) {
  char out[16], big[PATH_MAX + 10];

  (void)state;
  assert_int_equal(lk_path_join(out, sizeof(out), "/a", "b.json"), 0);
  assert_string_equal(out, "/a/b.json");
  assert_int_equal(lk_path_join(out, sizeof(out), "/a/", "b"), 0);
  assert_string_equal(out, "/a/b");
  assert_int_equal(lk_path_join(out, sizeof(out), "", "rel"), 0);
  assert_string_equal(out, "rel");
  /* 15 characters fit, 16 do not: never a path cut short. */
  assert_int_equal(lk_path_join(out, sizeof(out), "/0123456", "789abc"), 0);
  assert_int_equal(lk_path_join(out, sizeof(out), "/0123456", "789abcd"),
                   LK_E2BIG);
  assert_string_equal(out, "");
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  assert_int_equal(lk_mkdirs(big), -1);
}

/* Same seed, same sequence; every value of a small range comes up, in
 * about equal measure. */
static void test_rand(void **state) {
  lk_rand_t a, b;
  int counts[10] = {0}, i;

  (void)state;
  lk_rand_seed(&a, 42);
  lk_rand_seed(&b, 42);
  for (i = 0; i < 100; i++)
    assert_int_equal(lk_rand_next(&a), lk_rand_next(&b));
  lk_rand_seed(&b, 43);
  assert_true(lk_rand_next(&a) != lk_rand_next(&b));
  for (i = 0; i < 100000; i++)
    counts[lk_rand_below(&a, 10)]++;
  for (i = 0; i < 10; i++)
    assert_in_range(counts[i], 9000, 11000);
  assert_int_equal(lk_rand_below(&a, 0), 0);
}

/* The map against a plain array, over random puts, gets and deletes on a
 * small key space, so runs collide, wrap and shift back often. */
static void test_strmap(void **state) {
  enum { KEYS = 300 };
  lk_strmap_t *m = lk_strmap_new();
  uint64_t model[KEYS], got;
  int present[KEYS] = {0}, n = 0, i, k;
  lk_rand_t r;
  char key[32];

  (void)state;
  lk_rand_seed(&r, 7);
  for (i = 0; i < 200000; i++) {
    k = (int)lk_rand_below(&r, KEYS);
    snprintf(key, sizeof(key), "id-%d", k);
    switch (lk_rand_below(&r, 3)) {
    case 0:
      lk_strmap_put(m, key, (uint64_t)i);
      n += !present[k];
      present[k] = 1;
      model[k] = (uint64_t)i;
      break;
    case 1:
      assert_int_equal(lk_strmap_del(m, key), present[k]);
      n -= present[k];
      present[k] = 0;
      break;
    default:
      assert_int_equal(lk_strmap_get(m, key, &got), present[k]);
      if (present[k])
        assert_true(got == model[k]);
    }
    assert_int_equal(lk_strmap_size(m), n);
  }
  for (k = 0; k < KEYS; k++) {
    snprintf(key, sizeof(key), "id-%d", k);
    assert_int_equal(lk_strmap_get(m, key, NULL), present[k]);
  }
  lk_strmap_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_buf_fails_whole),
      cmocka_unit_test(test_buf_printf_and_json),
      cmocka_unit_test(test_path_join),
      cmocka_unit_test(test_rand),
      cmocka_unit_test(test_strmap),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The store through the C API: journalled applies, group commit, a borrowed book for reads,
 * one writer at a time, a restart that knows every resend, and typed errors for bad input.
 * Usage: test_store ROOT DIR (DIR: an empty scratch directory). */
#include "check.h"

static const char *ENROLL =
    "{\"type\":\"enroll\",\"id\":\"e1\",\"member\":\"m1\",\"at\":\"2026-03-01T10:00:00Z\"}";
static const char *BATCH =
    "{\"type\":\"purchase\",\"id\":\"p1\",\"member\":\"m1\",\"at\":\"2026-03-01T11:00:00Z\","
    "\"lines\":[{\"sku\":\"LATTE\",\"category\":\"coffee\",\"amount\":\"4.75\"}]}\n"
    "\n"
    "{\"type\":\"purchase\",\"id\":\"p2\",\"member\":\"ghost\",\"at\":\"2026-03-01T11:00:00Z\","
    "\"lines\":[{\"sku\":\"LATTE\",\"category\":\"coffee\",\"amount\":\"4.75\"}]}\n"
    "not json\n";

static int count_lines(const char *text) {
  int n = 0;
  for (; text && *text; text++) n += *text == '\n';
  return n;
}

int main(int argc, char **argv) {
  const char *root = argc > 1 ? argv[1] : ".";
  const char *dir = argc > 2 ? argv[2] : ".";
  char path[4096], other[4096];
  pb_program *program = load_program(root, "examples/programs/bean-and-leaf.toml");
  pb_program *northwind = load_program(root, "examples/programs/northwind-retail.toml");
  pb_store *store = NULL, *second = NULL;
  pb_store_options options = pb_store_options_default();
  pb_error *err = NULL;
  pb_book *book;
  char *out = NULL, *digest = NULL, *again = NULL;
  FILE *f;

  snprintf(path, sizeof path, "%s/till.pointbook", dir);
  snprintf(other, sizeof other, "%s/notes.txt", dir);
  remove(path);

  CHECK(options.durability == 0 && options.snapshot_every == 100000 && options.keep_snapshots == 2);
  options.snapshot_every = 2;
  CHECK(pb_store_open(path, program, &options, &store, &err) == PB_OK);
  CHECK(err == NULL);

  /* One event, then a batch: one result line per non-blank line, rejections in place. */
  CHECK(pb_store_apply(store, ENROLL, strlen(ENROLL), &out, NULL) == PB_OK);
  CHECK(contains(out, "\"event\":\"e1\""));
  pb_string_free(out);
  out = NULL;
  CHECK(pb_store_apply_batch(store, BATCH, strlen(BATCH), &out, &err) == PB_OK);
  CHECK(count_lines(out) == 3);
  CHECK(contains(out, "\"event\":\"p1\""));
  CHECK(contains(out, "unknown_member") && contains(out, "invalid_event"));
  pb_string_free(out);
  out = NULL;

  /* A rejected single event: the engine's status. */
  CHECK(pb_store_apply(store, "{\"type\":\"enroll\"}", 17, &out, &err) == PB_INVALID_EVENT);
  CHECK(out == NULL);
  pb_error_free(err);
  err = NULL;

  /* The borrowed book reads, quotes and takes events (journalled). */
  book = pb_store_book(store);
  CHECK(book != NULL);
  CHECK(pb_book_balance(book, "m1", &out, NULL) == PB_OK);
  CHECK(contains(out, "\"member\":\"m1\""));
  pb_string_free(out);
  out = NULL;
  CHECK(apply(book, "{\"type\":\"advance\",\"id\":\"t1\",\"at\":\"2026-03-02T00:00:00Z\"}", NULL) == PB_OK);
  digest = digest_of(book);
  pb_book_free(book); /* a no-op on a store's book */

  /* One writer at a time. */
  CHECK(pb_store_open(path, program, NULL, &second, &err) == PB_STORE_LOCKED);
  CHECK(second == NULL);
  pb_error_free(err);
  err = NULL;
  CHECK(pb_store_checkpoint(store, NULL) == PB_OK);
  pb_store_close(store);
  store = NULL;

  /* A restart: the same book, and a resend is a duplicate. */
  CHECK(pb_store_open(path, program, NULL, &store, NULL) == PB_OK);
  again = digest_of(pb_store_book(store));
  CHECK(digest && again && strcmp(digest, again) == 0);
  CHECK(pb_store_apply(store, ENROLL, strlen(ENROLL), &out, NULL) == PB_OK);
  CHECK(contains(out, "\"duplicate\":true"));
  pb_string_free(out);
  out = NULL;
  CHECK(apply(pb_store_book(store), "{\"type\":\"advance\",\"id\":\"t1\",\"at\":\"2026-03-02T00:00:00Z\"}", &out) == PB_OK);
  CHECK(contains(out, "\"duplicate\":true"));
  pb_string_free(out);
  pb_store_close(store);

  /* Typed errors: another program, a file that is not a store, NULLs, bad options. */
  CHECK(pb_store_open(path, northwind, NULL, &store, &err) == PB_PROGRAM_MISMATCH);
  pb_error_free(err);
  f = fopen(other, "wb");
  if (f) {
    int i;
    for (i = 0; i < 200; i++) fputs("these are not the droids ", f);
    fclose(f);
  }
  CHECK(pb_store_open(other, program, NULL, &store, &err) == PB_NOT_A_STORE);
  CHECK(contains(pb_error_message(err), "notes.txt"));
  pb_error_free(err);
  CHECK(pb_store_open(NULL, program, NULL, &store, NULL) == PB_NULL_ARGUMENT);
  CHECK(pb_store_open(path, NULL, NULL, &store, NULL) == PB_NULL_ARGUMENT);
  CHECK(pb_store_open(path, program, NULL, NULL, NULL) == PB_NULL_ARGUMENT);
  options.durability = 7;
  CHECK(pb_store_open(path, program, &options, &store, NULL) == PB_INVALID_ARGUMENT);
  CHECK(pb_store_apply(NULL, ENROLL, strlen(ENROLL), NULL, NULL) == PB_NULL_ARGUMENT);
  CHECK(pb_store_apply_batch(NULL, BATCH, strlen(BATCH), NULL, NULL) == PB_NULL_ARGUMENT);
  CHECK(pb_store_checkpoint(NULL, NULL) == PB_NULL_ARGUMENT);
  CHECK(pb_store_book(NULL) == NULL);
  pb_store_close(NULL);

  pb_string_free(digest);
  pb_string_free(again);
  pb_program_free(program);
  pb_program_free(northwind);
  return report("c store");
}

/* The C API: docs/semantics.md worked examples, every error path, snapshots, threads.
 * Usage: test_api REPO_ROOT */
#include <pthread.h>

#include "check.h"

static const char *root = ".";

static pb_book *new_book(pb_program *program) {
  pb_book *book = NULL;
  CHECK(pb_book_new(program, &book, NULL) == PB_OK);
  return book;
}

static const char *ENROLL_M1 =
    "{\"type\":\"enroll\",\"id\":\"e1\",\"member\":\"m1\",\"at\":\"2026-01-10T15:00:00Z\"}";
static const char *PURCHASE_A =
    "{\"type\":\"purchase\",\"id\":\"p1\",\"member\":\"m1\",\"at\":\"2026-03-14T13:30:00Z\","
    "\"lines\":[{\"sku\":\"LATTE\",\"category\":\"coffee\",\"amount\":\"4.75\"},"
    "{\"sku\":\"CROISSANT\",\"category\":\"pastry\",\"amount\":\"3.50\"},"
    "{\"sku\":\"GIFTCARD\",\"category\":\"gift_card\",\"amount\":\"25.00\"}]}";

static void example_a_earning_and_c_refund(pb_program *program) {
  pb_book *book = new_book(program);
  char *out = NULL;
  CHECK(apply(book, ENROLL_M1, NULL) == PB_OK);
  CHECK(apply(book, PURCHASE_A, &out) == PB_OK);
  CHECK(contains(out, "\"points\":11,"));
  CHECK(contains(out, "{\"member\":\"m1\",\"kind\":\"base\",\"points\":\"8.25\"}"));
  CHECK(contains(out, "{\"member\":\"m1\",\"kind\":\"rounding\",\"points\":\"-0.75\"}"));
  pb_string_free(out);
  out = NULL;
  CHECK(pb_book_balance(book, "m1", &out, NULL) == PB_OK);
  CHECK(contains(out, "\"available\":25,\"pending\":11,"));
  CHECK(contains(out, "\"expires_at\":\"2027-03-14T05:00:00Z\",\"source\":\"p1\""));
  pb_string_free(out);
  out = NULL;
  CHECK(apply(book,
              "{\"type\":\"refund\",\"id\":\"r1\",\"member\":\"m1\",\"at\":\"2026-03-16T14:00:00Z\","
              "\"purchase\":\"p1\",\"lines\":[{\"sku\":\"CROISSANT\",\"amount\":\"3.50\"}]}",
              &out) == PB_OK);
  CHECK(contains(out, "\"points\":-7,"));
  pb_string_free(out);
  pb_book_free(book);
}

static void example_b_fifo_and_expiry(pb_program *program) {
  pb_book *book = new_book(program);
  char *out = NULL;
  CHECK(apply(book, ENROLL_M1, NULL) == PB_OK);
  CHECK(apply(book, "{\"type\":\"purchase\",\"id\":\"p2\",\"member\":\"m1\",\"at\":\"2026-02-01T15:00:00Z\","
                    "\"lines\":[{\"sku\":\"C\",\"category\":\"coffee\",\"amount\":\"100.00\"}]}", NULL) == PB_OK);
  CHECK(apply(book, "{\"type\":\"purchase\",\"id\":\"p3\",\"member\":\"m1\",\"at\":\"2026-06-01T15:00:00Z\","
                    "\"lines\":[{\"sku\":\"C\",\"category\":\"coffee\",\"amount\":\"80.00\"}]}", NULL) == PB_OK);
  CHECK(apply(book, "{\"type\":\"redeem\",\"id\":\"x1\",\"member\":\"m1\",\"at\":\"2026-07-01T15:00:00Z\","
                    "\"reward\":\"free-drink\"}", &out) == PB_OK);
  CHECK(contains(out, "\"type\":\"RewardIssued\""));
  pb_string_free(out);
  out = NULL;
  CHECK(pb_book_balance(book, "m1", &out, NULL) == PB_OK);
  CHECK(out != NULL && strcmp(out,
      "{\"member\":\"m1\",\"tier\":\"green\",\"available\":55,\"pending\":0,\"held\":0,\"debt\":0,"
      "\"lots\":[{\"points\":55,\"state\":\"available\",\"earned_at\":\"2026-06-01T15:00:00Z\","
      "\"expires_at\":\"2027-06-01T04:00:00Z\",\"source\":\"p3\"}]}") == 0);
  pb_string_free(out);
  out = NULL;
  CHECK(apply(book, "{\"type\":\"advance\",\"id\":\"t\",\"at\":\"2027-06-01T04:00:00Z\"}", &out) == PB_OK);
  CHECK(contains(out, "\"type\":\"PointsExpired\",\"member\":\"m1\",\"points\":55,\"source\":\"p3\""));
  pb_string_free(out);
  pb_book_free(book);
}

static void example_f_idempotency(pb_program *program) {
  pb_book *book = new_book(program);
  char *out = NULL, *before, *after;
  pb_error *err = NULL;
  const char *conflict =
      "{\"type\":\"purchase\",\"id\":\"p1\",\"member\":\"m1\",\"at\":\"2026-03-14T13:30:00Z\","
      "\"lines\":[{\"sku\":\"LATTE\",\"category\":\"coffee\",\"amount\":\"5.75\"}]}";
  CHECK(apply(book, ENROLL_M1, NULL) == PB_OK);
  CHECK(apply(book, PURCHASE_A, NULL) == PB_OK);
  before = digest_of(book);
  CHECK(apply(book, PURCHASE_A, &out) == PB_OK);
  CHECK(contains(out, "\"duplicate\":true"));
  pb_string_free(out);
  CHECK(pb_book_apply(book, conflict, strlen(conflict), NULL, &err) == PB_ID_CONFLICT);
  CHECK(pb_error_code(err) == PB_ID_CONFLICT);
  CHECK(contains(pb_error_message(err), "already used by a different event"));
  pb_error_free(err);
  after = digest_of(book);
  CHECK(before && after && strcmp(before, after) == 0);
  pb_string_free(before);
  pb_string_free(after);
  pb_book_free(book);
}

static void error_paths(pb_program *program) {
  pb_book *book = new_book(program);
  pb_program *other = NULL;
  pb_program *bad = NULL;
  pb_book *restored = NULL;
  pb_error *err = NULL;
  char *out = NULL, *before, *after;
  uint8_t *bytes = NULL;
  size_t len = 0;
  const char *garbage = "name = ";
  const char invalid_utf8[] = "{\"type\":\"advance\",\"id\":\"\xff\xfe\",\"at\":\"2026-01-01T00:00:00Z\"}";
  const char *odd_amount =
      "{\"type\":\"purchase\",\"id\":\"p9\",\"member\":\"m1\",\"at\":\"2026-03-14T13:30:00Z\","
      "\"lines\":[{\"sku\":\"A\",\"category\":\"coffee\",\"amount\":\"4.755\"}]}";

  /* NULL arguments, with and without an error out-parameter. */
  CHECK(pb_program_load(NULL, 0, &bad, &err) == PB_NULL_ARGUMENT);
  CHECK(contains(pb_error_message(err), "program text is NULL"));
  pb_error_free(err);
  CHECK(pb_program_load(garbage, strlen(garbage), NULL, NULL) == PB_NULL_ARGUMENT);
  CHECK(pb_book_new(NULL, &restored, NULL) == PB_NULL_ARGUMENT);
  CHECK(pb_book_apply(NULL, ENROLL_M1, strlen(ENROLL_M1), NULL, NULL) == PB_NULL_ARGUMENT);
  CHECK(pb_book_apply(book, NULL, 10, NULL, NULL) == PB_NULL_ARGUMENT);
  CHECK(pb_book_balance(book, NULL, &out, NULL) == PB_NULL_ARGUMENT);
  CHECK(pb_book_balance(book, "m1", NULL, NULL) == PB_NULL_ARGUMENT);
  CHECK(pb_book_snapshot(book, NULL, &len, NULL) == PB_NULL_ARGUMENT);
  CHECK(pb_book_restore(program, NULL, 3, &restored, NULL) == PB_NULL_ARGUMENT);
  CHECK(pb_error_code(NULL) == PB_INVALID_ARGUMENT);
  CHECK(pb_error_message(NULL) != NULL);

  /* Malformed program text names the problem. */
  CHECK(pb_program_load(garbage, strlen(garbage), &bad, &err) == PB_INVALID_PROGRAM);
  CHECK(bad == NULL);
  CHECK(strlen(pb_error_message(err)) > 0);
  pb_error_free(err);

  CHECK(apply(book, ENROLL_M1, NULL) == PB_OK);
  before = digest_of(book);
  /* Invalid UTF-8, a length that counts the terminator, a length that cuts the JSON. */
  CHECK(pb_book_apply(book, invalid_utf8, sizeof invalid_utf8 - 1, NULL, &err) == PB_INVALID_UTF8);
  pb_error_free(err);
  CHECK(pb_book_apply(book, ENROLL_M1, strlen(ENROLL_M1) + 1, NULL, &err) == PB_INVALID_ARGUMENT);
  CHECK(contains(pb_error_message(err), "NUL byte"));
  pb_error_free(err);
  CHECK(pb_book_apply(book, PURCHASE_A, 40, NULL, &err) == PB_INVALID_EVENT);
  pb_error_free(err);
  CHECK(pb_book_apply(book, "{]", 2, NULL, NULL) == PB_INVALID_EVENT);
  CHECK(pb_book_apply(book, odd_amount, strlen(odd_amount), NULL, &err) == PB_INVALID_EVENT);
  CHECK(contains(pb_error_message(err), "event p9: line 1: amount \"4.755\" has more decimals than USD allows"));
  pb_error_free(err);
  CHECK(apply(book, "{\"type\":\"redeem\",\"id\":\"x\",\"member\":\"m1\",\"at\":\"2026-03-15T00:00:00Z\",\"reward\":\"mug\"}", NULL) == PB_TIER_TOO_LOW);
  CHECK(apply(book, "{\"type\":\"redeem\",\"id\":\"x\",\"member\":\"m1\",\"at\":\"2026-03-15T00:00:00Z\",\"reward\":\"free-drink\"}", NULL) == PB_INSUFFICIENT_POINTS);
  CHECK(apply(book, "{\"type\":\"redeem\",\"id\":\"x\",\"member\":\"m1\",\"at\":\"2026-03-15T00:00:00Z\",\"reward\":\"boat\"}", NULL) == PB_UNKNOWN_REWARD);
  CHECK(apply(book, "{\"type\":\"purchase\",\"id\":\"old\",\"member\":\"m1\",\"at\":\"2025-01-01T00:00:00Z\",\"lines\":[{\"sku\":\"A\",\"amount\":\"1.00\"}]}", NULL) == PB_LATE_EVENT);
  CHECK(pb_book_balance(book, "nobody", &out, NULL) == PB_UNKNOWN_MEMBER);
  CHECK(pb_book_balance(book, "\xff", &out, NULL) == PB_INVALID_UTF8);
  CHECK(pb_book_quote(book, ENROLL_M1, strlen(ENROLL_M1), &out, NULL) == PB_INVALID_EVENT);
  after = digest_of(book);
  CHECK(before && after && strcmp(before, after) == 0); /* rejected events changed nothing */
  pb_string_free(before);
  pb_string_free(after);

  /* Snapshots: another program's book, garbage bytes. */
  other = load_program(root, "examples/programs/corner-cafe-punch-card.toml");
  CHECK(pb_book_snapshot(book, &bytes, &len, NULL) == PB_OK);
  CHECK(pb_book_restore(other, bytes, len, &restored, &err) == PB_PROGRAM_MISMATCH);
  CHECK(restored == NULL);
  pb_error_free(err);
  CHECK(pb_book_restore(program, (const uint8_t *)"garbage", 7, &restored, NULL) == PB_INVALID_SNAPSHOT);
  pb_bytes_free(bytes, len);
  pb_program_free(other);

  /* Freeing NULL is a no-op. */
  pb_error_free(NULL);
  pb_string_free(NULL);
  pb_bytes_free(NULL, 0);
  pb_book_free(NULL);
  pb_program_free(NULL);
  CHECK(strcmp(pb_version(), "0.1.0") == 0);
  pb_book_free(book);
}

static void quote_and_hold(pb_program *program) {
  pb_book *book = new_book(program);
  char *out = NULL, *before, *after;
  const char *basket = "{\"id\":\"q1\",\"member\":\"m1\",\"at\":\"2026-12-05T15:00:00Z\","
                       "\"lines\":[{\"sku\":\"LATTE\",\"category\":\"coffee\",\"amount\":\"4.75\"},"
                       "{\"sku\":\"CROISSANT\",\"category\":\"pastry\",\"amount\":\"3.50\"}]}";
  CHECK(apply(book, ENROLL_M1, NULL) == PB_OK);
  before = digest_of(book);
  CHECK(pb_book_quote(book, basket, strlen(basket), &out, NULL) == PB_OK);
  CHECK(contains(out, "\"points\":20,"));
  pb_string_free(out);
  after = digest_of(book);
  CHECK(before && after && strcmp(before, after) == 0);
  pb_string_free(before);
  pb_string_free(after);
  CHECK(apply(book, "{\"type\":\"adjust\",\"id\":\"a\",\"member\":\"m1\",\"at\":\"2026-12-05T15:00:00Z\",\"points\":200,\"reason\":\"x\"}", NULL) == PB_OK);
  CHECK(apply(book, "{\"type\":\"redeem\",\"id\":\"h1\",\"member\":\"m1\",\"at\":\"2026-12-05T16:00:00Z\",\"reward\":\"free-drink\",\"hold\":true}", NULL) == PB_OK);
  CHECK(pb_book_balance(book, "m1", &out, NULL) == PB_OK);
  CHECK(contains(out, "\"available\":75,\"pending\":0,\"held\":150,"));
  pb_string_free(out);
  out = NULL;
  CHECK(apply(book, "{\"type\":\"purchase\",\"id\":\"p\",\"member\":\"m1\",\"at\":\"2026-12-05T16:20:00Z\",\"lines\":[{\"sku\":\"A\",\"category\":\"coffee\",\"amount\":\"1.00\"}]}", &out) == PB_OK);
  CHECK(contains(out, "\"type\":\"HoldExpired\""));
  pb_string_free(out);
  out = NULL;
  CHECK(pb_book_progress(book, "m1", NULL, &out, NULL) == PB_OK);
  CHECK(contains(out, "\"tier\":\"green\""));
  pb_string_free(out);
  pb_book_free(book);
}

static void snapshot_in_process(pb_program *program) {
  pb_book *book = new_book(program), *copy = NULL;
  uint8_t *bytes = NULL;
  size_t len = 0;
  char *a, *b;
  CHECK(apply(book, ENROLL_M1, NULL) == PB_OK);
  CHECK(apply(book, PURCHASE_A, NULL) == PB_OK);
  CHECK(pb_book_snapshot(book, &bytes, &len, NULL) == PB_OK);
  CHECK(pb_book_restore(program, bytes, len, &copy, NULL) == PB_OK);
  pb_bytes_free(bytes, len);
  CHECK(apply(copy, "{\"type\":\"advance\",\"id\":\"t\",\"at\":\"2026-04-01T00:00:00Z\"}", NULL) == PB_OK);
  CHECK(apply(book, "{\"type\":\"advance\",\"id\":\"t\",\"at\":\"2026-04-01T00:00:00Z\"}", NULL) == PB_OK);
  a = digest_of(book);
  b = digest_of(copy);
  CHECK(a && b && strcmp(a, b) == 0);
  pb_string_free(a);
  pb_string_free(b);
  pb_book_free(copy);
  pb_book_free(book);
}

/* Several threads apply events to one book at once; the result equals applying them in
 * one thread. Each thread owns its members, so the order between threads does not matter. */
#define THREADS 4
#define PER_THREAD 200

struct worker {
  pb_book *book;
  int index;
  int failures;
};

static void *work(void *arg) {
  struct worker *w = (struct worker *)arg;
  char json[512], *out = NULL;
  int i;
  for (i = 0; i < PER_THREAD; i++) {
    snprintf(json, sizeof json,
             "{\"type\":\"purchase\",\"id\":\"t%d-%d\",\"member\":\"m%d\",\"at\":\"2026-02-%02dT15:00:00Z\","
             "\"lines\":[{\"sku\":\"C\",\"category\":\"coffee\",\"amount\":\"%d.25\"}]}",
             w->index, i, w->index * 10 + i % 3, 1 + i / 10, i % 40);
    if (apply(w->book, json, NULL) != PB_OK) w->failures++;
    if (pb_book_balance(w->book, "m0", &out, NULL) != PB_OK) w->failures++;
    pb_string_free(out);
    out = NULL;
  }
  return NULL;
}

static void enroll_all(pb_book *book) {
  char json[256];
  int t, k;
  for (t = 0; t < THREADS; t++)
    for (k = 0; k < 3; k++) {
      snprintf(json, sizeof json, "{\"type\":\"enroll\",\"id\":\"e%d\",\"member\":\"m%d\",\"at\":\"2026-01-01T15:00:00Z\"}",
               t * 10 + k, t * 10 + k);
      CHECK(apply(book, json, NULL) == PB_OK);
    }
}

static void threads_share_one_book(pb_program *program) {
  pb_book *shared = new_book(program), *serial = new_book(program);
  pthread_t threads[THREADS];
  struct worker workers[THREADS];
  char *a, *b;
  int t;
  enroll_all(shared);
  enroll_all(serial);
  for (t = 0; t < THREADS; t++) {
    workers[t].book = shared;
    workers[t].index = t;
    workers[t].failures = 0;
    CHECK(pthread_create(&threads[t], NULL, work, &workers[t]) == 0);
  }
  for (t = 0; t < THREADS; t++) {
    pthread_join(threads[t], NULL);
    CHECK(workers[t].failures == 0);
  }
  for (t = 0; t < THREADS; t++) {
    struct worker w;
    w.book = serial;
    w.index = t;
    w.failures = 0;
    work(&w);
  }
  a = digest_of(shared);
  b = digest_of(serial);
  CHECK(a && b && strcmp(a, b) == 0);
  pb_string_free(a);
  pb_string_free(b);
  pb_book_free(shared);
  pb_book_free(serial);
}

/* The hand-computed history of crates/pointbook/tests/analytics.rs (two members, a refund, a
 * redemption, two expiries): the same numbers through the C ABI. */
static const char *HISTORY =
    "{\"type\":\"enroll\",\"id\":\"e1\",\"member\":\"m1\",\"at\":\"2026-01-10T15:00:00Z\"}\n"
    "{\"type\":\"enroll\",\"id\":\"e2\",\"member\":\"m2\",\"at\":\"2026-01-20T15:00:00Z\"}\n"
    "{\"type\":\"purchase\",\"id\":\"p1\",\"member\":\"m1\",\"at\":\"2026-02-01T15:00:00Z\","
    "\"lines\":[{\"sku\":\"BEANS\",\"category\":\"coffee\",\"amount\":\"130.00\"}]}\n"
    "{\"type\":\"purchase\",\"id\":\"p2\",\"member\":\"m2\",\"at\":\"2026-02-10T15:00:00Z\","
    "\"lines\":[{\"sku\":\"BEANS\",\"category\":\"coffee\",\"amount\":\"20.00\"}]}\n"
    "{\"type\":\"refund\",\"id\":\"r2\",\"member\":\"m2\",\"at\":\"2026-02-12T15:00:00Z\","
    "\"purchase\":\"p2\",\"lines\":[{\"sku\":\"BEANS\"}]}\n"
    "\n"
    "{\"type\":\"purchase\",\"id\":\"p3\",\"member\":\"m1\",\"at\":\"2026-03-05T15:00:00Z\","
    "\"lines\":[{\"sku\":\"CAKE\",\"category\":\"pastry\",\"amount\":\"10.00\"}]}\n"
    "{\"type\":\"redeem\",\"id\":\"x1\",\"member\":\"m1\",\"at\":\"2026-03-20T15:00:00Z\","
    "\"reward\":\"free-drink\"}\n"
    "not json\n";

static void analytics(pb_program *program) {
  const char *options = "{\"as_of\":\"2027-02-15T12:00:00Z\"}";
  char *json = NULL;
  pb_error *err = NULL;
  pb_program *variant = load_program(root, "examples/programs/bean-and-leaf-gold-250.toml");
  CHECK(pb_analyze(program, HISTORY, strlen(HISTORY), options, &json, &err) == PB_OK);
  CHECK(json && strstr(json, "\"net_issued\":200,"));
  CHECK(json && strstr(json, "\"liability\":\"0.20\""));
  CHECK(json && strstr(json, "\"expected_breakage_rate\":\"0.1667\""));
  CHECK(json && strstr(json, "\"applied\":7,\"duplicates\":0,\"rejected\":1"));
  pb_string_free(json);
  json = NULL;
  /* Defaults (NULL options): monthly up to the last event. */
  CHECK(pb_analyze(program, HISTORY, strlen(HISTORY), NULL, &json, NULL) == PB_OK);
  CHECK(json && strstr(json, "\"period\":\"month\""));
  pb_string_free(json);
  json = NULL;
  /* A program against itself: no differences; against the variant: some. */
  CHECK(pb_compare(program, program, HISTORY, strlen(HISTORY), options, 5, &json, NULL) == PB_OK);
  CHECK(json && strstr(json, "\"members_changing_tier\":0,\"most_affected\":[]"));
  pb_string_free(json);
  json = NULL;
  CHECK(pb_compare(program, variant, HISTORY, strlen(HISTORY), options, 5, &json, NULL) == PB_OK);
  CHECK(json && strstr(json, "\"b\":\"Bean & Leaf (gold at 250, +50%)\""));
  pb_string_free(json);
  json = NULL;
  /* Errors: bad options, NULLs, invalid UTF-8; nothing is written. */
  CHECK(pb_analyze(program, HISTORY, strlen(HISTORY), "{\"period\":\"day\"}", &json, &err) ==
        PB_INVALID_OPTIONS);
  CHECK(json == NULL && err && strstr(pb_error_message(err), "period"));
  pb_error_free(err);
  err = NULL;
  CHECK(pb_analyze(program, HISTORY, strlen(HISTORY), "{\"perod\":1}", &json, NULL) ==
        PB_INVALID_OPTIONS);
  CHECK(pb_analyze(NULL, HISTORY, strlen(HISTORY), NULL, &json, NULL) == PB_NULL_ARGUMENT);
  CHECK(pb_analyze(program, NULL, 0, NULL, &json, NULL) == PB_NULL_ARGUMENT);
  CHECK(pb_analyze(program, HISTORY, strlen(HISTORY), NULL, NULL, NULL) == PB_NULL_ARGUMENT);
  CHECK(pb_analyze(program, "\xff\xfe", 2, NULL, &json, NULL) == PB_INVALID_UTF8);
  CHECK(pb_compare(program, NULL, HISTORY, strlen(HISTORY), NULL, 5, &json, NULL) ==
        PB_NULL_ARGUMENT);
  CHECK(json == NULL);
  pb_program_free(variant);
}

/* docs/semantics.md §13 through C, as crates/pointbook/tests/till.rs has it: a points payment
 * at its max_share boundary, a reversal into the lots the points came from, a refund of a
 * purchase paid with points, and the new status codes. */
static void till(void) {
  pb_program *program = load_program(root, "crates/pointbook/tests/fixtures/till.toml");
  pb_book *book = new_book(program);
  pb_error *err = NULL;
  char *out = NULL, *before, *after;
  const char *paid_quote = "{\"id\":\"q1\",\"member\":\"m1\",\"at\":\"2026-01-07T12:00:00Z\","
                           "\"lines\":[{\"sku\":\"BEANS\",\"category\":\"coffee\",\"amount\":\"12.40\"}],"
                           "\"pay\":{\"reward\":\"pay\",\"points\":500}}";
  const char *too_much = "{\"type\":\"redeem\",\"id\":\"x0\",\"member\":\"m1\",\"at\":\"2026-01-04T12:00:00Z\","
                         "\"reward\":\"pay\",\"points\":630,\"order_total\":\"12.40\"}";
  CHECK(apply(book, "{\"type\":\"enroll\",\"id\":\"e1\",\"member\":\"m1\",\"at\":\"2026-01-01T10:00:00Z\"}", NULL) == PB_OK);
  CHECK(apply(book, "{\"type\":\"adjust\",\"id\":\"a1\",\"member\":\"m1\",\"at\":\"2026-01-01T12:00:00Z\",\"points\":1000,\"reason\":\"t\"}", NULL) == PB_OK);
  before = digest_of(book);
  /* 630 points pay 6.30, more than half of 12.40: refused, nothing changed. */
  CHECK(pb_book_apply(book, too_much, strlen(too_much), NULL, &err) == PB_EXCEEDS_ORDER);
  CHECK(pb_error_code(err) == PB_EXCEEDS_ORDER);
  CHECK(contains(pb_error_message(err), "more than the 6.20 "));
  pb_error_free(err);
  after = digest_of(book);
  CHECK(before && after && strcmp(before, after) == 0);
  pb_string_free(before);
  pb_string_free(after);
  /* 500 points pay 5.00 of p9, which arrives a minute later. */
  CHECK(apply(book, "{\"type\":\"redeem\",\"id\":\"x1\",\"member\":\"m1\",\"at\":\"2026-01-04T12:00:00Z\","
                    "\"reward\":\"pay\",\"points\":500,\"order_total\":\"12.40\",\"purchase\":\"p9\"}", &out) == PB_OK);
  CHECK(contains(out, "\"points\":-500,"));
  CHECK(contains(out, "\"discount\":\"5.00\""));
  pb_string_free(out);
  out = NULL;
  CHECK(apply(book, "{\"type\":\"purchase\",\"id\":\"p9\",\"member\":\"m1\",\"at\":\"2026-01-04T12:01:00Z\","
                    "\"lines\":[{\"sku\":\"BEANS\",\"category\":\"coffee\",\"amount\":\"12.40\"}]}", NULL) == PB_OK);
  /* A refund of 5.00 gives back floor(500 x 5.00 / 12.40) = 201 and takes back 5 of the earn. */
  CHECK(apply(book, "{\"type\":\"refund\",\"id\":\"r1\",\"member\":\"m1\",\"at\":\"2026-01-05T12:00:00Z\","
                    "\"purchase\":\"p9\",\"lines\":[{\"sku\":\"BEANS\",\"amount\":\"5.00\"}]}", &out) == PB_OK);
  CHECK(contains(out, "\"points\":196,"));
  CHECK(contains(out, "\"type\":\"RewardReversed\",\"member\":\"m1\",\"reward\":\"pay\",\"redemption\":\"x1\",\"points\":201,\"whole\":false"));
  pb_string_free(out);
  out = NULL;
  /* The rest (299) by a reversal; then nothing is left to reverse. */
  CHECK(apply(book, "{\"type\":\"reverse\",\"id\":\"v1\",\"member\":\"m1\",\"at\":\"2026-01-06T12:00:00Z\",\"redemption\":\"x1\"}", &out) == PB_OK);
  CHECK(contains(out, "\"points\":299,\"whole\":true"));
  pb_string_free(out);
  out = NULL;
  CHECK(apply(book, "{\"type\":\"reverse\",\"id\":\"v2\",\"member\":\"m1\",\"at\":\"2026-01-06T12:00:00Z\",\"redemption\":\"x1\",\"points\":1}", NULL) == PB_REVERSAL_EXCEEDS);
  CHECK(pb_book_balance(book, "m1", &out, NULL) == PB_OK);
  CHECK(contains(out, "\"available\":1007,"));
  pb_string_free(out);
  out = NULL;
  /* A quote paid with 500 points: 5.00 off 12.40, the 7.40 left earns 7. */
  CHECK(pb_book_quote(book, paid_quote, strlen(paid_quote), &out, NULL) == PB_OK);
  CHECK(contains(out, "\"points\":-493,"));
  CHECK(contains(out, "\"discount\":\"5.00\""));
  pb_string_free(out);
  pb_book_free(book);
  pb_program_free(program);
}

int main(int argc, char **argv) {
  pb_program *program;
  if (argc > 1) root = argv[1];
  program = load_program(root, "examples/programs/bean-and-leaf.toml");
  example_a_earning_and_c_refund(program);
  example_b_fifo_and_expiry(program);
  example_f_idempotency(program);
  error_paths(program);
  quote_and_hold(program);
  snapshot_in_process(program);
  threads_share_one_book(program);
  analytics(program);
  till();
  pb_program_free(program);
  return report("c-api");
}

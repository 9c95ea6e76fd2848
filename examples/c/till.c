/* A small till: load the program, open the till's store (a SQLite file that journals every
 * sale before the call returns), replay the day's events, quote a basket for the customer,
 * redeem a reward (hold, then confirm at payment), and close. A till that crashes, or loses
 * power, at any moment opens the store again and finds every sale it was told was recorded;
 * sending its queue again is safe: an event already recorded is answered as a duplicate.
 *
 * Build:  cc till.c $(pkg-config --cflags --libs pointbook) -o till
 * Run:    ./till PROGRAM.toml TILL.pointbook */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pointbook.h"

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long n;
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
    buf = (char *)malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
      buf[n] = '\0';
      *len = (size_t)n;
    } else {
      free(buf);
      buf = NULL;
    }
  }
  fclose(f);
  return buf;
}

/* Records an event (on disk when this returns) and prints what the till should act on.
 * Returns 0 on success. */
static int send(pb_store *store, const char *json) {
  char *outcome = NULL;
  pb_error *err = NULL;
  pb_status status = pb_store_apply(store, json, strlen(json), &outcome, &err);
  if (status != PB_OK) {
    fprintf(stderr, "rejected (%d): %s\n", (int)status, pb_error_message(err));
    pb_error_free(err);
    return 1;
  }
  if (strstr(outcome, "\"duplicate\":true")) {
    printf("already recorded\n");
  } else if (strstr(outcome, "RewardIssued")) {
    const char *code = strstr(outcome, "\"code\":\"");
    if (code) printf("voucher %.19s\n", code + 8);
  }
  pb_string_free(outcome);
  return 0;
}

static const char *DAY[] = {
    "{\"type\":\"enroll\",\"id\":\"e-ana\",\"member\":\"ana\",\"at\":\"2026-05-04T12:00:00Z\"}",
    "{\"type\":\"adjust\",\"id\":\"a-ana\",\"member\":\"ana\",\"at\":\"2026-05-04T12:00:00Z\",\"points\":200,\"reason\":\"migration\"}",
    "{\"type\":\"purchase\",\"id\":\"s-0001\",\"member\":\"ana\",\"at\":\"2026-05-04T12:05:00Z\",\"channel\":\"store\","
    "\"lines\":[{\"sku\":\"LATTE\",\"category\":\"coffee\",\"amount\":\"4.75\"},{\"sku\":\"SCONE\",\"category\":\"pastry\",\"amount\":\"3.00\"}]}",
    "{\"type\":\"purchase\",\"id\":\"s-0002\",\"member\":\"ana\",\"at\":\"2026-05-04T16:40:00Z\",\"channel\":\"store\","
    "\"lines\":[{\"sku\":\"BEANS\",\"category\":\"coffee\",\"amount\":\"16.50\"}]}",
};

int main(int argc, char **argv) {
  const char *program_path = argc > 1 ? argv[1] : "examples/programs/bean-and-leaf.toml";
  const char *store_path = argc > 2 ? argv[2] : "till.pointbook";
  const char *basket = "{\"id\":\"s-0003\",\"member\":\"ana\",\"at\":\"2026-05-04T17:00:00Z\","
                       "\"lines\":[{\"sku\":\"CROISSANT\",\"category\":\"pastry\",\"amount\":\"3.50\"}]}";
  pb_program *program = NULL;
  pb_store *store = NULL;
  pb_book *book;
  pb_error *err = NULL;
  char *text, *quote = NULL, *balance = NULL;
  size_t len = 0, i;
  int failed = 0;

  text = slurp(program_path, &len);
  if (!text || pb_program_load(text, len, &program, &err) != PB_OK) {
    fprintf(stderr, "cannot load %s: %s\n", program_path, text ? pb_error_message(err) : "unreadable");
    pb_error_free(err);
    free(text);
    return 1;
  }
  free(text);
  if (pb_store_open(store_path, program, NULL, &store, &err) != PB_OK) {
    /* PB_STORE_LOCKED: another till process has it open. */
    fprintf(stderr, "cannot open %s (%d): %s\n", store_path, (int)pb_error_code(err), pb_error_message(err));
    pb_error_free(err);
    pb_program_free(program);
    return 1;
  }
  book = pb_store_book(store); /* borrowed: reads and quotes; closed with the store */
  printf("pointbook %s, program loaded, store open\n", pb_version());

  for (i = 0; i < sizeof DAY / sizeof DAY[0]; i++) failed |= send(store, DAY[i]);

  if (pb_book_quote(book, basket, strlen(basket), &quote, &err) == PB_OK) {
    const char *points = strstr(quote, "\"points\":");
    printf("quote: this basket earns %d points\n", points ? atoi(points + 9) : -1);
    pb_string_free(quote);
  } else {
    fprintf(stderr, "quote failed: %s\n", pb_error_message(err));
    pb_error_free(err);
    failed = 1;
  }

  failed |= send(store, "{\"type\":\"redeem\",\"id\":\"rd-7\",\"member\":\"ana\",\"at\":\"2026-05-04T17:01:00Z\",\"reward\":\"free-drink\",\"hold\":true}");
  failed |= send(store, "{\"type\":\"confirm\",\"id\":\"rd-7-paid\",\"member\":\"ana\",\"at\":\"2026-05-04T17:02:00Z\",\"redemption\":\"rd-7\"}");

  if (pb_book_balance(book, "ana", &balance, NULL) == PB_OK) {
    printf("balance: %s\n", balance);
    pb_string_free(balance);
  }

  pb_store_close(store); /* everything acknowledged is on disk already */
  pb_program_free(program);
  return failed;
}

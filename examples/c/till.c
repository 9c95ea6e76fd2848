/* A small till: load the program, replay the day's events, quote a basket for the customer,
 * redeem a reward (hold, then confirm at payment), and save the book for the next start-up,
 * as an offline terminal would: so that a crash or a power cut at any moment leaves either
 * the previous snapshot or the new one, whole, never a torn file.
 *
 * Build:  cc till.c $(pkg-config --cflags --libs pointbook) -o till
 * Run:    ./till PROGRAM.toml BOOK.snapshot */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <io.h>
#include <windows.h>
#else
#include <fcntl.h>
#include <unistd.h>
#endif

#include "pointbook.h"

/* Flushes a written file to the disk (the C library's buffer was flushed already). */
static int sync_file(FILE *f) {
#ifdef _WIN32
  return _commit(_fileno(f)) == 0;
#else
  return fsync(fileno(f)) == 0;
#endif
}

/* Puts `tmp` in the place of `path` in one step, and makes the change itself durable. */
static int replace_file(const char *tmp, const char *path) {
#ifdef _WIN32
  return MoveFileExA(tmp, path, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH) != 0;
#else
  char dir[4096];
  const char *slash = strrchr(path, '/');
  size_t n = slash ? (size_t)(slash - path) : 0;
  int fd, ok;
  if (rename(tmp, path) != 0) return 0;
  /* The rename is an entry in the directory: flush the directory too, or a power cut can
   * bring back the old entry. */
  if (n == 0) strcpy(dir, slash ? "/" : ".");
  else if (n < sizeof dir) {
    memcpy(dir, path, n);
    dir[n] = '\0';
  } else return 0;
  fd = open(dir, O_RDONLY);
  if (fd < 0) return 0;
  ok = fsync(fd) == 0;
  close(fd);
  return ok;
#endif
}

/* Saves a snapshot safely: write it to a temporary file beside the old one, flush that file
 * to the disk, then rename it over the old one. A crash before the rename leaves the old
 * snapshot; after it, the new one; `pb_book_restore` refuses a torn or changed file anyway
 * (every snapshot carries a checksum of its state). */
static int save_snapshot(const char *path, const uint8_t *bytes, size_t len) {
  char tmp[4096];
  FILE *f;
  int ok;
  if (strlen(path) + 5 > sizeof tmp) return 0;
  strcpy(tmp, path);
  strcat(tmp, ".tmp");
  f = fopen(tmp, "wb");
  if (!f) return 0;
  ok = fwrite(bytes, 1, len, f) == len && fflush(f) == 0 && sync_file(f);
  if (fclose(f) != 0) ok = 0;
  if (!ok || !replace_file(tmp, path)) {
    remove(tmp);
    return 0;
  }
  return 1;
}

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

/* Applies an event and prints what the till should act on. Returns 0 on success. */
static int send(pb_book *book, const char *json) {
  char *outcome = NULL;
  pb_error *err = NULL;
  pb_status status = pb_book_apply(book, json, strlen(json), &outcome, &err);
  if (status != PB_OK) {
    fprintf(stderr, "rejected (%d): %s\n", (int)status, pb_error_message(err));
    pb_error_free(err);
    return 1;
  }
  if (strstr(outcome, "RewardIssued")) {
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
  const char *book_path = argc > 2 ? argv[2] : "till-book.snapshot";
  const char *basket = "{\"id\":\"s-0003\",\"member\":\"ana\",\"at\":\"2026-05-04T17:00:00Z\","
                       "\"lines\":[{\"sku\":\"CROISSANT\",\"category\":\"pastry\",\"amount\":\"3.50\"}]}";
  pb_program *program = NULL;
  pb_book *book = NULL;
  pb_error *err = NULL;
  char *text, *quote = NULL, *balance = NULL;
  uint8_t *bytes = NULL;
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
  if (pb_book_new(program, &book, NULL) != PB_OK) return 1;
  printf("pointbook %s, program loaded\n", pb_version());

  for (i = 0; i < sizeof DAY / sizeof DAY[0]; i++) failed |= send(book, DAY[i]);

  if (pb_book_quote(book, basket, strlen(basket), &quote, &err) == PB_OK) {
    const char *points = strstr(quote, "\"points\":");
    printf("quote: this basket earns %d points\n", points ? atoi(points + 9) : -1);
    pb_string_free(quote);
  } else {
    fprintf(stderr, "quote failed: %s\n", pb_error_message(err));
    pb_error_free(err);
    failed = 1;
  }

  failed |= send(book, "{\"type\":\"redeem\",\"id\":\"rd-7\",\"member\":\"ana\",\"at\":\"2026-05-04T17:01:00Z\",\"reward\":\"free-drink\",\"hold\":true}");
  failed |= send(book, "{\"type\":\"confirm\",\"id\":\"rd-7-paid\",\"member\":\"ana\",\"at\":\"2026-05-04T17:02:00Z\",\"redemption\":\"rd-7\"}");

  if (pb_book_balance(book, "ana", &balance, NULL) == PB_OK) {
    printf("balance: %s\n", balance);
    pb_string_free(balance);
  }

  if (pb_book_snapshot(book, &bytes, &len, NULL) == PB_OK && save_snapshot(book_path, bytes, len)) {
    printf("book saved to %s (%lu bytes)\n", book_path, (unsigned long)len);
  } else {
    fprintf(stderr, "cannot save the book to %s\n", book_path);
    failed = 1;
  }
  pb_bytes_free(bytes, len);
  pb_book_free(book);
  pb_program_free(program);
  return failed;
}

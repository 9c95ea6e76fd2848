/* Quote latency through the C ABI: replay a history into a book with pb_book_apply, then time
 * pb_book_quote (JSON in, JSON out, string freed) for 20,000 baskets; print p50 and p99.
 * Usage: quote_latency PROGRAM.toml HISTORY.jsonl AT MEMBERS   (run by benches/c_quote.sh) */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pointbook.h"

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long size;
  if (!f) {
    perror(path);
    exit(2);
  }
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)size + 1);
  if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) exit(2);
  buf[size] = '\0';
  fclose(f);
  *len = (size_t)size;
  return buf;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  enum { QUOTES = 20000 };
  size_t len, applied = 0;
  char *text, *line, *next;
  pb_program *program = NULL;
  pb_book *book = NULL;
  pb_error *err = NULL;
  static double samples[QUOTES];
  int members, i, n = 0;
  double started;
  if (argc < 5) {
    fprintf(stderr, "usage: %s PROGRAM HISTORY AT MEMBERS\n", argv[0]);
    return 2;
  }
  members = atoi(argv[4]);
  text = slurp(argv[1], &len);
  if (pb_program_load(text, len, &program, &err) != PB_OK) {
    fprintf(stderr, "program: %s\n", pb_error_message(err));
    return 2;
  }
  free(text);
  pb_book_new(program, &book, NULL);
  text = slurp(argv[2], &len);
  started = now();
  for (line = text; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = '\0';
    if (*line && pb_book_apply(book, line, strlen(line), NULL, NULL) == PB_OK) applied++;
  }
  printf("replayed %zu events through pb_book_apply in %.1f s\n", applied, now() - started);
  free(text);
  for (i = 0; i < QUOTES; i++) {
    char basket[512];
    char *outcome = NULL;
    double t;
    snprintf(basket, sizeof basket,
             "{\"id\":\"q%d\",\"member\":\"m%06d\",\"at\":\"%s\",\"lines\":["
             "{\"sku\":\"LATTE\",\"category\":\"coffee\",\"amount\":\"4.75\"},"
             "{\"sku\":\"CROISSANT\",\"category\":\"pastry\",\"amount\":\"3.50\"}]}",
             i, i % members, argv[3]);
    t = now();
    if (pb_book_quote(book, basket, strlen(basket), &outcome, NULL) == PB_OK) {
      samples[n++] = now() - t;
      pb_string_free(outcome);
    }
  }
  qsort(samples, (size_t)n, sizeof samples[0], cmp);
  if (n > 0) {
    printf("| pb_book_quote (C ABI, JSON in and out) | %.1f us | %.1f us |  (%d quotes)\n",
           samples[n / 2] * 1e6, samples[(int)((n - 1) * 0.99)] * 1e6, n);
  }
  pb_book_free(book);
  pb_program_free(program);
  return n > 0 ? 0 : 1;
}

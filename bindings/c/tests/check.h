/* Tiny test helpers shared by the C tests. */
#ifndef POINTBOOK_TEST_CHECK_H
#define POINTBOOK_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pointbook.h"

static int checks_passed = 0;
static int checks_failed = 0;

#define CHECK(cond)                                                                \
  do {                                                                             \
    if (cond) {                                                                    \
      checks_passed++;                                                             \
    } else {                                                                       \
      checks_failed++;                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);     \
    }                                                                              \
  } while (0)

/* Reads a whole file into a NUL-terminated buffer (caller frees). */
static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long size;
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(2);
  }
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = (char *)malloc((size_t)size + 1);
  if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  buf[size] = '\0';
  fclose(f);
  if (len) *len = (size_t)size;
  return buf;
}

/* Loads a program file relative to the repository root. */
static pb_program *load_program(const char *root, const char *relative) {
  char path[4096];
  size_t len;
  char *text;
  pb_program *program = NULL;
  pb_error *err = NULL;
  snprintf(path, sizeof path, "%s/%s", root, relative);
  text = read_file(path, &len);
  if (pb_program_load(text, len, &program, &err) != PB_OK) {
    fprintf(stderr, "%s: %s\n", path, pb_error_message(err));
    exit(2);
  }
  free(text);
  return program;
}

/* Applies an event; returns its status; the outcome (if wanted) must be freed. */
static pb_status apply(pb_book *book, const char *json, char **outcome) {
  pb_error *err = NULL;
  pb_status status = pb_book_apply(book, json, strlen(json), outcome, &err);
  if (status != PB_OK && getenv("PB_TEST_VERBOSE")) fprintf(stderr, "rejected: %s\n", pb_error_message(err));
  pb_error_free(err);
  return status;
}

static int contains(const char *haystack, const char *needle) {
  return haystack != NULL && strstr(haystack, needle) != NULL;
}

/* A freshly allocated digest of the book (caller frees with pb_string_free). */
static char *digest_of(const pb_book *book) {
  char *d = NULL;
  if (pb_book_digest(book, &d, NULL) != PB_OK) return NULL;
  return d;
}

static int report(const char *suite) {
  printf("%s: %d passed, %d failed\n", suite, checks_passed, checks_failed);
  return checks_failed == 0 ? 0 : 1;
}

#endif

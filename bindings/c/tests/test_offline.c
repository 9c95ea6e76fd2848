/* An offline till: saves its book to a file, the process ends, a new process reloads it and
 * carries on; the result equals never having stopped.
 * Usage: test_offline save|resume SNAPSHOT_FILE REPO_ROOT */
#include "check.h"

#define SPLIT 6 /* events applied before the restart */

static int apply_lines(pb_book *book, char *events, int from, int to) {
  int n = 0, applied = 0;
  char *line = strtok(events, "\n");
  while (line) {
    if (n >= from && n < to) {
      pb_status s = apply(book, line, NULL);
      if (s == PB_OK || s == PB_INVALID_EVENT) applied++; /* the file has one malformed line */
    }
    n++;
    line = strtok(NULL, "\n");
  }
  return applied;
}

int main(int argc, char **argv) {
  char path[4096];
  char *events;
  pb_program *program;
  pb_book *book = NULL;
  if (argc != 4) {
    fprintf(stderr, "usage: test_offline save|resume FILE ROOT\n");
    return 2;
  }
  program = load_program(argv[3], "examples/programs/bean-and-leaf.toml");
  snprintf(path, sizeof path, "%s/examples/events/bean-and-leaf.jsonl", argv[3]);
  events = read_file(path, NULL);
  if (strcmp(argv[1], "save") == 0) {
    uint8_t *bytes = NULL;
    size_t len = 0;
    FILE *f;
    CHECK(pb_book_new(program, &book, NULL) == PB_OK);
    CHECK(apply_lines(book, events, 0, SPLIT) == SPLIT);
    CHECK(pb_book_snapshot(book, &bytes, &len, NULL) == PB_OK);
    f = fopen(argv[2], "wb");
    CHECK(f != NULL && fwrite(bytes, 1, len, f) == len);
    if (f) fclose(f);
    pb_bytes_free(bytes, len);
  } else {
    size_t len = 0;
    char *saved = read_file(argv[2], &len);
    char *copy = (char *)malloc(strlen(events) + 1);
    pb_book *straight = NULL;
    char *a, *b, *out = NULL;
    CHECK(pb_book_restore(program, (const uint8_t *)saved, len, &book, NULL) == PB_OK);
    strcpy(copy, events);
    apply_lines(book, copy, SPLIT, 1000);
    /* An event from before the restart is still known: a resend is a duplicate. */
    CHECK(apply(book, "{\"type\":\"enroll\",\"id\":\"e1\",\"member\":\"m1\",\"at\":\"2026-01-10T15:00:00Z\",\"birthday\":\"1990-02-28\"}", &out) == PB_OK);
    CHECK(contains(out, "\"duplicate\":true"));
    pb_string_free(out);
    CHECK(pb_book_new(program, &straight, NULL) == PB_OK);
    strcpy(copy, events);
    apply_lines(straight, copy, 0, 1000);
    a = digest_of(book);
    b = digest_of(straight);
    CHECK(a && b && strcmp(a, b) == 0);
    pb_string_free(a);
    pb_string_free(b);
    pb_book_free(straight);
    free(copy);
    free(saved);
  }
  pb_book_free(book);
  free(events);
  pb_program_free(program);
  return report(argv[1][0] == 's' ? "c-offline-save" : "c-offline-resume");
}

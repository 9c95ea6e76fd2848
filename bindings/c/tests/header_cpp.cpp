// The header compiles as C++ and links from C++.
#include "pointbook.h"

#include <cstdio>
#include <cstring>

int main() {
  pb_error *err = nullptr;
  pb_program *program = nullptr;
  pb_status status = pb_program_load("x", 1, &program, &err);
  bool ok = status == PB_INVALID_PROGRAM && pb_error_code(err) == PB_INVALID_PROGRAM &&
            std::strcmp(pb_version(), "0.1.0") == 0;
  pb_error_free(err);
  std::printf("c++: %d passed, %d failed\n", ok ? 1 : 0, ok ? 0 : 1);
  return ok ? 0 : 1;
}

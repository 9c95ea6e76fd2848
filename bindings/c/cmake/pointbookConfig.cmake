# find_package(pointbook) config: defines pointbook::pointbook (shared) and
# pointbook::pointbook_static. Installed by bindings/c/install.sh under PREFIX/lib/cmake/pointbook.
get_filename_component(_pointbook_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

if(NOT TARGET pointbook::pointbook)
  add_library(pointbook::pointbook SHARED IMPORTED)
  set_target_properties(pointbook::pointbook PROPERTIES
    IMPORTED_LOCATION "${_pointbook_prefix}/lib/libpointbook.so"
    INTERFACE_INCLUDE_DIRECTORIES "${_pointbook_prefix}/include")
endif()

if(NOT TARGET pointbook::pointbook_static)
  add_library(pointbook::pointbook_static STATIC IMPORTED)
  set_target_properties(pointbook::pointbook_static PROPERTIES
    IMPORTED_LOCATION "${_pointbook_prefix}/lib/libpointbook.a"
    INTERFACE_INCLUDE_DIRECTORIES "${_pointbook_prefix}/include"
    INTERFACE_LINK_LIBRARIES "pthread;dl;m")
endif()

set(pointbook_FOUND TRUE)

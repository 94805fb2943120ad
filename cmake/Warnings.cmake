add_library(mm_warnings INTERFACE)
target_compile_options(mm_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor
  -Wno-missing-field-initializers)

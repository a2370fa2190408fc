# Picky warnings for our own code; errors when TC_WERROR is on (the test build and CI).
set(TC_WARNINGS
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
  -Wswitch-enum -Wpointer-arith -Wcast-qual -Wvla -Wundef -Wno-unused-parameter)
if(TC_WERROR)
  list(APPEND TC_WARNINGS -Werror)
endif()
add_compile_options(${TC_WARNINGS})
add_compile_definitions(_POSIX_C_SOURCE=200809L)

# Compiler flags, defined once for every target.
set(XQ_WARNINGS -Wall -Wextra -Wshadow -Wformat=2 -Wformat-security -Wstrict-prototypes
  -Wmissing-prototypes -Wpointer-arith -Wcast-align -Wvla -Wundef -Wno-unused-parameter
  -Wno-missing-field-initializers)
if(XQ_WERROR)
  list(APPEND XQ_WARNINGS -Werror)
endif()
add_compile_options(${XQ_WARNINGS} -fstack-protector-strong -D_FORTIFY_SOURCE=2 -D_GNU_SOURCE)
if(XQ_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

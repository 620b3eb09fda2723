# fieldsync_warnings: the full warning set for project code. fieldsync_test_warnings: the same
# less the casts/conversion checks that CppUTest's own macros trip over.
set(FIELDSYNC_BASE_WARNINGS -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
    -Wformat=2)
set(FIELDSYNC_STRICT_WARNINGS -Wconversion -Wsign-conversion -Wold-style-cast -Wcast-align
    -Wnull-dereference)
# GCC 12 at -O2 reports -Wnull-dereference inside inlined libstdc++, CLI11 and Boost.Asio code
# (false positives in system headers); the warning stays visible but does not fail optimised builds.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND FIELDSYNC_STRICT_WARNINGS -Wno-error=null-dereference)
endif()

add_library(fieldsync_build_flags INTERFACE)
if(FIELDSYNC_WERROR)
  target_compile_options(fieldsync_build_flags INTERFACE -Werror)
endif()
if(FIELDSYNC_SANITIZE)
  target_compile_options(fieldsync_build_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(fieldsync_build_flags INTERFACE -fsanitize=address,undefined)
endif()

add_library(fieldsync_warnings INTERFACE)
target_compile_options(fieldsync_warnings INTERFACE ${FIELDSYNC_BASE_WARNINGS}
  ${FIELDSYNC_STRICT_WARNINGS})
target_link_libraries(fieldsync_warnings INTERFACE fieldsync_build_flags)

add_library(fieldsync_test_warnings INTERFACE)
target_compile_options(fieldsync_test_warnings INTERFACE ${FIELDSYNC_BASE_WARNINGS})
target_link_libraries(fieldsync_test_warnings INTERFACE fieldsync_build_flags)

# fieldsync_add_library(NAME SOURCES...): one small static library per top-level folder.
function(fieldsync_add_library name)
  add_library(${name} STATIC ${ARGN})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE fieldsync_warnings)
endfunction()

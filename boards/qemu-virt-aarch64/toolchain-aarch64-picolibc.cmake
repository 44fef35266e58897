# Cross-check toolchain: AArch64 + picolibc exactly as the seL4 root task compiles the engine and
# firmware and bindings (freestanding, picolibc headers before gcc's), for CI without seL4. Debian packages:
# gcc-aarch64-linux-gnu picolibc-aarch64-linux-gnu. Use: cmake -DCMAKE_TOOLCHAIN_FILE=<this file>.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
# Nothing here can be linked into a program without seL4's runtime: compiler checks build a library.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(COHESIX_PICOLIBC_ROOT /usr/lib/picolibc/aarch64-linux-gnu CACHE PATH "picolibc for aarch64 (headers in include/)")
if(NOT EXISTS ${COHESIX_PICOLIBC_ROOT}/include/picolibc.h)
  message(FATAL_ERROR "picolibc for aarch64 not found at ${COHESIX_PICOLIBC_ROOT}: install picolibc-aarch64-linux-gnu "
                      "or pass -DCOHESIX_PICOLIBC_ROOT=")
endif()
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include OUTPUT_VARIABLE COHESIX_GCC_INCLUDE
                OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE gcc_rc)
if(NOT gcc_rc EQUAL 0)
  message(FATAL_ERROR "${CMAKE_C_COMPILER} not runnable: install gcc-aarch64-linux-gnu")
endif()

# The platform flags, shared with sel4-platform/CMakeLists.txt (the real root task) through this list.
# None of them is an engine define: they decide how the C is compiled for this libc, never which
# bytecode features exist, so ENGINE_DEFINES (and with it the .qbc fingerprint) stay the host's.
#  -ffreestanding -nostdinc: no host libc; picolibc's headers, then gcc's (stddef.h, stdarg.h)
#  sel4-platform/freestanding: the stand-in pthread.h cutils.h includes (no threads with __STDC_NO_ATOMICS__)
#  NO_TM_GMTOFF: picolibc's struct tm has no tm_gmtoff; quickjs-ng then derives the offset from mktime
#  _POSIX_MONOTONIC_CLOCK: picolibc names CLOCK_MONOTONIC only when the platform claims it (our glue serves it)
#  -mstrict-align: seL4 maps device memory uncached, where unaligned access faults (seL4's own flag)
#  -mno-outline-atomics: no __getauxval-based dispatch in our code (seL4's own flag)
get_filename_component(COHESIX_REPO_ROOT ${CMAKE_CURRENT_LIST_DIR}/../.. ABSOLUTE)
set(COHESIX_FREESTANDING_FLAGS
  "-ffreestanding -nostdinc -isystem ${COHESIX_PICOLIBC_ROOT}/include -isystem ${COHESIX_REPO_ROOT}/sel4-platform/freestanding -isystem ${COHESIX_GCC_INCLUDE} -DNO_TM_GMTOFF -D_POSIX_MONOTONIC_CLOCK=200112L -mstrict-align -mno-outline-atomics -fno-pic -fno-pie")
set(CMAKE_C_FLAGS_INIT "${COHESIX_FREESTANDING_FLAGS}")
set(COHESIX_FREESTANDING ON CACHE BOOL "Cross-check build: libraries only" FORCE)

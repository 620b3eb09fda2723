# Shared part of the Debian cross toolchain files. The including file sets FIELDSYNC_CROSS_TRIPLET
# (aarch64-linux-gnu), FIELDSYNC_CROSS_DEB_ARCH (arm64), FIELDSYNC_CROSS_PROCESSOR and
# FIELDSYNC_CROSS_QEMU (qemu-aarch64-static).
#
# Compilers, C library and libstdc++ come from crossbuild-essential-<arch> (under /usr/<triplet>);
# every other library comes from a sysroot of Debian's packages assembled by
# toolchains/make-sysroot.sh. The sysroot is not passed to the compiler as --sysroot because it holds
# no C library: it is searched like an install prefix instead (CMAKE_FIND_ROOT_PATH, pkg-config).

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${FIELDSYNC_CROSS_PROCESSOR})
set(CMAKE_LIBRARY_ARCHITECTURE ${FIELDSYNC_CROSS_TRIPLET})

set(CMAKE_C_COMPILER ${FIELDSYNC_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${FIELDSYNC_CROSS_TRIPLET}-g++)

# Where the sysroot lives: -DFIELDSYNC_SYSROOT=..., else $FIELDSYNC_SYSROOT, else
# build/sysroot-<arch> in the source tree (where make-sysroot.sh puts it by default).
if(NOT FIELDSYNC_SYSROOT)
  if(DEFINED ENV{FIELDSYNC_SYSROOT} AND NOT "$ENV{FIELDSYNC_SYSROOT}" STREQUAL "")
    set(FIELDSYNC_SYSROOT "$ENV{FIELDSYNC_SYSROOT}")
  else()
    get_filename_component(FIELDSYNC_SYSROOT
      "${CMAKE_CURRENT_LIST_DIR}/../build/sysroot-${FIELDSYNC_CROSS_DEB_ARCH}" ABSOLUTE)
  endif()
endif()
set(FIELDSYNC_SYSROOT "${FIELDSYNC_SYSROOT}" CACHE PATH
  "Sysroot of Debian ${FIELDSYNC_CROSS_DEB_ARCH} libraries (toolchains/make-sysroot.sh)")
# try_compile projects re-read this file in a fresh scope; hand them the same sysroot.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES FIELDSYNC_SYSROOT)

if(NOT EXISTS "${FIELDSYNC_SYSROOT}/.complete")
  message(FATAL_ERROR "No ${FIELDSYNC_CROSS_DEB_ARCH} sysroot at ${FIELDSYNC_SYSROOT}: run "
    "toolchains/make-sysroot.sh ${FIELDSYNC_CROSS_DEB_ARCH} (or tests/cross.sh) first.")
endif()

set(CMAKE_FIND_ROOT_PATH "${FIELDSYNC_SYSROOT}" "/usr/${FIELDSYNC_CROSS_TRIPLET}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config reads only the sysroot's .pc files and prefixes their paths with the sysroot.
set(ENV{PKG_CONFIG_LIBDIR}
  "${FIELDSYNC_SYSROOT}/usr/lib/${FIELDSYNC_CROSS_TRIPLET}/pkgconfig:${FIELDSYNC_SYSROOT}/usr/lib/pkgconfig:${FIELDSYNC_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${FIELDSYNC_SYSROOT}")

# The libraries' own dependencies (libpq needs libssl, libgssapi...) are resolved by the linker
# through -rpath-link; Debian 12 still ships some of them under /lib.
set(_fieldsync_libdirs
  "${FIELDSYNC_SYSROOT}/usr/lib/${FIELDSYNC_CROSS_TRIPLET}"
  "${FIELDSYNC_SYSROOT}/lib/${FIELDSYNC_CROSS_TRIPLET}")
string(JOIN ":" _fieldsync_libpath ${_fieldsync_libdirs})
foreach(kind EXE SHARED MODULE)
  set(CMAKE_${kind}_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_fieldsync_libpath}")
endforeach()

# ctest runs the cross-built binaries under qemu-user: the loader and libc come from the
# toolchain's directory, the other libraries from the sysroot.
find_program(FIELDSYNC_QEMU ${FIELDSYNC_CROSS_QEMU})
if(FIELDSYNC_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR
    "${FIELDSYNC_QEMU};-L;/usr/${FIELDSYNC_CROSS_TRIPLET};-E;LD_LIBRARY_PATH=${_fieldsync_libpath}")
endif()

# Cross-build for 64-bit ARM (Debian arm64): crossbuild-essential-arm64, qemu-user-static and a
# sysroot from toolchains/make-sysroot.sh arm64. See docs/building.md.
set(FIELDSYNC_CROSS_TRIPLET aarch64-linux-gnu)
set(FIELDSYNC_CROSS_DEB_ARCH arm64)
set(FIELDSYNC_CROSS_PROCESSOR aarch64)
set(FIELDSYNC_CROSS_QEMU qemu-aarch64-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)

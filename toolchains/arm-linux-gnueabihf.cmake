# Cross-build for 32-bit ARM with hardware floating point (Debian armhf, 32-bit time_t):
# crossbuild-essential-armhf, qemu-user-static and a sysroot from toolchains/make-sysroot.sh armhf.
# See docs/building.md.
set(FIELDSYNC_CROSS_TRIPLET arm-linux-gnueabihf)
set(FIELDSYNC_CROSS_DEB_ARCH armhf)
set(FIELDSYNC_CROSS_PROCESSOR armv7l)
set(FIELDSYNC_CROSS_QEMU qemu-arm-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)

# Debian packages through CPack: `cpack -G DEB` in a build tree (amd64, or arm64/armhf when
# cross-built with a toolchain from toolchains/). tests/package.sh builds and checks them; see
# docs/packaging.md.
include(GNUInstallDirs)

install(FILES deploy/fieldsync.service DESTINATION lib/systemd/system)
install(FILES deploy/fieldsync.example.toml DESTINATION /etc/fieldsync
        RENAME fieldsync.toml)
install(FILES README.md deploy/fieldsync.example.toml DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The package's architecture: -DFIELDSYNC_DEB_ARCH=..., else the cross toolchain's
# (FIELDSYNC_CROSS_DEB_ARCH, set by toolchains/*.cmake), else the build host's. A cross build that
# names none would label an ARM binary with the host's architecture: refuse it.
if(NOT FIELDSYNC_DEB_ARCH AND FIELDSYNC_CROSS_DEB_ARCH)
  set(FIELDSYNC_DEB_ARCH ${FIELDSYNC_CROSS_DEB_ARCH})
endif()
if(NOT FIELDSYNC_DEB_ARCH)
  if(CMAKE_CROSSCOMPILING)
    message(FATAL_ERROR "Cross-compiling without FIELDSYNC_DEB_ARCH: use a toolchain file from "
                        "toolchains/ or pass -DFIELDSYNC_DEB_ARCH=<Debian architecture>.")
  endif()
  execute_process(COMMAND dpkg --print-architecture OUTPUT_VARIABLE FIELDSYNC_DEB_ARCH
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fieldsync)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# The Maintainer field. The default is under the reserved .example domain (RFC 2606) so that no
# mail about a package reaches a stranger's domain; whoever publishes packages sets their own:
# -DFIELDSYNC_DEB_MAINTAINER="Name <address>".
set(FIELDSYNC_DEB_MAINTAINER "fieldsync maintainers <maintainers@fieldsync.example>"
    CACHE STRING "Maintainer field of the Debian package: \"Name <address>\"")
if(NOT FIELDSYNC_DEB_MAINTAINER MATCHES "^[^<>]+ <[^<>@ ]+@[^<>@ ]+>$")
  message(FATAL_ERROR "FIELDSYNC_DEB_MAINTAINER must read \"Name <user@host>\", got "
                      "\"${FIELDSYNC_DEB_MAINTAINER}\"")
endif()
set(CPACK_PACKAGE_CONTACT "${FIELDSYNC_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${FIELDSYNC_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "edge agent: sensor readings to SQLite to PostgreSQL")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "fieldsync takes sensor and meter readings from Arduino boards over a serial line, from an MQTT
broker and from HTTP POSTs, keeps them durably in a local SQLite store, computes hourly and daily
aggregates and pushes them in batches to a central PostgreSQL database. Runs as the systemd
service fieldsync.service under its own system user.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${FIELDSYNC_DEB_ARCH})
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Named by hand rather than by dpkg-shlibdeps so that cross builds, whose libraries live in a
# sysroot, get the same list. tests/package.sh checks it against the libraries the binary needs
# (readelf NEEDED mapped to their Debian packages) for every architecture.
set(_fieldsync_depends
    "libc6 (>= 2.36)" "libstdc++6 (>= 12)" libgcc-s1 "libsqlite3-0 (>= 3.37)" "libpq5 (>= 12)"
    "libtomlplusplus3 (>= 3.3)" libspdlog1.10 libfmt9 libdate-tz3 "libpaho-mqttpp3-1 (>= 1.2)"
    libpaho-mqtt1.3 libsystemd0 tzdata adduser)
string(JOIN ", " CPACK_DEBIAN_PACKAGE_DEPENDS ${_fieldsync_depends})
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "postgresql-client")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "mosquitto")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles
    ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/prerm
    ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES TRUE)
include(CPack)

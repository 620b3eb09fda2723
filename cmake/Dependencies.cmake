# Every third-party library comes from Debian's packages (see tests/deps.sh).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
pkg_check_modules(TOMLPLUSPLUS REQUIRED IMPORTED_TARGET tomlplusplus)
pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)

find_package(Boost 1.74 REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(date REQUIRED)
find_package(PahoMqttCpp REQUIRED)

if(FIELDSYNC_BUILD_TESTS)
  # Debian's CppUTest CMake config is broken; its pkg-config file works.
  pkg_check_modules(CPPUTEST REQUIRED IMPORTED_TARGET cpputest)
endif()

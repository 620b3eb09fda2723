#include "drivers/serial_port.hpp"

#include <CppUTest/TestHarness.h>
#include <fcntl.h>

#include "tests/drivers/serial/pty_pair.hpp"
#include "tests/support/temp_dir.hpp"

using namespace fieldsync;

TEST_GROUP(SerialPort){};

TEST(SerialPort, StandardRatesAreSupportedAndOthersAreConfigurationErrors) {
  for (unsigned baud : {9600u, 19200u, 57600u, 115200u, 230400u, 1000000u}) {
    CHECK(drivers::TermiosSpeed(baud).has_value());
  }
  drivers::SerialSpec spec;
  spec.name = "arduino1";
  spec.baud = 115201;
  auto valid = drivers::ValidateSerialSpec(spec);
  CHECK_FALSE(valid.has_value());
  CHECK(valid.error().code == core::Errc::kInvalidArgument);
  CHECK(valid.error().message.find("115201") != std::string::npos);
  CHECK(valid.error().message.find("arduino1") != std::string::npos);
}

TEST(SerialPort, OpensAPtyCloseOnExecAndReportsAMissingDevice) {
  testing::TempDir dir;
  testing::PtyPair pty(dir.File("ttyACM0"));
  drivers::SerialSpec spec;
  spec.port = pty.link();
  drivers::TtyPortOpener opener;
  auto fd = opener.Open(spec);
  CHECK(fd.has_value());
  int flags = ::fcntl(fd->get(), F_GETFD);
  CHECK((flags & FD_CLOEXEC) != 0);

  spec.port = dir.File("absent");
  auto missing = opener.Open(spec);
  CHECK_FALSE(missing.has_value());
  CHECK(missing.error().code == core::Errc::kNotFound);
  CHECK(missing.error().message.find("absent") != std::string::npos);
}

#include "drivers/serial_port.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

namespace fieldsync::drivers {
namespace {

struct BaudEntry {
  unsigned baud;
  speed_t speed;
};

// The standard rates of Linux termios. Arbitrary rates (BOTHER) are deliberately not offered:
// Arduino boards use these, and a typo should fail loudly.
constexpr std::array<BaudEntry, 25> kBaudRates = {{
    {1200, B1200},       {2400, B2400},       {4800, B4800},       {9600, B9600},
    {19200, B19200},     {38400, B38400},     {57600, B57600},     {115200, B115200},
    {230400, B230400},   {460800, B460800},   {500000, B500000},   {576000, B576000},
    {921600, B921600},   {1000000, B1000000}, {1152000, B1152000}, {1500000, B1500000},
    {2000000, B2000000}, {2500000, B2500000}, {3000000, B3000000}, {3500000, B3500000},
    {4000000, B4000000}, {300, B300},         {600, B600},         {150, B150},
    {110, B110},
}};

core::Error SystemError(const std::string& what, const std::string& path, int err) {
  return core::MakeError(err == ENOENT || err == ENODEV ? core::Errc::kNotFound : core::Errc::kIo,
                         what + " " + path + ": " + std::strerror(err));
}

}  // namespace

PortDescriptor::~PortDescriptor() {
  if (fd_ >= 0) ::close(fd_);
}

PortDescriptor& PortDescriptor::operator=(PortDescriptor&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

std::optional<unsigned> TermiosSpeed(unsigned baud) {
  for (const auto& entry : kBaudRates) {
    if (entry.baud == baud) return static_cast<unsigned>(entry.speed);
  }
  return std::nullopt;
}

core::Status ValidateSerialSpec(const SerialSpec& spec) {
  if (TermiosSpeed(spec.baud)) return core::Ok();
  return core::MakeError(core::Errc::kInvalidArgument,
                         "serial input '" + spec.name + "': unsupported baud rate " +
                             std::to_string(spec.baud) +
                             " (supported: 300 1200 2400 4800 9600 19200 38400 57600 115200 "
                             "230400 460800 500000 921600 1000000 2000000 ...)");
}

core::Expected<PortDescriptor> TtyPortOpener::Open(const SerialSpec& spec) {
  auto speed = TermiosSpeed(spec.baud);
  if (!speed) return ValidateSerialSpec(spec).error();
  PortDescriptor fd(::open(spec.port.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return SystemError("cannot open", spec.port, errno);

  termios tio{};
  if (::tcgetattr(fd.get(), &tio) != 0) return SystemError("not a serial port:", spec.port, errno);
  ::cfmakeraw(&tio);
  tio.c_cflag |= CLOCAL | CREAD;
  tio.c_cflag &= ~static_cast<tcflag_t>(CSTOPB | PARENB | CRTSCTS);
  tio.c_iflag &= ~static_cast<tcflag_t>(IXON | IXOFF | IXANY);
  tio.c_cc[VMIN] = 1;
  tio.c_cc[VTIME] = 0;
  auto s = static_cast<speed_t>(*speed);
  if (::cfsetispeed(&tio, s) != 0 || ::cfsetospeed(&tio, s) != 0 ||
      ::tcsetattr(fd.get(), TCSANOW, &tio) != 0) {
    return SystemError("cannot configure", spec.port, errno);
  }
  return fd;
}

}  // namespace fieldsync::drivers

#pragma once
// Opening a serial device for the serial input (§2): the part that touches the operating
// system, behind SerialPortOpener so that tests can count opens or refuse them. The real
// TtyPortOpener works on USB serial adapters and on pseudo-terminals alike.

#include <optional>
#include <string>

#include "core/expected.hpp"
#include "drivers/input_specs.hpp"

namespace fieldsync::drivers {

// A file descriptor owned by one object: closed on destruction unless released.
class PortDescriptor {
 public:
  PortDescriptor() = default;
  explicit PortDescriptor(int fd) : fd_(fd) {}
  ~PortDescriptor();
  PortDescriptor(PortDescriptor&& other) noexcept : fd_(other.release()) {}
  PortDescriptor& operator=(PortDescriptor&& other) noexcept;
  PortDescriptor(const PortDescriptor&) = delete;
  PortDescriptor& operator=(const PortDescriptor&) = delete;

  int get() const { return fd_; }
  // Hands ownership to the caller (e.g. an asio serial_port).
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// The termios speed constant for `baud`, or nullopt when Linux has no such standard rate.
std::optional<unsigned> TermiosSpeed(unsigned baud);

// kInvalidArgument naming the input and the supported rates when `spec.baud` is not one of
// them: an unsupported rate is a configuration error, never a silent fallback (§2).
core::Status ValidateSerialSpec(const SerialSpec& spec);

class SerialPortOpener {
 public:
  virtual ~SerialPortOpener() = default;
  // Opens `spec.port` and configures it; the descriptor is the caller's. Errors carry the path
  // and the system's reason (kNotFound when the device is absent, kIo otherwise).
  virtual core::Expected<PortDescriptor> Open(const SerialSpec& spec) = 0;
};

// open(2) with O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC (never inherited by spawned
// programs, never the controlling terminal, never blocking on modem lines), then termios raw
// 8N1 at spec.baud, CLOCAL and CREAD, no flow control. Bytes already buffered are kept: a
// partial first line is rejected by the decoder like any garbage line.
class TtyPortOpener final : public SerialPortOpener {
 public:
  core::Expected<PortDescriptor> Open(const SerialSpec& spec) override;
};

}  // namespace fieldsync::drivers

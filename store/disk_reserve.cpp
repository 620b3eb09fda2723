#include "store/disk_reserve.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace fieldsync::store {

std::optional<std::int64_t> FreeBytes(const std::string& path) {
  // statvfs needs an existing path: use the directory part.
  std::string::size_type slash = path.rfind('/');
  std::string dir =
      slash == std::string::npos ? "." : path.substr(0, std::max<std::size_t>(slash, 1));
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) != 0) return std::nullopt;
  return static_cast<std::int64_t>(fs.f_bavail) * static_cast<std::int64_t>(fs.f_frsize);
}

core::Status DiskReserve::Take() {
  if (held_) return core::Ok();
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    return core::MakeError(err == ENOSPC ? core::Errc::kFull : core::Errc::kIo,
                           "create " + path_ + ": " + std::strerror(err));
  }
  // posix_fallocate really allocates blocks (unlike ftruncate, which makes a sparse file).
  int err = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes_));
  ::close(fd);
  if (err != 0) {
    ::unlink(path_.c_str());  // a partial reserve would hold space without being counted on
    return core::MakeError(
        err == ENOSPC ? core::Errc::kFull : core::Errc::kIo,
        "reserve " + std::to_string(bytes_) + " bytes in " + path_ + ": " + std::strerror(err));
  }
  held_ = true;
  return core::Ok();
}

bool DiskReserve::Release() {
  bool had = ::unlink(path_.c_str()) == 0;
  held_ = false;
  return had;
}

}  // namespace fieldsync::store

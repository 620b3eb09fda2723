#pragma once
// SmallFilesystem: a size-limited tmpfs mounted at <dir>/fs for disk-full tests, unmounted (lazily)
// on destruction. Needs root; mounted() is false, with the reason printed as a SKIPPED line, when
// not root or mounting is not allowed here. Filler files take space that a test frees later.

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace fieldsync::testing {

class SmallFilesystem {
 public:
  // `size` as tmpfs takes it: "2m", "512k".
  SmallFilesystem(const TempDir& dir, const std::string& size) : path_(dir.File("fs")) {
    if (::geteuid() != 0) {
      std::printf("\nSKIPPED disk-full test: needs root to mount a small tmpfs\n");
      return;
    }
    ::mkdir(path_.c_str(), 0700);
    if (::mount("tmpfs", path_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) != 0) {
      std::printf("\nSKIPPED disk-full test: mount tmpfs: %s\n", std::strerror(errno));
      return;
    }
    mounted_ = true;
  }
  ~SmallFilesystem() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  SmallFilesystem(const SmallFilesystem&) = delete;
  SmallFilesystem& operator=(const SmallFilesystem&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& path() const { return path_; }

  // Writes `bytes` (or as much as fits) to `name` under the mount point.
  void WriteFiller(const std::string& name, std::size_t bytes) const {
    std::ofstream out(path_ + "/" + name, std::ios::binary);
    const std::string block(4096, 'f');
    for (std::size_t written = 0; written < bytes && out; written += block.size()) out << block;
  }
  // Removes filler `name`: the space comes back.
  bool RemoveFiller(const std::string& name) const {
    return std::remove((path_ + "/" + name).c_str()) == 0;
  }

 private:
  std::string path_;
  bool mounted_ = false;
};

}  // namespace fieldsync::testing

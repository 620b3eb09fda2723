#pragma once
// StateLock: the exclusive writer lock on <state_dir>/lock (§3). One process writes the store at
// a time; `run` holds the lock for its lifetime, writing commands hold it while they work.
// The lock is flock(2) on an O_CLOEXEC descriptor: it is released when the StateLock is
// destroyed or the process dies, never inherited by spawned programs. The holder's pid is
// written into the file so that a refused process can say who holds it.

#include <string>
#include <utility>

#include "core/expected.hpp"

namespace fieldsync::store {

class StateLock {
 public:
  // Takes the lock without waiting. kBusy when another open file description holds it (another
  // process, or this one through another StateLock), naming the path and the holder's pid;
  // kIo when the file cannot be opened.
  static core::Expected<StateLock> Acquire(const std::string& state_dir);

  ~StateLock();
  StateLock(StateLock&& other) noexcept;
  StateLock& operator=(StateLock&& other) noexcept;
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  StateLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace fieldsync::store

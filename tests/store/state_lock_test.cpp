// The writer lock: a second holder is refused while the first holds it, and may take it after.

#include "store/state_lock.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "tests/support/temp_dir.hpp"

// CppUTest redefines `new`: its header comes after every other one.
#include <CppUTest/TestHarness.h>

using fieldsync::core::Errc;
using fieldsync::store::StateLock;
using fieldsync::testing::TempDir;

namespace {

// Exit codes of the child that tries the lock.
constexpr int kChildGotLock = 10;
constexpr int kChildBusyWithPid = 11;
constexpr int kChildBusyWithoutPid = 12;
constexpr int kChildOtherError = 13;

// Tries the lock in a child process (flock locks belong to open file descriptions, so only
// another process, or another open(), shows the refusal a second agent would see).
int TryLockInChild(const std::string& state_dir) {
  pid_t child = ::fork();
  if (child == 0) {
    auto lock = StateLock::Acquire(state_dir);
    if (lock) ::_exit(kChildGotLock);
    const std::string& message = lock.error().message;
    if (lock.error().code != Errc::kBusy) ::_exit(kChildOtherError);
    bool names_path = message.find(state_dir + "/lock") != std::string::npos;
    bool names_pid = message.find("pid " + std::to_string(::getppid())) != std::string::npos;
    ::_exit(names_path && names_pid ? kChildBusyWithPid : kChildBusyWithoutPid);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_GROUP(StateLock){};

TEST(StateLock, SecondHolderIsRefusedWithPathAndPid) {
  TempDir dir;
  {
    auto lock = StateLock::Acquire(dir.path());
    CHECK_TRUE(lock.has_value());
    STRCMP_EQUAL(dir.File("lock").c_str(), lock->path().c_str());
    LONGS_EQUAL(kChildBusyWithPid, TryLockInChild(dir.path()));
    // Within one process a second open file description is refused as well.
    auto second = StateLock::Acquire(dir.path());
    CHECK_FALSE(second.has_value());
    CHECK(second.error().code == Errc::kBusy);
  }
  // Released with the StateLock: the next process gets it.
  LONGS_EQUAL(kChildGotLock, TryLockInChild(dir.path()));
}

TEST(StateLock, MovedLockStaysHeld) {
  TempDir dir;
  auto lock = StateLock::Acquire(dir.path());
  CHECK_TRUE(lock.has_value());
  StateLock moved = std::move(*lock);
  LONGS_EQUAL(kChildBusyWithPid, TryLockInChild(dir.path()));
}

TEST(StateLock, MissingDirectoryIsAnIoError) {
  TempDir dir;
  auto lock = StateLock::Acquire(dir.File("missing"));
  CHECK_FALSE(lock.has_value());
  CHECK(lock.error().code == Errc::kIo);
}

#pragma once
// Expected<T>: a value or an Error, returned across every module boundary instead of exceptions.

#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace fieldsync::core {

// What kind of failure an Error is; callers branch on this, people read the message.
enum class Errc {
  kInvalidArgument,  // the caller passed something malformed (bad config, bad frame, bad flag)
  kParse,            // input text could not be parsed
  kNotFound,         // a file, table, row or device that should exist does not
  kConflict,         // a uniqueness or ownership rule refused the operation
  kBusy,             // another process holds the resource (store lock)
  kFull,             // the store or the disk is full
  kIo,               // the operating system refused a read or write
  kUnavailable,      // a remote peer cannot be reached now; retrying may help
  kTimeout,          // an operation missed its deadline
  kRemoteData,       // the remote refused rows for their content
  kRemoteOther,      // the remote failed for a reason retrying will not fix by itself
  kUnsupported,      // a version or feature this build does not handle
  kCorrupt,          // stored data fails its own integrity rules
  kInternal,         // a bug: an invariant did not hold
};

const char* ToString(Errc code);

struct Error {
  Errc code = Errc::kInternal;
  std::string message;  // says what failed and with which name/path/line; never a secret

  // Returns a copy whose message is prefixed with `context: `.
  Error Wrap(const std::string& context) const { return Error{code, context + ": " + message}; }
};

inline Error MakeError(Errc code, std::string message) { return Error{code, std::move(message)}; }

// Expected<T> holds either a T or an Error. Construct from either implicitly.
template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Expected(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  // REQUIRES: has_value().
  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // REQUIRES: !has_value().
  const Error& error() const {
    assert(!has_value());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

// Expected<void>: success or an Error.
template <>
class [[nodiscard]] Expected<void> {
 public:
  Expected() = default;
  Expected(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  // REQUIRES: !has_value().
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Expected<void>;

inline Status Ok() { return Status(); }

}  // namespace fieldsync::core

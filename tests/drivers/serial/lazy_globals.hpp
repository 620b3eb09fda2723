#pragma once
// Touches the process-wide caches that spdlog (its logger registry) and Boost.Asio (per-thread
// handler memory) allocate on first use and free at exit, so that CppUTest's per-test leak check
// does not report them against whichever test happens to run first.

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace fieldsync::testing {

inline bool WarmUpLazyGlobals() {
  spdlog::default_logger()->set_level(spdlog::level::warn);
  spdlog::info("warm-up");
  boost::asio::io_context io;
  boost::asio::steady_timer timer(io, std::chrono::milliseconds(0));
  timer.async_wait([](const boost::system::error_code&) {});
  boost::asio::post(io, [] {});
  io.run();
  return true;
}

inline const bool kLazyGlobalsWarm = WarmUpLazyGlobals();

}  // namespace fieldsync::testing

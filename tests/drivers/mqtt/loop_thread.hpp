#pragma once
// LoopThread: an io_context run on its own thread for the duration of a test, standing in for
// the agent's event loop. Call() runs a function on it and waits for the result.

#include <functional>
#include <future>
#include <thread>
#include <type_traits>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace fieldsync::testing {

class LoopThread {
 public:
  LoopThread() : work_(io_.get_executor()), thread_([this] { io_.run(); }) {}
  ~LoopThread() {
    work_.reset();
    io_.stop();
    thread_.join();
  }

  boost::asio::io_context& io() { return io_; }

  template <class F>
  auto Call(F f) -> std::invoke_result_t<F> {
    using R = std::invoke_result_t<F>;
    std::packaged_task<R()> task(std::move(f));
    std::future<R> result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace fieldsync::testing

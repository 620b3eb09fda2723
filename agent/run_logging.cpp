#include "agent/run_logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

#include "core/time.hpp"

namespace fieldsync::agent {
namespace {

class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch());
    nlohmann::json line = {
        {"ts", core::FormatRfc3339(static_cast<core::TimeUs>(us.count()))},
        {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                              spdlog::level::to_string_view(msg.level).size())},
        {"msg", std::string(msg.payload.data(), msg.payload.size())},
    };
    // Replace invalid UTF-8 (a garbage serial line in a message) instead of throwing.
    std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text.push_back('\n');
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLineFormatter>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> MakeJsonLineFormatter() {
  return std::make_unique<JsonLineFormatter>();
}

core::Status ConfigureRunLogging(const LogOptions& options) {
  auto level = spdlog::level::from_str(options.level);
  // from_str answers "off" for any unknown name.
  if (level == spdlog::level::off && options.level != "off") {
    return core::MakeError(core::Errc::kInvalidArgument,
                           "unknown log level '" + options.level + "'");
  }
  auto logger = spdlog::default_logger();
  if (!logger || logger->name() != "fieldsync") {
    logger = std::make_shared<spdlog::logger>("fieldsync",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    spdlog::set_default_logger(logger);
  }
  logger->set_level(level);
  if (options.format == LogFormat::kJson) {
    logger->set_formatter(MakeJsonLineFormatter());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %v", spdlog::pattern_time_type::utc);
  }
  logger->flush_on(spdlog::level::trace);  // stderr: every line out at once, none lost at exit
  return core::Ok();
}

}  // namespace fieldsync::agent

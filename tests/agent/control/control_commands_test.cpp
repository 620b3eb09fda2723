// The registry of commands a running agent carries out for `run` requests.
#include "agent/control_commands.hpp"

#include <optional>

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

using namespace fieldsync;
using nlohmann::json;

TEST_GROUP(RunCommandRegistry){};

TEST(RunCommandRegistry, AnUnregisteredCommandIsNotAvailable) {
  agent::RunCommandRegistry registry;
  std::optional<core::Expected<json>> answer;
  registry.Dispatch("sync", json::object(), [&](core::Expected<json> r) { answer = r; });
  CHECK(answer.has_value());
  CHECK(!*answer);
  CHECK(answer->error().code == core::Errc::kUnsupported);
  STRCMP_EQUAL("sync is not available in this agent", answer->error().message.c_str());
}

TEST(RunCommandRegistry, ARegisteredHandlerGetsTheArgumentsAndAnswersLater) {
  agent::RunCommandRegistry registry;
  agent::RunCommandDone pending;
  json seen;
  registry.Register("backfill", [&](const json& args, agent::RunCommandDone done) {
    seen = args;
    pending = std::move(done);
  });
  CHECK(registry.Has("backfill"));
  std::optional<core::Expected<json>> answer;
  registry.Dispatch("backfill", json{{"days", 2}}, [&](core::Expected<json> r) { answer = r; });
  LONGS_EQUAL(2, seen["days"].get<int>());
  CHECK_FALSE(answer.has_value());
  pending(json{{"buckets", 48}});
  CHECK(answer.has_value() && answer->has_value());
  LONGS_EQUAL(48, (**answer)["buckets"].get<int>());

  registry.Unregister("backfill");
  registry.Dispatch("backfill", json::object(), [&](core::Expected<json> r) { answer = r; });
  CHECK(!*answer);
}

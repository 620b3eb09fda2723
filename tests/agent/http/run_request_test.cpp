
#include "agent/http_routes.hpp"

// CppUTest last: its leak detector redefines operator new.
#include <CppUTest/TestHarness.h>

using namespace fieldsync::agent;

TEST_GROUP(RunRequest){};

TEST(RunRequest, ParsesCommandDaysAndDryRun) {
  auto r = ParseRunRequest(R"({"command": "backfill", "days": 3, "dry_run": true})");
  CHECK(r.has_value());
  STRCMP_EQUAL("backfill", r->command.c_str());
  CHECK(r->days.has_value());
  CHECK_EQUAL(3, *r->days);
  CHECK(r->dry_run);
  auto plain = ParseRunRequest(R"({"command": "sync"})");
  CHECK(plain.has_value());
  CHECK_FALSE(plain->days.has_value());
  CHECK_FALSE(plain->dry_run);
}

TEST(RunRequest, RefusesUnknownCommandsAndBadMembers) {
  CHECK_FALSE(ParseRunRequest(R"({"command": "rm -rf"})").has_value());
  CHECK_FALSE(ParseRunRequest(R"({"days": 3})").has_value());
  CHECK_FALSE(ParseRunRequest(R"({"command": "sync", "days": -1})").has_value());
  CHECK_FALSE(ParseRunRequest(R"({"command": "sync", "days": "3"})").has_value());
  CHECK_FALSE(ParseRunRequest(R"({"command": "sync", "dry_run": "yes"})").has_value());
  CHECK_FALSE(ParseRunRequest(R"({"command": "sync", "extra": 1})").has_value());
  CHECK_FALSE(ParseRunRequest("not json").has_value());
  CHECK_FALSE(ParseRunRequest("[]").has_value());
}

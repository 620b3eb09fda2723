// While another process holds the state lock, the maintenance commands hand their request to the
// agent on <state_dir>/control.sock (here a stand-in that records the request line and answers
// with a canned response), or fail with exit 1 naming the lock holder when nothing answers.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include "store/state_lock.hpp"
#include "tests/agent/maintenance/maintenance_fixture.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

using fieldsync::testing::At;
using fieldsync::testing::CommandOutput;
using fieldsync::testing::JsonOf;
using fieldsync::testing::MaintenanceGateway;
using fieldsync::testing::Point;
using nlohmann::json;

namespace {

// Listens on `path`, takes one connection, reads its request line into `request` and answers
// with `response` (a line without '\n').
class StandInAgent {
 public:
  StandInAgent(const std::string& path, std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(fd_, 1) != 0) {
      FAIL(("cannot listen on " + path).c_str());
    }
    thread_ = std::thread([this] { Serve(); });
  }
  ~StandInAgent() {
    ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  StandInAgent(const StandInAgent&) = delete;
  StandInAgent& operator=(const StandInAgent&) = delete;

  // The request line received; read after the command has ended.
  json Request() {
    if (thread_.joinable()) thread_.join();
    return json::parse(request_, nullptr, false);
  }

 private:
  void Serve() {
    int conn = ::accept(fd_, nullptr, nullptr);
    if (conn < 0) return;
    char c = 0;
    while (::read(conn, &c, 1) == 1 && c != '\n') request_ += c;
    const std::string line = response_ + "\n";
    (void)!::write(conn, line.data(), line.size());
    ::close(conn);
  }

  int fd_ = -1;
  std::string response_;
  std::string request_;
  std::thread thread_;
};

}  // namespace

TEST_GROUP(CliMaintenanceForward) {
  MaintenanceGateway gw;
  void setup() override { gw.Ingest({Point{At("2026-11-20T00:00:00Z"), 20.0}}); }
};

TEST(CliMaintenanceForward, WithoutAnAgentAnsweringTheLockHolderIsNamed) {
  auto lock = fieldsync::store::StateLock::Acquire(gw.state_dir());
  CHECK(lock.has_value());
  for (const char* args : {"aggregate full", "backfill --days 1", "cleanup"}) {
    CommandOutput r = gw.Run(args);
    LONGS_EQUAL(1, r.exit_code);
    CHECK(r.err.find("is in use") != std::string::npos);
    CHECK(r.err.find("by pid " + std::to_string(::getpid())) != std::string::npos);
    CHECK(r.err.find("no running agent answers") != std::string::npos);
  }
}

TEST(CliMaintenanceForward, TheRequestGoesToTheRunningAgentAndItsReportIsPrinted) {
  auto lock = fieldsync::store::StateLock::Acquire(gw.state_dir());
  CHECK(lock.has_value());
  StandInAgent agent(gw.state_dir() + "/control.sock",
                     R"({"ok":true,"result":{"dry_run":true,"daily":{"from":"2026-11-18",)"
                     R"("to":"2026-11-20","timezone":"UTC","buckets":3,"rewritten":2,)"
                     R"("skipped_incomplete":1}}})");
  CommandOutput r = gw.Run("aggregate daily --days 3 --dry-run");
  LONGS_EQUAL(0, r.exit_code);
  CHECK(r.out.find("daily  2026-11-18 .. 2026-11-20 (UTC): 3 buckets examined, 2 would be "
                   "rewritten, 1 skipped as incomplete") != std::string::npos);
  json request = agent.Request();
  STRCMP_EQUAL("run", request["request"].get<std::string>().c_str());
  STRCMP_EQUAL("aggregate", request["command"].get<std::string>().c_str());
  STRCMP_EQUAL("daily", request["scope"].get<std::string>().c_str());
  LONGS_EQUAL(3, request["days"].get<int>());
  CHECK(request["dry_run"].get<bool>());
}

TEST(CliMaintenanceForward, AnAgentWithoutTheCommandIsReported) {
  auto lock = fieldsync::store::StateLock::Acquire(gw.state_dir());
  CHECK(lock.has_value());
  StandInAgent agent(gw.state_dir() + "/control.sock",
                     R"({"ok":false,"error":{"code":"unsupported",)"
                     R"("message":"cleanup is not available in this agent"}})");
  CommandOutput r = gw.Run("cleanup --retention-days 10 --json");
  LONGS_EQUAL(1, r.exit_code);
  CHECK(r.out.empty());
  CHECK(r.err.find("cleanup is not available in this agent") != std::string::npos);
  LONGS_EQUAL(10, agent.Request()["retention_days"].get<int>());
}

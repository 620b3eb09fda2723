// `fieldsync status` and `fieldsync ingest` while `fieldsync run` holds the store: the real
// binary, talking through <state_dir>/control.sock, checked from the outside (command output,
// the socket file, raw protocol lines, the store after the agent stopped).
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/agent/command_runner.hpp"
#include "tests/support/temp_dir.hpp"

// CppUTest last: its leak detector redefines operator new for what follows.
#include <CppUTest/TestHarness.h>

using namespace std::chrono_literals;
using fieldsync::testing::CommandOutput;
using fieldsync::testing::ReadFile;
using fieldsync::testing::RunFieldsync;
using fieldsync::testing::TempDir;
using fieldsync::testing::WriteFile;
using nlohmann::json;

namespace {

// `fieldsync run` in a child process; killed if the test leaves it running.
class Agent {
 public:
  Agent(const std::string& config, const std::string& log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      FILE* err = std::freopen(log.c_str(), "w", stderr);
      (void)err;
      ::execl(FIELDSYNC_BINARY, FIELDSYNC_BINARY, "--config", config.c_str(), "run",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Agent() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Exit status after SIGTERM, or -1 when it did not exit within 5 s.
  int Terminate() {
    ::kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + 5s;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(5ms);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
};

// A raw client of the control socket, for what the commands never send.
class RawClient {
 public:
  explicit RawClient(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  void Send(const std::string& bytes) {
    CHECK(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(bytes.size()));
  }
  void EndSending() { ::shutdown(fd_, SHUT_WR); }
  // Everything until the agent closes the connection (or 10 s).
  std::string ReadAll() {
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    std::string text;
    char buffer[4096];
    ssize_t n;
    while ((n = ::recv(fd_, buffer, sizeof(buffer), 0)) > 0) {
      text.append(buffer, static_cast<std::size_t>(n));
    }
    return text;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::string GoodFrames(int n) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    text += "{\"device\":\"dev1\",\"ts\":" + std::to_string(1700000000 + i) +
            ",\"temperature\":21.5,\"humidity\":40}\n";
  }
  return text;
}

const json* FindInput(const json& status, const std::string& name) {
  for (const json& input : status["inputs"]) {
    if (input["name"] == name) return &input;
  }
  return nullptr;
}

json ParseJson(const std::string& text) {
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded()) FAIL(("not JSON: " + text).c_str());
  return parsed;
}

}  // namespace

TEST_GROUP(ControlSocket) {
  TempDir dir;
  std::string config;
  std::string socket_path;

  void setup() override {
    config = dir.File("fieldsync.toml");
    socket_path = dir.File("state") + "/control.sock";
    // A serial input whose device is missing: the agent keeps trying, and says it is not
    // connected. No HTTP listener: tests may run side by side.
    WriteFile(config, "gateway = \"gw-ctl\"\nstate_dir = \"" + dir.File("state") +
                          "\"\n[http]\nlisten = \"\"\n[[serial]]\nname = \"arduino1\"\n"
                          "port = \"" +
                          dir.File("ttyMISSING") + "\"\n");
  }

  CommandOutput Run(const std::string& args) {
    return RunFieldsync(dir, "--config '" + config + "' " + args);
  }

  json Status() {
    CommandOutput r = Run("status --json");
    LONGS_EQUAL_TEXT(0, r.exit_code, r.err.c_str());
    return ParseJson(r.out);
  }

  // Waits until the agent serves its socket.
  void WaitForSocket() {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      RawClient probe(socket_path);
      if (probe.connected()) return;
      std::this_thread::sleep_for(20ms);
    }
    FAIL(("no control socket; agent log:\n" + ReadFile(dir.File("agent.log"))).c_str());
  }
};

TEST(ControlSocket, StatusShowsTheLiveAgentAndTheSocketIsOwnerOnly) {
  Agent agent(config, dir.File("agent.log"));
  WaitForSocket();
  struct stat st {};
  LONGS_EQUAL(0, ::lstat(socket_path.c_str(), &st));
  CHECK(S_ISSOCK(st.st_mode));
  LONGS_EQUAL(0600, st.st_mode & 07777);

  json status = Status();
  STRCMP_EQUAL("gw-ctl", status["gateway"].get<std::string>().c_str());
  CHECK(status["uptime_s"].is_number_integer());
  CHECK(status["instance_id"].is_string());
  const json* serial = FindInput(status, "arduino1");
  CHECK(serial != nullptr);
  CHECK((*serial)["connected"].is_boolean());  // live: false, the device is missing
  CHECK_FALSE((*serial)["connected"].get<bool>());

  CommandOutput text = Run("status");
  LONGS_EQUAL(0, text.exit_code);
  CHECK_TEXT(text.out.find("agent         up ") != std::string::npos, text.out.c_str());

  LONGS_EQUAL(0, agent.Terminate());
  CHECK(::access(socket_path.c_str(), F_OK) != 0);  // removed at exit
  json stopped = Status();
  CHECK(stopped["uptime_s"].is_null());
  CHECK((*FindInput(stopped, "arduino1"))["connected"].is_null());
}

TEST(ControlSocket, IngestGoesThroughTheRunningAgentWithExactCounts) {
  WriteFile(dir.File("frames.jsonl"), GoodFrames(1000) + "not a frame\n");
  Agent agent(config, dir.File("agent.log"));
  WaitForSocket();

  CommandOutput first = Run("ingest --json '" + dir.File("frames.jsonl") + "'");
  LONGS_EQUAL_TEXT(0, first.exit_code, (first.err + ReadFile(dir.File("agent.log"))).c_str());
  json tally = ParseJson(first.out);
  LONGS_EQUAL(1001, tally["frames"].get<long>());
  LONGS_EQUAL(2000, tally["accepted"].get<long>());
  LONGS_EQUAL(1000, tally["accepted_frames"].get<long>());
  LONGS_EQUAL(0, tally["duplicates"].get<long>());
  LONGS_EQUAL(1, tally["rejected"]["parse"].get<long>());

  // The same file again: every reading is already stored.
  CommandOutput again = Run("ingest --json - < '" + dir.File("frames.jsonl") + "'");
  LONGS_EQUAL_TEXT(0, again.exit_code, again.err.c_str());
  json second = ParseJson(again.out);
  LONGS_EQUAL(0, second["accepted"].get<long>());
  LONGS_EQUAL(2000, second["duplicates"].get<long>());

  json live = Status();
  LONGS_EQUAL(2000, live["pending"]["readings"].get<long>());

  LONGS_EQUAL(0, agent.Terminate());
  json stored = Status();
  LONGS_EQUAL(2000, stored["pending"]["readings"].get<long>());
  const json* ingest = FindInput(stored, "ingest");
  CHECK(ingest != nullptr);
  LONGS_EQUAL(2000, (*ingest)["readings"].get<long>());
  LONGS_EQUAL(2, (*ingest)["rejected"]["parse"].get<long>());
}

TEST(ControlSocket, OtherClientsAreServedWhileAStreamIsOpen) {
  Agent agent(config, dir.File("agent.log"));
  WaitForSocket();
  RawClient stream(socket_path);
  CHECK(stream.connected());
  stream.Send("{\"request\":\"ingest\",\"format\":\"kv\",\"device\":\"board7\"}\n");
  stream.Send("ts=1700000000 temperature=21.5\n");

  json status = Status();  // served while the stream is open
  const json* ingest = FindInput(status, "ingest");
  CHECK(ingest != nullptr);
  CHECK((*ingest)["connected"].get<bool>());

  WriteFile(dir.File("more.jsonl"), GoodFrames(3));
  CommandOutput busy = Run("ingest '" + dir.File("more.jsonl") + "'");
  LONGS_EQUAL(1, busy.exit_code);
  CHECK_TEXT(busy.err.find("another ingest") != std::string::npos, busy.err.c_str());

  stream.Send("ts=1700000001 temperature=22");  // the last line needs no newline
  stream.EndSending();
  std::string answer = stream.ReadAll();
  json response = ParseJson(answer);
  CHECK_TEXT(response["ok"].get<bool>(), answer.c_str());
  LONGS_EQUAL(2, response["result"]["accepted"].get<long>());

  CommandOutput after = Run("ingest '" + dir.File("more.jsonl") + "'");
  LONGS_EQUAL_TEXT(0, after.exit_code, after.err.c_str());
  LONGS_EQUAL(0, agent.Terminate());
  LONGS_EQUAL(2 + 6, Status()["pending"]["readings"].get<long>());
}

TEST(ControlSocket, GarbageGetsAnErrorAndTheAgentCarriesOn) {
  Agent agent(config, dir.File("agent.log"));
  WaitForSocket();
  {
    RawClient garbage(socket_path);
    garbage.Send("GET / HTTP/1.1\r\n\r\n");
    json response = ParseJson(garbage.ReadAll());
    CHECK_FALSE(response["ok"].get<bool>());
    STRCMP_EQUAL("parse", response["error"]["code"].get<std::string>().c_str());
  }
  {
    RawClient huge(socket_path);
    huge.Send(std::string(100 * 1024, 'x'));
    json response = ParseJson(huge.ReadAll());
    CHECK_FALSE(response["ok"].get<bool>());
  }
  {
    RawClient run(socket_path);
    // A run request this agent cannot carry out (no [sync] url): answered with the reason.
    run.Send("{\"request\":\"run\",\"command\":\"sync\"}\n");
    json response = ParseJson(run.ReadAll());
    CHECK_FALSE(response["ok"].get<bool>());
    STRCMP_EQUAL("invalid_argument", response["error"]["code"].get<std::string>().c_str());
    STRCMP_EQUAL("no remote configured: set [sync] url, url_file or FIELDSYNC_PG_URL",
                 response["error"]["message"].get<std::string>().c_str());
  }
  { RawClient hang_up(socket_path); }  // connects and leaves without a word
  CHECK(Status()["uptime_s"].is_number_integer());
  LONGS_EQUAL(0, agent.Terminate());
}

TEST(ControlSocket, AStaleSocketFileFromACrashIsReplaced) {
  ::mkdir(dir.File("state").c_str(), 0700);
  {
    // What a killed agent leaves: a socket file nobody listens on.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
    LONGS_EQUAL(0, ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)));
    ::close(fd);
  }
  Agent agent(config, dir.File("agent.log"));
  WaitForSocket();
  CHECK(Status()["uptime_s"].is_number_integer());
  LONGS_EQUAL(0, agent.Terminate());
}

TEST(ControlSocket, ALockHolderWithoutASocketIsAClearError) {
  Agent agent(config, dir.File("agent.log"));
  WaitForSocket();
  ::unlink(socket_path.c_str());  // the agent can no longer be reached
  CommandOutput status = Run("status");
  LONGS_EQUAL(1, status.exit_code);
  CHECK_TEXT(status.err.find("control socket") != std::string::npos, status.err.c_str());
  WriteFile(dir.File("f.jsonl"), GoodFrames(1));
  CommandOutput ingest = Run("ingest '" + dir.File("f.jsonl") + "'");
  LONGS_EQUAL(1, ingest.exit_code);
  CHECK_TEXT(ingest.err.find("no agent answers") != std::string::npos, ingest.err.c_str());
  LONGS_EQUAL(0, agent.Terminate());
}

TEST(ControlSocket, StatusWithoutAnAgentCreatesNoStore) {
  ::mkdir(dir.File("state").c_str(), 0700);
  json status = Status();
  CHECK(status["uptime_s"].is_null());
  CHECK(status["instance_id"].is_null());
  CHECK(::access((dir.File("state") + "/fieldsync.db").c_str(), F_OK) != 0);
}

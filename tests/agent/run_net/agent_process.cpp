#include "tests/agent/run_net/agent_process.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <regex>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "core/clock.hpp"
#include "store/store.hpp"
#include "tests/agent/http/http_client.hpp"
#include "tests/support/temp_dir.hpp"

namespace fieldsync::testing {

using namespace std::chrono_literals;

AgentProcess::AgentProcess(const std::string& config, const std::string& log,
                           const std::map<std::string, std::string>& env)
    : log_(log) {
  pid_ = ::fork();
  if (pid_ == 0) {
    FILE* err = std::freopen(log.c_str(), "w", stderr);
    (void)err;
    for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
    ::execl(FIELDSYNC_BINARY, FIELDSYNC_BINARY, "--config", config.c_str(), "run",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
}

AgentProcess::~AgentProcess() { Kill(); }

void AgentProcess::Signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int AgentProcess::Wait(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (pid_ > 0) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(5ms);
  }
  return -1;
}

void AgentProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string AgentProcess::Log() const { return ReadFile(log_); }

std::uint16_t AgentProcess::WaitForHttpPort(std::chrono::milliseconds limit) {
  static const std::regex kListening(R"(http: listening on \S+ \(port (\d+)\))");
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch match;
    const std::string log = Log();
    if (std::regex_search(log, match, kListening)) {
      return static_cast<std::uint16_t>(std::stoul(match[1].str()));
    }
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return 0;
    }
    std::this_thread::sleep_for(20ms);
  }
  return 0;
}

std::uint16_t FreeLoopbackPort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

std::optional<nlohmann::json> LiveStatus(std::uint16_t port) {
  HttpClient client(port);
  HttpAnswer answer = client.Send("GET", "/status");
  if (answer.status != 200) return std::nullopt;
  auto parsed = nlohmann::json::parse(answer.body, nullptr, false);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

std::int64_t LivePending(std::uint16_t port) {
  auto status = LiveStatus(port);
  if (!status) return -1;
  return status->at("pending").at("readings").get<std::int64_t>();
}

std::int64_t WaitForPending(std::uint16_t port, std::int64_t count,
                            std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::int64_t seen = LivePending(port);
  while (seen < count && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    seen = LivePending(port);
  }
  return seen;
}

bool LiveConnected(std::uint16_t port, const std::string& name) {
  auto status = LiveStatus(port);
  if (!status) return false;
  for (const auto& input : status->at("inputs")) {
    if (input.at("name") == name) return input.at("connected") == true;
  }
  return false;
}

std::vector<core::Reading> StoredReadings(const std::string& state_dir) {
  core::SystemClock clock;
  auto store = store::Store::Open(state_dir, store::StoreOptions{}, clock);
  if (!store) {
    std::fprintf(stderr, "cannot open the store: %s\n", store.error().message.c_str());
    return {};
  }
  auto pending = (*store)->OldestPending(10'000'000);
  if (!pending) return {};
  return pending->readings;
}

std::string BrokerUrl() {
  const char* url = std::getenv("FIELDSYNC_TEST_MQTT_URL");
  return url == nullptr ? std::string() : std::string(url);
}

std::string UniqueName(const std::string& what) {
  static int counter = 0;
  return what + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000) +
         "-" + std::to_string(++counter);
}

namespace {

std::string PubCommand(const std::string& url, const std::string& topic) {
  const std::string hostport = url.substr(url.find("://") + 3);
  return "mosquitto_pub -h " + hostport.substr(0, hostport.rfind(':')) + " -p " +
         hostport.substr(hostport.rfind(':') + 1) + " -q 1 -l -t '" + topic + "'";
}

}  // namespace

LinePublisher::LinePublisher(const std::string& url, const std::string& topic)
    : pipe_(::popen(PubCommand(url, topic).c_str(), "w")) {}

LinePublisher::~LinePublisher() { Close(); }

void LinePublisher::Write(const std::string& line) {
  if (pipe_ == nullptr) return;
  std::fputs((line + "\n").c_str(), pipe_);
  std::fflush(pipe_);
}

bool LinePublisher::Close() {
  if (pipe_ == nullptr) return false;
  const int status = ::pclose(pipe_);
  pipe_ = nullptr;
  return status == 0;
}

bool PublishLines(const std::string& url, const std::string& topic, const std::string& lines) {
  FILE* pipe = ::popen(PubCommand(url, topic).c_str(), "w");
  if (pipe == nullptr) return false;
  std::fwrite(lines.data(), 1, lines.size(), pipe);
  return ::pclose(pipe) == 0;
}

bool RunCommand(const std::string& command) { return std::system(command.c_str()) == 0; }

}  // namespace fieldsync::testing

// `fieldsync ingest [--format F] [--device D] [--fields a,b] [--dry-run] [--json] [FILE|-]`:
// frames from a file or stdin into the store, under the state lock; while `run` holds the lock,
// through the running agent's control socket. Rejected frames are counted, not fatal: the exit
// status is 0 unless the store (or reading the input, or reaching the agent) fails.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "agent/cli.hpp"
#include "agent/command.hpp"
#include "agent/control_client.hpp"
#include "agent/control_ingest.hpp"
#include "agent/file_ingest.hpp"
#include "agent/local_store.hpp"
#include "core/names.hpp"
#include "store/state_lock.hpp"

namespace fieldsync::agent {
namespace {

struct IngestOptions {
  std::string format;  // empty: json
  std::string device;
  std::vector<std::string> fields;
  bool dry_run = false;
  bool json = false;
  std::string file = "-";
};

// Owns the input descriptor (not stdin).
class InputFile {
 public:
  explicit InputFile(int fd) : fd_(fd) {}
  ~InputFile() {
    if (fd_ > STDIN_FILENO) ::close(fd_);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

drivers::FrameSpec SpecFrom(const IngestOptions& options) {
  drivers::FrameSpec spec;
  if (options.format == "kv") spec.format = drivers::FrameFormat::kKv;
  if (options.format == "csv") spec.format = drivers::FrameFormat::kCsv;
  spec.device = options.device;
  spec.fields = options.fields;
  return spec;
}

nlohmann::json TallyJson(const IngestTally& tally, bool dry_run) {
  nlohmann::json rejected = nlohmann::json::object();
  for (core::RejectReason reason : core::kAllRejectReasons) {
    auto it = tally.rejected.find(reason);
    rejected[std::string(core::ToString(reason))] = it == tally.rejected.end() ? 0 : it->second;
  }
  return {{"frames", tally.frames},
          {"accepted", tally.accepted},
          {"accepted_frames", tally.accepted_frames},
          {"duplicates", tally.duplicates},
          {"rejected", rejected},
          {"frames_lost", tally.frames_lost},
          {"dropped", tally.dropped},
          {"dry_run", dry_run}};
}

void PrintTally(const IngestTally& tally, bool dry_run) {
  std::int64_t rejected = 0;
  for (const auto& [reason, n] : tally.rejected) rejected += n;
  std::cout << "frames      " << tally.frames << "\n"
            << "accepted    " << tally.accepted << " readings in " << tally.accepted_frames
            << " frames" << (dry_run ? " (dry run: nothing written)" : "") << "\n"
            << "duplicates  " << tally.duplicates << " readings\n"
            << "rejected    " << rejected << " frames";
  for (const auto& [reason, n] : tally.rejected) {
    if (n > 0) std::cout << ", " << core::ToString(reason) << " " << n;
  }
  std::cout << "\n";
  if (tally.frames_lost > 0) std::cout << "frames_lost " << tally.frames_lost << "\n";
  if (tally.dropped > 0) {
    std::cout << "dropped     " << tally.dropped
              << " older pending readings to stay within [store] max_mb\n";
  }
}

core::Status ReadAll(int fd, FileIngest& ingest) {
  std::vector<char> buffer(64 * 1024);
  while (true) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core::MakeError(core::Errc::kIo, std::strerror(errno));
    if (n == 0) return ingest.Finish();
    if (auto s = ingest.Feed(std::string_view(buffer.data(), static_cast<std::size_t>(n))); !s) {
      return s;
    }
  }
}

// The agent holds the store: it decodes and commits the frames itself (docs/control-socket.md).
int IngestThroughRunningAgent(const Config& config, const IngestOptions& options, int fd,
                              const std::string& lock_holder) {
  IngestRequest request;
  request.format = options.format.empty() ? "json" : options.format;
  request.device = options.device;
  request.fields = options.fields;
  auto result = IngestThroughAgent(ControlSocketPath(config.state_dir), request, fd);
  if (!result) {
    std::cerr << "fieldsync: cannot ingest: " << lock_holder
              << "; through the running agent: " << result.error().message << "\n";
    return kExitFailure;
  }
  IngestTally tally = IngestTallyFromJson(*result);
  if (options.json) {
    std::cout << TallyJson(tally, false).dump(2) << "\n";
  } else {
    PrintTally(tally, false);
  }
  std::int64_t failed = 0;
  if (result->is_object() && result->contains("failed") && (*result)["failed"].is_number()) {
    failed = (*result)["failed"].get<std::int64_t>();
  }
  if (failed > 0) {
    std::cerr << "fieldsync: the agent could not store " << failed
              << " frames (see its log); ingest the file again once it can\n";
    return kExitFailure;
  }
  return kExitOk;
}

int RunIngest(const CommandContext& context, const IngestOptions& options) {
  auto config = context.LoadConfig();
  if (!config) {
    std::cerr << "fieldsync: " << config.error().message << "\n";
    return kExitUsage;
  }
  if (options.format == "csv" && options.fields.empty()) {
    std::cerr << "fieldsync: ingest --format csv needs --fields NAME,NAME,... (the columns)\n";
    return kExitUsage;
  }
  int fd = STDIN_FILENO;
  if (options.file != "-") {
    fd = ::open(options.file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      std::cerr << "fieldsync: cannot open '" << options.file << "': " << std::strerror(errno)
                << "\n";
      return kExitUsage;
    }
  }
  InputFile input(fd);

  core::SystemClock clock;
  std::optional<store::StateLock> lock;
  std::unique_ptr<LocalStore> local;
  if (!options.dry_run) {
    std::error_code ec;
    std::filesystem::create_directories(config->state_dir, ec);
    if (ec) {
      std::cerr << "fieldsync: cannot create state_dir " << config->state_dir << ": "
                << ec.message() << "\n";
      return kExitFailure;
    }
    auto acquired = store::StateLock::Acquire(config->state_dir);
    if (!acquired && acquired.error().code == core::Errc::kBusy) {
      return IngestThroughRunningAgent(*config, options, input.fd(), acquired.error().message);
    }
    if (!acquired) {
      std::cerr << "fieldsync: cannot ingest: " << acquired.error().message << "\n";
      return kExitFailure;
    }
    lock.emplace(std::move(*acquired));
    auto opened = LocalStore::Open(*config, clock);
    if (!opened) {
      std::cerr << "fieldsync: cannot open the store in " << config->state_dir << ": "
                << opened.error().message << "\n";
      return kExitFailure;
    }
    local = std::move(*opened);
  }

  FileIngest ingest(*config, SpecFrom(options), clock, local ? &local->store() : nullptr);
  core::Status read = ReadAll(input.fd(), ingest);
  // The buckets include what was stored when the command ends (store/aggregate_store.hpp).
  if (local) {
    if (auto folded = local->aggregates().FoldAll(); !folded && read) read = folded.error();
  }
  // What was committed before a failure is durable: print it either way.
  if (options.json) {
    std::cout << TallyJson(ingest.tally(), options.dry_run).dump(2) << "\n";
  } else {
    PrintTally(ingest.tally(), options.dry_run);
  }
  if (!read) {
    std::cerr << "fieldsync: ingest stopped: " << read.error().message << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void RegisterIngestCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<IngestOptions>();
  auto* ingest = app.add_subcommand(
      "ingest",
      "read frames from a file or stdin into the store; prints what was accepted, "
      "duplicated and rejected");
  ingest->add_option("--format", options->format, "frame format (default json)")
      ->check(CLI::IsMember({"json", "kv", "csv"}));
  ingest->add_option("--device", options->device, "device for frames that name none")
      ->check([](const std::string& device) -> std::string {
        return core::IsValidDevice(device) ? "" : "not a valid device name: " + device;
      });
  ingest->add_option("--fields", options->fields, "csv column names, comma-separated")
      ->delimiter(',');
  ingest->add_flag("--dry-run", options->dry_run, "parse and count, write nothing");
  ingest->add_flag("--json", options->json, "print the counts as JSON");
  ingest->add_option("FILE", options->file, "file of frames, one per line; - for stdin (default)");
  ingest->callback([&context, options] { context.exit_code = RunIngest(context, *options); });
}

}  // namespace fieldsync::agent

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "agent/config_rules.hpp"

namespace fieldsync::agent::rules {

using core::Errc;
using core::MakeError;

std::string SecretKeyOf(const std::string& file_key) {
  constexpr std::string_view kSuffix = "_file";
  return file_key.substr(0, file_key.size() - kSuffix.size());
}

core::Expected<std::string> ReadSecretFile(const std::string& path_text, KeyContext& context) {
  std::filesystem::path path(path_text);
  if (path.is_relative()) {
    auto credentials = context.env("CREDENTIALS_DIRECTORY");
    path = std::filesystem::path(credentials && !credentials->empty() ? *credentials
                                                                      : context.base_dir) /
           path;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError(Errc::kInvalidArgument,
                     "cannot read secret file '" + path.string() + "': " + std::strerror(errno));
  }
  // A secret is a URL, a password or a key: a few hundred bytes. The cap keeps a wrong path
  // (/dev/zero, a log file, a disk image) from reading without end or filling memory at startup.
  std::string secret(kMaxSecretFileBytes + 1, '\0');
  in.read(secret.data(), static_cast<std::streamsize>(secret.size()));
  if (in.bad()) {
    return MakeError(Errc::kInvalidArgument,
                     "cannot read secret file '" + path.string() + "': " + std::strerror(errno));
  }
  secret.resize(static_cast<std::size_t>(in.gcount()));
  if (secret.size() > kMaxSecretFileBytes) {
    return MakeError(Errc::kInvalidArgument, "secret file '" + path.string() + "' is larger than " +
                                                 std::to_string(kMaxSecretFileBytes / 1024) +
                                                 " KiB: not a secret");
  }
  // Editors and `echo` add a final newline that is never part of a password or URL.
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty()) {
    return MakeError(Errc::kInvalidArgument, "secret file '" + path.string() + "' is empty");
  }
  context.config.secret_origins[SecretKeyOf(context.key)] = SecretOrigin{path.string(), ""};
  return secret;
}

}  // namespace fieldsync::agent::rules

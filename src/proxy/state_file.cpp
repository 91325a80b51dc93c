#include "proxy/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cutover::proxy {

Result<std::optional<HostPort>> LoadPrimary(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    if (!std::filesystem::exists(path)) return std::optional<HostPort>{};
    return Fail(Error::Io(fmt::format("state file {}: cannot read: {}", path, std::strerror(errno))));
  }
  std::stringstream text;
  text << in.rdbuf();
  auto json = nlohmann::json::parse(text.str(), nullptr, false);
  if (json.is_discarded() || !json.contains("primary") || !json["primary"].contains("host") ||
      !json["primary"]["host"].is_string() || !json["primary"].contains("port") ||
      !json["primary"]["port"].is_number_unsigned()) {
    return Fail(Error::Config(fmt::format(
        "state file {}: not a cutover state file; fix or remove it (removing makes the proxy use [source])", path)));
  }
  return std::optional<HostPort>(
      HostPort{json["primary"]["host"].get<std::string>(), json["primary"]["port"].get<uint16_t>()});
}

Status SavePrimary(const std::string& path, const HostPort& primary) {
  nlohmann::json json = {{"primary", {{"host", primary.host}, {"port", primary.port}}}};
  const std::string text = json.dump(2) + "\n";
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(Error::Io(fmt::format("state file {}: cannot write: {}", tmp, std::strerror(errno))));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = written && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Fail(Error::Io(fmt::format("state file {}: cannot save: {}", path, std::strerror(err))));
  }
  return {};
}

}  // namespace cutover::proxy

#include "local/datadir_template.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "local/child_process.h"
#include "local/file_util.h"

namespace cutover::local {
namespace {

namespace fs = std::filesystem;

// Bump when the template's contents change, so that old templates are not reused.
// v2: with mariadb-install-db's empty `test` schema, as production servers have it.
constexpr std::string_view kTemplateFormat = "v2";
// Must match the --innodb-log-file-size that servers start with, or every
// start would first resize the redo log.
constexpr std::string_view kInnodbLogFileSize = "16M";
constexpr std::chrono::seconds kInstallTimeout{180};

std::optional<std::string> FindExecutable(const char* env_override, const std::vector<std::string>& candidates) {
  if (const char* path = std::getenv(env_override); path != nullptr && path[0] != '\0') {
    if (access(path, X_OK) == 0) return path;
    return std::nullopt;
  }
  for (const std::string& path : candidates) {
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return std::nullopt;
}

// "mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64" -> "10.11.19-MariaDB-0+deb12u1".
Result<std::string> ReadVersion(const std::string& mariadbd) {
  std::string command = fmt::format("'{}' --no-defaults --version 2>&1", mariadbd);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return Fail(Error::Io(fmt::format("cannot run {} --version: {}", mariadbd, strerror(errno))));
  std::string output;
  std::array<char, 512> buffer{};
  while (fgets(buffer.data(), buffer.size(), pipe) != nullptr) output += buffer.data();
  pclose(pipe);
  size_t ver = output.find(" Ver ");
  if (ver == std::string::npos) {
    return Fail(Error::Io(fmt::format("{} --version printed no version: {}", mariadbd, output)));
  }
  size_t start = ver + 5;
  size_t end = output.find_first_of(" \n", start);
  return output.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

Result<MariadbBinaries> FindUncached() {
  auto mariadbd = FindExecutable("CUTOVER_MARIADBD", {"/usr/sbin/mariadbd", "/usr/bin/mariadbd",
                                                      "/usr/local/mysql/bin/mariadbd", "/usr/sbin/mysqld"});
  auto install_db = FindExecutable("CUTOVER_MARIADB_INSTALL_DB",
                                   {"/usr/bin/mariadb-install-db", "/usr/local/mysql/scripts/mariadb-install-db",
                                    "/usr/bin/mysql_install_db"});
  if (!mariadbd || !install_db) {
    return Fail(Error::Io(
        "mariadbd or mariadb-install-db not found (searched /usr/sbin, /usr/bin, /usr/local/mysql); install the "
        "mariadb-server package or set CUTOVER_MARIADBD and CUTOVER_MARIADB_INSTALL_DB"));
  }
  auto version = ReadVersion(*mariadbd);
  if (!version) return Fail(std::move(version.error()));
  return MariadbBinaries{*mariadbd, *install_db, *version};
}

// Runs mariadb-install-db into `datadir`, which must not exist yet.
Status RunInstallDb(const MariadbBinaries& binaries, const std::string& datadir, const std::string& log_path) {
  std::vector<std::string> argv = {binaries.install_db,
                                   "--no-defaults",
                                   "--datadir=" + datadir,
                                   "--auth-root-authentication-method=normal",
                                   "--skip-name-resolve",
                                   fmt::format("--innodb-log-file-size={}", kInnodbLogFileSize)};
  if (geteuid() == 0) argv.push_back("--user=root");  // mariadbd refuses to run as root without it
  auto child = ChildProcess::Spawn(argv, log_path);
  if (!child) return Fail(std::move(child.error()));
  auto status = child->WaitExit(kInstallTimeout);
  if (!status) {
    child->KillAndReap();
    return Fail(Error::Timeout(fmt::format("{} did not finish within {} s; its output ends:\n{}", binaries.install_db,
                                           kInstallTimeout.count(), TailOfFile(log_path))));
  }
  if (*status != 0) {
    return Fail(Error::Io(fmt::format("{} {}; its output ends:\n{}", binaries.install_db,
                                      ChildProcess::DescribeWaitStatus(*status), TailOfFile(log_path))));
  }
  return {};
}

// Builds the template in a temporary directory and renames it into place.
// REQUIRES: the caller holds the template's lock.
Status BuildTemplate(const MariadbBinaries& binaries, const std::string& final_path) {
  std::string prefix = fs::path(final_path).filename().string() + ".tmp-";
  auto work = MakeTempDir(prefix);
  if (!work) return Fail(std::move(work.error()));
  std::string datadir = *work + "/data";
  auto start = std::chrono::steady_clock::now();
  Status installed = RunInstallDb(binaries, datadir, *work + "/install.log");
  if (installed && rename(datadir.c_str(), final_path.c_str()) != 0) {
    installed = Fail(Error::Io(fmt::format("cannot rename {} to {}: {}", datadir, final_path, strerror(errno))));
  }
  std::error_code ignored;
  fs::remove_all(*work, ignored);
  if (!installed) return Fail(installed.error().WithContext("cannot build the datadir template " + final_path));
  spdlog::debug("built datadir template {} in {} ms", final_path,
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
  return {};
}

// True when `path` is a directory owned by us; another user's directory in a
// shared /tmp must not be trusted as a template.
Result<bool> TemplateExists(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return false;
  if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
    return Fail(Error::Io(fmt::format("{} exists but is not a directory owned by uid {}; remove it", path, geteuid())));
  }
  return true;
}

}  // namespace

Result<MariadbBinaries> FindMariadbBinaries() {
  static std::mutex mu;
  static std::optional<MariadbBinaries> cached;
  std::lock_guard lock(mu);
  if (cached) return *cached;
  auto found = FindUncached();
  if (found) cached = *found;
  return found;
}

Result<std::string> EnsureDatadirTemplate(const MariadbBinaries& binaries) {
  std::string path = fmt::format("{}/cutover-template-{}-{}-{}", TempBaseDir(), kTemplateFormat,
                                 SafeFileName(binaries.version), geteuid());
  std::string lock_path = path + ".lock";
  int lock_fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) return Fail(Error::Io(fmt::format("cannot open {}: {}", lock_path, strerror(errno))));
  // flock() waits while another process builds the template.
  while (flock(lock_fd, LOCK_EX) != 0 && errno == EINTR) {
  }
  Result<std::string> result = path;
  auto exists = TemplateExists(path);
  if (!exists) {
    result = Fail(std::move(exists.error()));
  } else if (!*exists) {
    if (Status built = BuildTemplate(binaries, path); !built) result = Fail(std::move(built.error()));
  }
  close(lock_fd);  // releases the flock
  return result;
}

Status CopyDatadir(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::copy(from, to, fs::copy_options::recursive, ec);
  if (ec) return Fail(Error::Io(fmt::format("cannot copy datadir {} to {}: {}", from, to, ec.message())));
  return {};
}

}  // namespace cutover::local

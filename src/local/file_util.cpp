#include "local/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include <fmt/format.h>

namespace cutover::local {

std::string TempBaseDir() {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string base = (tmpdir != nullptr && tmpdir[0] != '\0') ? tmpdir : "/tmp";
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return base;
}

Result<std::string> MakeTempDir(std::string_view prefix) {
  std::string path = fmt::format("{}/{}XXXXXX", TempBaseDir(), prefix);
  if (mkdtemp(path.data()) == nullptr) {
    return Fail(Error::Io(fmt::format("cannot create a temporary directory {}: {}; set TMPDIR to a writable directory",
                                      path, strerror(errno))));
  }
  return path;
}

std::string SafeFileName(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '+' || c == '-';
    if (!ok) c = '_';
  }
  return out;
}

uint64_t FileSize(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_size);
}

std::string TailOfFile(const std::string& path, uint64_t offset, size_t max_lines) {
  // Logs of a failed start are small, but a long-running server's may not be:
  // read at most the last 64 KiB.
  constexpr uint64_t kMaxRead = 64 * 1024;
  uint64_t size = FileSize(path);
  if (size <= offset) return {};
  uint64_t start = size - offset > kMaxRead ? size - kMaxRead : offset;
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(static_cast<std::streamoff>(start));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && text.back() == '\n') text.pop_back();
  size_t pos = text.size();
  for (size_t lines = 0; lines < max_lines && pos != std::string::npos && pos > 0; ++lines) {
    pos = text.rfind('\n', pos - 1);
  }
  if (pos != std::string::npos && pos < text.size() && text[pos] == '\n') ++pos;
  if (pos == std::string::npos) pos = 0;
  return text.substr(pos);
}

Status WritePrivateFile(const std::string& path, std::string_view contents) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Fail(Error::Io(fmt::format("cannot write {}: {}", path, strerror(errno))));
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      close(fd);
      return Fail(Error::Io(fmt::format("cannot write {}: {}", path, strerror(err))));
    }
    written += static_cast<size_t>(n);
  }
  if (close(fd) != 0) return Fail(Error::Io(fmt::format("cannot write {}: {}", path, strerror(errno))));
  return {};
}

}  // namespace cutover::local

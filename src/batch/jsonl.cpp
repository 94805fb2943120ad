#include "batch/jsonl.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <cstring>

namespace modelmux::batch {
namespace json = boost::json;

Result<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path,
                                                     size_t max_line_bytes) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return InvalidRequest(path + ": cannot be read (" + std::strerror(errno) + ")", "input",
                          "file_unreadable");
  }
  return std::unique_ptr<LineReader>(new LineReader(f, max_line_bytes));
}

LineReader::~LineReader() {
  if (file_ != nullptr) std::fclose(file_);
}

std::optional<LineReader::Line> LineReader::Next() {
  Line line;
  bool any = false;
  for (;;) {
    int c = getc_unlocked(file_);
    if (c == EOF) {
      if (std::ferror(file_)) read_error_ = true;
      if (!any) return std::nullopt;
      break;
    }
    any = true;
    if (c == '\n') break;
    if (line.too_long) continue;
    if (line.text.size() >= max_) {
      line.too_long = true;
      line.text.clear();
      line.text.shrink_to_fit();
      continue;
    }
    line.text.push_back(static_cast<char>(c));
  }
  line.number = ++number_;
  if (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
  if (at_start_) {
    at_start_ = false;
    if (line.text.starts_with("\xEF\xBB\xBF")) line.text.erase(0, 3);
  }
  return line;
}

std::string KeyOfIdJson(std::string_view id_json) {
  std::error_code ec;
  json::value v = json::parse(id_json, ec);
  if (ec) return std::string(id_json);
  if (v.is_string()) return std::string(v.as_string());
  return json::serialize(v);
}

std::optional<std::string> ResultKey(std::string_view line) {
  std::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  const json::value* id = o.if_contains("custom_id");
  if (id == nullptr || id->is_null()) id = o.if_contains("id");
  if (id == nullptr || id->is_null()) return std::nullopt;
  if (id->is_string()) return std::string(id->as_string());
  return json::serialize(*id);
}

Result<ScanResult> ScanJsonl(const std::string& path, bool repair) {
  ScanResult out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return out;
    return Internal(path + ": cannot be read (" + std::strerror(errno) + ")");
  }
  std::string pending;  // the current line so far
  uint64_t complete_end = 0, offset = 0;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Internal(path + ": read failed (" + std::strerror(errno) + ")");
    }
    if (n == 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      ++offset;
      if (buf[i] != '\n') {
        pending.push_back(buf[i]);
        continue;
      }
      complete_end = offset;
      ++out.lines;
      if (auto key = ResultKey(pending)) {
        out.keys.insert(std::move(*key));
      } else {
        ++out.unreadable_lines;
      }
      pending.clear();
    }
  }
  ::close(fd);
  if (offset > complete_end) {
    out.truncated_bytes = offset - complete_end;
    if (repair) {
      int wfd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      if (wfd < 0 || ::ftruncate(wfd, static_cast<off_t>(complete_end)) != 0 ||
          ::fdatasync(wfd) != 0) {
        if (wfd >= 0) ::close(wfd);
        return Internal(path + ": cannot cut the torn last line (" + std::strerror(errno) + ")");
      }
      ::close(wfd);
    }
  }
  return out;
}

}  // namespace modelmux::batch

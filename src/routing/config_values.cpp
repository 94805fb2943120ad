#include "routing/config_values.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <limits>
#include <sstream>

namespace modelmux::routing {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Reads a run of digits at `pos`; nullopt on none or on overflow.
std::optional<uint64_t> ReadNumber(std::string_view s, size_t& pos) {
  size_t start = pos;
  uint64_t n = 0;
  while (pos < s.size() && IsDigit(s[pos])) {
    uint64_t d = static_cast<uint64_t>(s[pos] - '0');
    if (n > (std::numeric_limits<uint64_t>::max() - d) / 10) return std::nullopt;
    n = n * 10 + d;
    ++pos;
  }
  if (pos == start) return std::nullopt;
  return n;
}

bool MulOverflows(uint64_t a, uint64_t b) {
  return b != 0 && a > std::numeric_limits<uint64_t>::max() / b;
}

}  // namespace

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  size_t pos = 0;
  // A bare integer is milliseconds.
  if (std::all_of(text.begin(), text.end(), IsDigit)) {
    auto n = ReadNumber(text, pos);
    if (!n || *n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return std::chrono::milliseconds(static_cast<int64_t>(*n));
  }
  constexpr uint64_t kMaxMs = uint64_t{1} << 53;  // far beyond any sensible timeout
  uint64_t total = 0;
  while (pos < text.size()) {
    auto n = ReadNumber(text, pos);
    if (!n) return std::nullopt;
    size_t unit_start = pos;
    while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
    std::string_view unit = text.substr(unit_start, pos - unit_start);
    uint64_t scale = 0;
    if (unit == "ms")
      scale = 1;
    else if (unit == "s")
      scale = 1'000;
    else if (unit == "m")
      scale = 60'000;
    else if (unit == "h")
      scale = 3'600'000;
    else if (unit == "d")
      scale = 86'400'000;
    else
      return std::nullopt;
    if (MulOverflows(*n, scale) || *n * scale > kMaxMs - total) return std::nullopt;
    total += *n * scale;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total));
}

std::optional<uint64_t> ParseSize(std::string_view text) {
  text = Trim(text);
  size_t pos = 0;
  auto n = ReadNumber(text, pos);
  if (!n) return std::nullopt;
  std::string unit = Lower(Trim(text.substr(pos)));
  uint64_t scale = 0;
  if (unit.empty() || unit == "b")
    scale = 1;
  else if (unit == "kib")
    scale = uint64_t{1} << 10;
  else if (unit == "mib")
    scale = uint64_t{1} << 20;
  else if (unit == "gib")
    scale = uint64_t{1} << 30;
  else if (unit == "tib")
    scale = uint64_t{1} << 40;
  else if (unit == "kb")
    scale = 1'000;
  else if (unit == "mb")
    scale = 1'000'000;
  else if (unit == "gb")
    scale = 1'000'000'000;
  else if (unit == "tb")
    scale = 1'000'000'000'000;
  else
    return std::nullopt;
  if (MulOverflows(*n, scale)) return std::nullopt;
  return *n * scale;
}

namespace config_detail {
namespace {

bool IsVarName(std::string_view name) {
  if (name.empty() || IsDigit(name.front())) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

Error ValueError(std::string message) {
  return Error{
      .kind = ErrorKind::kInvalidRequest, .message = std::move(message), .code = "config_invalid"};
}

Result<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ValueError("cannot read secret file '" + path + "'");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return ValueError("cannot read secret file '" + path + "'");
  std::string content = std::move(buffer).str();
  while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.pop_back();
  return content;
}

}  // namespace

Result<Interpolated> Interpolate(std::string_view text, const EnvLookup& env) {
  Interpolated out;
  out.source = "config";
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      out.value += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out.value += text[i++];
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) return ValueError("unterminated '${' in value");
    std::string_view inner = text.substr(i + 2, close - i - 2);
    i = close + 1;
    bool first = !out.templated;
    out.templated = true;
    if (inner.substr(0, 5) == "file:") {
      std::string path(Trim(inner.substr(5)));
      if (path.empty()) return ValueError("empty path in '${file:}'");
      MM_TRY(std::string content, ReadSecretFile(path));
      out.value += content;
      if (first) out.source = "file:" + path;
      continue;
    }
    std::string_view name = inner;
    std::optional<std::string_view> fallback;
    if (size_t sep = inner.find(":-"); sep != std::string_view::npos) {
      name = inner.substr(0, sep);
      fallback = inner.substr(sep + 2);
    }
    if (!IsVarName(name)) {
      return ValueError("invalid variable reference '${" + std::string(name) + "}'");
    }
    std::optional<std::string> value = env ? env(name) : std::nullopt;
    if (fallback && (!value || value->empty())) {
      out.value += *fallback;
      if (first) out.source = value ? std::string(name) : "config";
      continue;
    }
    if (!value) {
      return ValueError("environment variable '" + std::string(name) + "' is not set");
    }
    out.value += *value;
    if (first) out.source = std::string(name);
  }
  return out;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + cost});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string SuggestKey(std::string_view key, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (std::string_view candidate : candidates) {
    size_t d = EditDistance(Lower(key), Lower(candidate));
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  size_t limit = std::max<size_t>(2, std::min(key.size(), best.size()) / 3);
  if (best.empty() || best_distance > limit || best_distance >= key.size()) return {};
  return std::string(best);
}

}  // namespace config_detail
}  // namespace modelmux::routing

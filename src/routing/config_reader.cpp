#include "routing/config_reader.hpp"

#include <charconv>
#include <cmath>

#include <algorithm>
#include <cctype>
#include <limits>

namespace modelmux::routing::config_detail {
namespace {

std::string FormatNumber(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

}  // namespace

Error ConfigError(std::string path, std::string what, std::string_view origin, int line) {
  std::string message = "config: " + std::move(what);
  if (!origin.empty()) {
    message += " (" + std::string(origin);
    if (line > 0) message += ":" + std::to_string(line);
    message += ")";
  }
  return Error{.kind = ErrorKind::kInvalidRequest,
               .message = std::move(message),
               .param = std::move(path),
               .code = "config_invalid"};
}

void ParseContext::Fail(const YAML::Node& node, const std::string& path, std::string what) {
  if (error_) return;
  int line = node.IsDefined() ? node.Mark().line + 1 : 0;
  error_ = ConfigError(path, std::move(what), origin_, line);
}

std::optional<Interpolated> ParseContext::Scalar(const YAML::Node& node, const std::string& path) {
  if (!node.IsDefined() || node.IsNull()) return std::nullopt;
  if (!node.IsScalar()) {
    Fail(node, path, "'" + path + "' must be a single value");
    return std::nullopt;
  }
  Result<Interpolated> v = Interpolate(node.Scalar(), env_);
  if (!v.ok()) {
    Fail(node, path, v.error().message + " in '" + path + "'");
    return std::nullopt;
  }
  return std::move(v).value();
}

std::string Shown(const YAML::Node& node, const Interpolated& value) {
  return value.templated ? node.Scalar() : value.value;
}

std::optional<uint64_t> ParseUnsigned(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

MapReader::MapReader(ParseContext& ctx, const YAML::Node& node, std::string path,
                     std::initializer_list<std::string_view> allowed)
    : ctx_(ctx), path_(std::move(path)) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsMap()) {
    ctx_.Fail(node, path_, "'" + path_ + "' must be a map");
    return;
  }
  std::vector<std::string_view> candidates(allowed);
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      ctx_.Fail(it->first, path_, "keys of '" + path_ + "' must be plain names");
      return;
    }
    const std::string& key = it->first.Scalar();
    std::string full = Path(key);
    if (std::find(candidates.begin(), candidates.end(), key) == candidates.end()) {
      std::string what = "unknown key '" + full + "'";
      if (std::string hint = SuggestKey(key, candidates); !hint.empty()) {
        what += " (did you mean '" + hint + "'?)";
      }
      ctx_.Fail(it->first, full, std::move(what));
      return;
    }
    if (Has(key)) {
      ctx_.Fail(it->first, full, "duplicate key '" + full + "'");
      return;
    }
    entries_.emplace_back(key, it->second);
  }
}

bool MapReader::Has(std::string_view key) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const auto& e) { return e.first == key; });
}

YAML::Node MapReader::Get(std::string_view key) const {
  for (const auto& [name, node] : entries_) {
    if (name == key) return node;
  }
  return YAML::Node(YAML::NodeType::Null);
}

std::string MapReader::Path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

std::optional<Interpolated> MapReader::Value(std::string_view key) {
  if (!ctx_.ok()) return std::nullopt;
  return ctx_.Scalar(Get(key), Path(key));
}

void MapReader::String(std::string_view key, std::string& out) {
  if (auto v = Value(key)) out = std::move(v->value);
}

void MapReader::Secret(std::string_view key, std::string& out, std::string& source) {
  if (auto v = Value(key)) {
    out = std::move(v->value);
    source = out.empty() ? std::string() : std::move(v->source);
  }
}

void MapReader::Bool(std::string_view key, bool& out) {
  auto v = Value(key);
  if (!v) return;
  std::string s = v->value;
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "true" || s == "yes" || s == "on") {
    out = true;
  } else if (s == "false" || s == "no" || s == "off") {
    out = false;
  } else {
    ctx_.Fail(Get(key), Path(key),
              "invalid boolean '" + Shown(Get(key), *v) + "' for '" + Path(key) + "'");
  }
}

void MapReader::Duration(std::string_view key, std::chrono::milliseconds& out) {
  auto v = Value(key);
  if (!v) return;
  if (auto d = ParseDuration(v->value)) {
    out = *d;
  } else {
    ctx_.Fail(Get(key), Path(key),
              "invalid duration '" + Shown(Get(key), *v) + "' for '" + Path(key) +
                  "' (expected e.g. 250ms, 5s, 2m, 1h)");
  }
}

void MapReader::Size(std::string_view key, uint64_t& out) {
  auto v = Value(key);
  if (!v) return;
  if (auto n = ParseSize(v->value)) {
    out = *n;
  } else {
    ctx_.Fail(Get(key), Path(key),
              "invalid size '" + Shown(Get(key), *v) + "' for '" + Path(key) +
                  "' (expected e.g. 64KiB, 32MiB)");
  }
}

void MapReader::Unsigned(std::string_view key, uint64_t max, uint64_t& out) {
  auto v = Value(key);
  if (!v) return;
  auto n = ParseUnsigned(v->value);
  if (!n || *n > max) {
    ctx_.Fail(Get(key), Path(key),
              "invalid value '" + Shown(Get(key), *v) + "' for '" + Path(key) +
                  "' (expected an integer from 0 to " + std::to_string(max) + ")");
    return;
  }
  out = *n;
}

void MapReader::Double(std::string_view key, double min, double max, double& out) {
  auto v = Value(key);
  if (!v) return;
  double d = 0;
  const std::string& text = v->value;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(d) ||
      d < min || d > max) {
    ctx_.Fail(Get(key), Path(key),
              "invalid value '" + Shown(Get(key), *v) + "' for '" + Path(key) +
                  "' (expected a number from " + FormatNumber(min) + " to " + FormatNumber(max) +
                  ")");
    return;
  }
  out = d;
}

void MapReader::OptionalUnsigned(std::string_view key, std::optional<uint64_t>& out) {
  if (Get(key).IsNull()) return;
  uint64_t v = 0;
  Unsigned(key, std::numeric_limits<uint64_t>::max(), v);
  if (ctx_.ok()) out = v;
}

void MapReader::StringList(std::string_view key, std::vector<std::string>& out) {
  YAML::Node node = Get(key);
  if (node.IsNull() || !ctx_.ok()) return;
  if (!node.IsSequence()) {
    ctx_.Fail(node, Path(key), "'" + Path(key) + "' must be a list");
    return;
  }
  out.clear();
  for (size_t i = 0; i < node.size(); ++i) {
    std::string path = Path(key) + "[" + std::to_string(i) + "]";
    auto v = ctx_.Scalar(node[i], path);
    if (!ctx_.ok()) return;
    if (!v || v->value.empty()) {
      ctx_.Fail(node[i], path, "'" + path + "' must not be empty");
      return;
    }
    out.push_back(std::move(v->value));
  }
}

void MapReader::StringMap(std::string_view key, std::map<std::string, std::string>& out) {
  YAML::Node node = Get(key);
  if (node.IsNull() || !ctx_.ok()) return;
  if (!node.IsMap()) {
    ctx_.Fail(node, Path(key), "'" + Path(key) + "' must be a map");
    return;
  }
  out.clear();
  for (auto it = node.begin(); it != node.end(); ++it) {
    std::string name = it->first.IsScalar() ? it->first.Scalar() : std::string();
    std::string path = Path(key) + "." + name;
    if (name.empty()) {
      ctx_.Fail(it->first, Path(key), "keys of '" + Path(key) + "' must be plain names");
      return;
    }
    if (out.count(name) != 0) {
      ctx_.Fail(it->first, path, "duplicate key '" + path + "'");
      return;
    }
    auto v = ctx_.Scalar(it->second, path);
    if (!ctx_.ok()) return;
    out[name] = v ? std::move(v->value) : std::string();
  }
}

}  // namespace modelmux::routing::config_detail

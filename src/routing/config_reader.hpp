#pragma once
// Internal to the config loader: strict readers over yaml-cpp nodes. Each MapReader knows the keys
// its section allows and refuses any other (naming the full path, with a suggestion); getters
// interpolate `${...}`, convert, and record the first error in the shared ParseContext, so a
// section parser reads like a list of fields and checks ctx.ok() once at the end.

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "routing/config.hpp"
#include "routing/config_values.hpp"

namespace modelmux::routing::config_detail {

// Builds the one kind of error the loader returns.
[[nodiscard]] Error ConfigError(std::string path, std::string what, std::string_view origin,
                                int line);

class ParseContext {
 public:
  ParseContext(const EnvLookup& env, std::string origin) : env_(env), origin_(std::move(origin)) {}

  [[nodiscard]] bool ok() const { return !error_.has_value(); }
  // Records an error at `node`'s position unless one is recorded already.
  void Fail(const YAML::Node& node, const std::string& path, std::string what);
  [[nodiscard]] Error TakeError() { return std::move(*error_); }
  [[nodiscard]] const EnvLookup& env() const { return env_; }
  [[nodiscard]] const std::string& origin() const { return origin_; }

  // A scalar at `path`, interpolated; nullopt (with an error recorded) when it is not a scalar or
  // interpolation fails. A null node yields nullopt without an error; check IsNull first.
  std::optional<Interpolated> Scalar(const YAML::Node& node, const std::string& path);

 private:
  const EnvLookup& env_;
  std::string origin_;
  std::optional<Error> error_;
};

// How a rejected value is shown: its template when it was interpolated (never a secret).
[[nodiscard]] std::string Shown(const YAML::Node& node, const Interpolated& value);

class MapReader {
 public:
  // `node` must be a map or null (an empty section); anything else, an unknown or a duplicated key
  // is recorded as an error.
  MapReader(ParseContext& ctx, const YAML::Node& node, std::string path,
            std::initializer_list<std::string_view> allowed);

  [[nodiscard]] bool Has(std::string_view key) const;
  // The value node (null when absent).
  [[nodiscard]] YAML::Node Get(std::string_view key) const;
  [[nodiscard]] std::string Path(std::string_view key) const;
  [[nodiscard]] ParseContext& ctx() const { return ctx_; }

  // Each getter leaves `out` untouched when the key is absent or null.
  void String(std::string_view key, std::string& out);
  void Secret(std::string_view key, std::string& out, std::string& source);
  void Bool(std::string_view key, bool& out);
  void Duration(std::string_view key, std::chrono::milliseconds& out);
  void Size(std::string_view key, uint64_t& out);
  void Unsigned(std::string_view key, uint64_t max, uint64_t& out);
  template <class T>
  void Unsigned(std::string_view key, uint64_t max, T& out) {
    uint64_t v = static_cast<uint64_t>(out);
    Unsigned(key, max, v);
    out = static_cast<T>(v);
  }
  template <class T>
  void Unsigned(std::string_view key, T& out) {
    uint64_t v = out;
    Unsigned(key, static_cast<uint64_t>(std::numeric_limits<T>::max()), v);
    out = static_cast<T>(v);
  }
  void OptionalUnsigned(std::string_view key, std::optional<uint64_t>& out);
  // A finite decimal number in [min, max].
  void Double(std::string_view key, double min, double max, double& out);
  void StringList(std::string_view key, std::vector<std::string>& out);
  void StringMap(std::string_view key, std::map<std::string, std::string>& out);
  template <class E>
  void Enum(std::string_view key, std::initializer_list<std::pair<std::string_view, E>> names,
            E& out) {
    std::optional<Interpolated> v = Value(key);
    if (!v) return;
    std::string allowed;
    for (const auto& [name, value] : names) {
      if (v->value == name) {
        out = value;
        return;
      }
      allowed += (allowed.empty() ? "" : "|") + std::string(name);
    }
    ctx_.Fail(Get(key), Path(key),
              "invalid value '" + Shown(Get(key), *v) + "' for '" + Path(key) + "' (expected " +
                  allowed + ")");
  }

 private:
  std::optional<Interpolated> Value(std::string_view key);

  ParseContext& ctx_;
  std::string path_;
  std::vector<std::pair<std::string, YAML::Node>> entries_;
};

// Unsigned integer grammar shared with list readers.
[[nodiscard]] std::optional<uint64_t> ParseUnsigned(std::string_view text);

}  // namespace modelmux::routing::config_detail

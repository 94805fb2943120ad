#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace modelmux {

// "provider/model": the model part may itself contain slashes (e.g. "openrouter/meta/llama").
struct ModelId {
  std::string provider;
  std::string model;

  [[nodiscard]] std::string ToString() const { return provider + "/" + model; }
  // Splits at the first '/'; nullopt when there is none or either side is empty.
  [[nodiscard]] static std::optional<ModelId> Parse(std::string_view name);
};

inline std::optional<ModelId> ModelId::Parse(std::string_view name) {
  auto slash = name.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == name.size())
    return std::nullopt;
  return ModelId{std::string(name.substr(0, slash)), std::string(name.substr(slash + 1))};
}

}  // namespace modelmux

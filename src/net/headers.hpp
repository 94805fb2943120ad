#pragma once
// A small ordered, case-insensitive header list. Kept apart from Beast so that code above net
// (handlers, the SDK) does not include Beast.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace modelmux::net {

[[nodiscard]] bool IEquals(std::string_view a, std::string_view b);

class Headers {
 public:
  using Entry = std::pair<std::string, std::string>;

  // First value of `name` (case-insensitive), or "" when absent.
  [[nodiscard]] std::string_view Get(std::string_view name) const;
  [[nodiscard]] bool Has(std::string_view name) const;
  void Add(std::string name, std::string value) {
    list_.emplace_back(std::move(name), std::move(value));
  }
  // Replaces every value of `name` with one.
  void Set(std::string_view name, std::string value);
  void Remove(std::string_view name);

  [[nodiscard]] const std::vector<Entry>& entries() const { return list_; }
  [[nodiscard]] size_t size() const { return list_.size(); }
  [[nodiscard]] auto begin() const { return list_.begin(); }
  [[nodiscard]] auto end() const { return list_.end(); }

 private:
  std::vector<Entry> list_;
};

}  // namespace modelmux::net

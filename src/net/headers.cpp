#include "net/headers.hpp"

#include <algorithm>

namespace modelmux::net {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x += 32;
    if (y >= 'A' && y <= 'Z') y += 32;
    if (x != y) return false;
  }
  return true;
}

std::string_view Headers::Get(std::string_view name) const {
  for (const auto& [k, v] : list_) {
    if (IEquals(k, name)) return v;
  }
  return {};
}

bool Headers::Has(std::string_view name) const {
  return std::any_of(list_.begin(), list_.end(),
                     [&](const Entry& e) { return IEquals(e.first, name); });
}

void Headers::Set(std::string_view name, std::string value) {
  Remove(name);
  list_.emplace_back(std::string(name), std::move(value));
}

void Headers::Remove(std::string_view name) {
  std::erase_if(list_, [&](const Entry& e) { return IEquals(e.first, name); });
}

}  // namespace modelmux::net

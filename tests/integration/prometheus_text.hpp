#pragma once
// A small reader of the Prometheus text exposition format for the integration tests: samples
// with their labels, and the `# TYPE` of each family.

#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace modelmux::testing {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::vector<Sample> samples;
  std::map<std::string, std::string> types;  // family name -> counter, gauge, histogram
  std::vector<std::string> errors;           // lines that did not parse

  // The sum of the samples named `name` whose labels include every pair of `match`.
  [[nodiscard]] double Sum(std::string_view name,
                           const std::map<std::string, std::string>& match = {}) const {
    double total = 0;
    for (const auto& s : samples) {
      if (s.name != name) continue;
      bool ok = true;
      for (const auto& [k, v] : match) {
        auto it = s.labels.find(k);
        if (it == s.labels.end() || it->second != v) ok = false;
      }
      if (ok) total += s.value;
    }
    return total;
  }
  [[nodiscard]] bool Has(std::string_view name,
                         const std::map<std::string, std::string>& match = {}) const {
    for (const auto& s : samples) {
      if (s.name != name) continue;
      bool ok = true;
      for (const auto& [k, v] : match) {
        auto it = s.labels.find(k);
        if (it == s.labels.end() || it->second != v) ok = false;
      }
      if (ok) return true;
    }
    return false;
  }
};

inline Exposition ParseExposition(std::string_view text) {
  Exposition out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::string_view rest = line.substr(7);
      const size_t sp = rest.find(' ');
      if (sp == std::string_view::npos) {
        out.errors.emplace_back(line);
        continue;
      }
      out.types[std::string(rest.substr(0, sp))] = std::string(rest.substr(sp + 1));
      continue;
    }
    if (line[0] == '#') continue;
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = std::string(line.substr(0, i));
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const size_t eq = line.find('=', i);
        if (eq == std::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"') break;
        std::string key(line.substr(i, eq - i));
        std::string value;
        size_t j = eq + 2;
        while (j < line.size() && line[j] != '"') {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value += line[j] == 'n' ? '\n' : line[j];
          } else {
            value += line[j];
          }
          ++j;
        }
        s.labels[key] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size() || line[i] != '}') {
        out.errors.emplace_back(line);
        continue;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      out.errors.emplace_back(line);
      continue;
    }
    std::string value(line.substr(i + 1));
    char* stop = nullptr;
    s.value = value == "+Inf" ? 1e308 : std::strtod(value.c_str(), &stop);
    if (value != "+Inf" && (stop == nullptr || *stop != '\0')) {
      out.errors.emplace_back(line);
      continue;
    }
    out.samples.push_back(std::move(s));
  }
  return out;
}

}  // namespace modelmux::testing

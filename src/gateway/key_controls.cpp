#include "gateway/key_controls.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <initializer_list>
#include <system_error>

#include "govern/scope.hpp"

namespace modelmux::gateway {

namespace json = boost::json;

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool IsNumberChar(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

// The index just past the JSON string that starts at s[i] == '"', or npos when it never ends.
size_t SkipString(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// True when the number text is above `cap` (or too large to read).
bool Above(std::string_view number, int64_t cap) {
  double x = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), x);
  if (ec == std::errc::result_out_of_range) return number.front() != '-';
  if (ec != std::errc() || end != number.data() + number.size()) return false;
  return x > static_cast<double>(cap);
}

// The slow way, for member names the scanner cannot see (written with \u escapes): the whole body
// through the JSON parser. Numbers elsewhere in it may change their spelling (7E-1 for 0.7).
void ClampThroughParser(std::string& body, std::initializer_list<std::string_view> names,
                        int64_t cap) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return;
  bool changed = false;
  for (std::string_view name : names) {
    json::value* m = v.get_object().if_contains(name);
    if (m == nullptr || !m->is_number()) continue;
    if (m->to_number<double>() > static_cast<double>(cap)) {
      *m = cap;
      changed = true;
    }
  }
  if (changed) body = json::serialize(v);
}

}  // namespace

int ClampTopLevelNumber(std::string& body, std::string_view name, int64_t cap, bool replace_null) {
  size_t i = 0;
  while (i < body.size() && IsSpace(body[i])) ++i;
  if (i >= body.size() || body[i] != '{') return -1;
  const std::string cap_text = std::to_string(cap);
  int depth = 0;
  int seen = 0;
  while (i < body.size()) {
    const char c = body[i];
    if (c == '"') {
      const size_t end = SkipString(body, i);
      if (end == std::string_view::npos) return -1;
      size_t j = end;
      while (j < body.size() && IsSpace(body[j])) ++j;
      if (depth != 1 || j >= body.size() || body[j] != ':') {
        i = end;  // a value, or a member name inside a nested object
        continue;
      }
      const std::string_view key(body.data() + i + 1, end - i - 2);
      ++j;
      while (j < body.size() && IsSpace(body[j])) ++j;
      i = j;  // scanning goes on at the value
      if (key != name) continue;
      size_t v_end = j;
      const bool is_null = body.compare(j, 4, "null") == 0;
      if (is_null) {
        v_end = j + 4;
      } else {
        while (v_end < body.size() && IsNumberChar(body[v_end])) ++v_end;
      }
      if (v_end == j) continue;  // a string, object, ...: not ours to judge
      ++seen;
      const bool replace =
          is_null ? replace_null : Above(std::string_view(body).substr(j, v_end - j), cap);
      if (replace) {
        body.replace(j, v_end - j, cap_text);
        v_end = j + cap_text.size();
      }
      i = v_end;
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) break;
    }
    ++i;
  }
  return seen;
}

std::string ApplyKeyMaxTokens(const govern::KeyRecord& key, std::string_view path,
                              std::string& body, RequestFacts& facts) {
  const bool anthropic = path == "/v1/messages";
  if (!facts.openai_chat && !anthropic) return {};
  if (!key.max_tokens && !key.default_max_tokens) return {};
  const bool chat = path == "/v1/chat/completions";
  const auto decision = govern::KeyMaxTokens(key, facts.max_tokens);
  if (!decision.value) return {};
  const int64_t value = *decision.value;
  std::string note;
  if (decision.clamped) {
    int seen = 0;
    for (std::string_view name :
         {std::string_view("max_tokens"), std::string_view(chat ? "max_completion_tokens" : "")}) {
      if (name.empty()) continue;
      seen += std::max(0, ClampTopLevelNumber(body, name, value));
    }
    if (seen == 0) {
      if (chat) {
        ClampThroughParser(body, {"max_tokens", "max_completion_tokens"}, value);
      } else {
        ClampThroughParser(body, {"max_tokens"}, value);
      }
    }
    note = std::to_string(*facts.max_tokens) + "->" + std::to_string(value);
  } else if (decision.filled) {
    // "max_tokens": null takes the value; otherwise it is written in.
    if (ClampTopLevelNumber(body, "max_tokens", value, /*replace_null=*/true) <= 0) {
      InjectMaxTokens(body, value);
    }
  }
  facts.max_tokens = value;
  return note;
}

}  // namespace modelmux::gateway

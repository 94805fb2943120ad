#include "text/redact.hpp"

#include <cctype>

namespace modelmux::text {
namespace {

bool IsKeyChar(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '+' || c == '/';
}

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

bool EndsWithBearer(std::string_view before) {
  // Accept "Bearer " with any case and one or more spaces.
  size_t end = before.size();
  size_t spaces = 0;
  while (end > 0 && before[end - 1] == ' ') {
    --end;
    ++spaces;
  }
  if (spaces == 0 || end < 6) return false;
  std::string_view word = before.substr(end - 6, 6);
  constexpr std::string_view kBearer = "bearer";
  for (size_t i = 0; i < 6; ++i) {
    if (std::tolower(static_cast<unsigned char>(word[i])) != kBearer[i]) return false;
  }
  return end == 6 || !IsKeyChar(static_cast<unsigned char>(before[end - 7]));
}

bool LooksSecret(std::string_view token, std::string_view before) {
  const size_t n = token.size();
  if ((StartsWith(token, "sk-") || StartsWith(token, "sk_")) && n >= 10) return true;
  if ((StartsWith(token, "AKIA") || StartsWith(token, "ASIA")) && n >= 16) return true;
  if (n >= 8 && EndsWithBearer(before)) return true;
  bool digit = false, upper = false, lower = false;
  for (unsigned char c : token) {
    digit |= std::isdigit(c) != 0;
    upper |= std::isupper(c) != 0;
    lower |= std::islower(c) != 0;
  }
  if (n >= 32 && digit && (upper || lower)) return true;
  return n >= 20 && digit && upper && lower;
}

}  // namespace

std::string MaskSecrets(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (!IsKeyChar(static_cast<unsigned char>(text[i]))) {
      out += text[i++];
      continue;
    }
    size_t end = i;
    while (end < text.size() && IsKeyChar(static_cast<unsigned char>(text[end]))) ++end;
    std::string_view token = text.substr(i, end - i);
    if (LooksSecret(token, text.substr(0, i))) {
      out += token.substr(0, 4);
      out += "***";
    } else {
      out += token;
    }
    i = end;
  }
  return out;
}

std::string PrintablePrefix(std::string_view body, size_t max) {
  std::string out;
  for (char ch : body) {
    if (out.size() >= max) break;
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n' || c == '\r' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else if (c >= 0x20 && c < 0x7F) {
      out += ch;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace modelmux::text

#include "telemetry/request_log_redact.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

namespace modelmux::telemetry {
namespace {

constexpr std::string_view kRedacted = "[REDACTED]";

bool TokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

bool Base64Char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=' ||
         c == '-' || c == '_';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool SensitiveName(std::string_view raw) {
  const std::string n = Lower(raw);
  static constexpr std::array<std::string_view, 12> kNames = {
      "key",   "api_key",       "apikey",   "api-key", "x-api-key",   "secret",
      "token", "authorization", "password", "passwd",  "credentials", "proxy-authorization"};
  if (std::find(kNames.begin(), kNames.end(), n) != kNames.end()) return true;
  for (std::string_view s :
       {"_key", "-key", "_secret", "-secret", "_token", "-token", "_password", "apikey"}) {
    if (EndsWith(n, s)) return true;
  }
  return false;
}

// The shapes of keys and tokens that must never reach a log.
bool SecretToken(std::string_view t) {
  auto starts = [&](std::string_view p) { return t.substr(0, p.size()) == p; };
  if ((starts("sk-") || starts("sk_") || starts("mm-") || starts("mm_")) && t.size() >= 12) {
    return true;
  }
  if ((starts("AKIA") || starts("ASIA")) && t.size() >= 16) return true;
  if (starts("AIza") && t.size() >= 30) return true;
  if (starts("eyJ") && t.size() >= 20) return true;  // a JWT's header segment
  return false;
}

int64_t Base64Bytes(std::string_view b64) {
  int64_t chars = 0;  // base64 digits (padding and JSON escapes left out)
  for (char c : b64) chars += (c != '=' && c != '\\') ? 1 : 0;
  return chars * 3 / 4;
}

int Value64(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

std::string Sniff(std::string_view b64) {
  std::string bytes;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : b64) {
    if (bytes.size() >= 12) break;
    const int v = Value64(c);
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  auto has = [&](size_t at, std::string_view m) { return bytes.compare(at, m.size(), m) == 0; };
  if (has(0, "\xFF\xD8\xFF")) return "image/jpeg";
  if (has(0, "\x89PNG")) return "image/png";
  if (has(0, "GIF8")) return "image/gif";
  if (has(0, "RIFF") && has(8, "WEBP")) return "image/webp";
  if (bytes.size() >= 8 && has(4, "ftyp")) return "video/mp4";
  if (has(0, "%PDF")) return "application/pdf";
  return "base64";
}

std::string Elided(std::string_view type, int64_t bytes) {
  return "<" + std::string(type) + " " + std::to_string(bytes) + " bytes>";
}

// A JSON string's raw content (escapes kept) as it goes to the log.
std::string StringValue(std::string_view raw, bool sensitive) {
  if (sensitive) return std::string(kRedacted);
  if (raw.starts_with("data:")) {
    const size_t marker = raw.find(";base64,");
    if (marker != std::string_view::npos) {
      std::string type(raw.substr(5, marker - 5));
      std::erase(type, '\\');
      return Elided(type.empty() ? "base64" : type, Base64Bytes(raw.substr(marker + 8)));
    }
  }
  if (raw.size() >= 128 &&
      std::all_of(raw.begin(), raw.end(), [](char c) { return Base64Char(c) || c == '\\'; })) {
    return Elided(Sniff(raw), Base64Bytes(raw));
  }
  return RedactKeyShapes(raw);
}

}  // namespace

std::string RedactKeyShapes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  bool after_bearer = false;
  while (i < text.size()) {
    if (!TokenChar(text[i])) {
      out += text[i++];
      continue;
    }
    size_t j = i;
    while (j < text.size() && TokenChar(text[j])) ++j;
    std::string_view tok = text.substr(i, j - i);
    if ((after_bearer && tok.size() >= 8) || SecretToken(tok)) {
      out += kRedacted;
      // A JWT or a dotted token: its other segments go with it.
      while (j < text.size() && (text[j] == '.' || TokenChar(text[j]) || text[j] == '+' ||
                                 text[j] == '/' || text[j] == '=')) {
        ++j;
      }
    } else {
      out += tok;
    }
    after_bearer = Lower(tok) == "bearer" && j < text.size() && text[j] == ' ';
    if (after_bearer) out += text[j++];
    i = j;
  }
  return out;
}

std::string RedactBody(std::string_view body, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(body.size(), max_bytes) + 64);
  size_t i = 0;
  bool sensitive_value = false;  // the last key named a secret
  while (i < body.size()) {
    const char c = body[i];
    if (c != '"') {
      // Outside strings: JSON punctuation and numbers, or a non-JSON body's text.
      size_t j = i;
      while (j < body.size() && body[j] != '"') ++j;
      out += RedactKeyShapes(body.substr(i, j - i));
      if (sensitive_value) {
        // Only a string value directly after the key is redacted.
        for (size_t k = i; k < j; ++k) {
          const char p = body[k];
          if (p != ':' && p != ' ' && p != '\n' && p != '\t' && p != '\r') {
            sensitive_value = false;
            break;
          }
        }
      }
      i = j;
      continue;
    }
    size_t j = i + 1;
    while (j < body.size() && body[j] != '"') j += body[j] == '\\' ? 2 : 1;
    const std::string_view raw = body.substr(i + 1, std::min(j, body.size()) - i - 1);
    size_t k = std::min(j + 1, body.size());
    while (k < body.size() && (body[k] == ' ' || body[k] == '\n' || body[k] == '\t')) ++k;
    const bool is_key = k < body.size() && body[k] == ':';
    out += '"';
    if (is_key) {
      out += RedactKeyShapes(raw);
      sensitive_value = SensitiveName(raw);
    } else {
      out += StringValue(raw, sensitive_value);
      sensitive_value = false;
    }
    out += '"';
    i = std::min(j + 1, body.size());
  }
  if (out.size() > max_bytes) {
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    const size_t total = out.size();
    out.resize(cut);
    out += "...(truncated, " + std::to_string(total) + " bytes)";
  }
  return out;
}

}  // namespace modelmux::telemetry

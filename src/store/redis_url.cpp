// ParseRedisUrl and RedisHashSlot: the pure parts of the Redis client.
#include <array>
#include <charconv>

#include "store/redis.hpp"

namespace modelmux::store {
namespace {

Error UrlError(std::string message) {
  Error e = InvalidRequest(std::move(message), "redis.url", "invalid_redis_url");
  return e;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view s, const char* what) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return UrlError(std::string("bad escape in ") + what);
    const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return UrlError(std::string("bad escape in ") + what);
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// host:port (IPv6 in brackets), port defaulting to 6379; returns the normalised "host:port".
Result<std::string> HostPort(std::string_view s) {
  if (s.empty()) return UrlError("missing host");
  std::string host;
  std::string_view port;
  if (s.front() == '[') {
    const size_t close = s.find(']');
    if (close == std::string_view::npos) return UrlError("unterminated IPv6 address");
    host = std::string(s.substr(0, close + 1));
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return UrlError("bad host:port");
      port = rest.substr(1);
    }
  } else {
    const size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) {
      host = std::string(s);
    } else {
      if (s.find(':') != colon) return UrlError("IPv6 addresses need brackets");
      host = std::string(s.substr(0, colon));
      port = s.substr(colon + 1);
    }
  }
  if (host.empty() || host == "[]") return UrlError("missing host");
  int p = 6379;
  if (!port.empty()) {
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p <= 0 || p > 65535) {
      return UrlError("bad port");
    }
  }
  return host + ":" + std::to_string(p);
}

}  // namespace

Result<RedisOptions> ParseRedisUrl(std::string_view urls) {
  RedisOptions o;
  bool first = true;
  size_t start = 0;
  while (start <= urls.size()) {
    size_t comma = urls.find(',', start);
    if (comma == std::string_view::npos) comma = urls.size();
    std::string_view item = Trim(urls.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) {
      if (comma == urls.size()) break;
      continue;
    }
    std::string_view rest = item;
    bool has_scheme = false;
    bool tls = false;
    if (rest.rfind("redis://", 0) == 0) {
      rest.remove_prefix(8);
      has_scheme = true;
    } else if (rest.rfind("rediss://", 0) == 0) {
      rest.remove_prefix(9);
      has_scheme = true;
      tls = true;
    } else if (rest.find("://") != std::string_view::npos) {
      return UrlError("unsupported scheme (expected redis:// or rediss://)");
    } else if (first) {
      return UrlError("expected a redis:// or rediss:// URL");
    }
    if (has_scheme) {
      if (first) {
        o.tls = tls;
      } else if (tls != o.tls) {
        return UrlError("seeds mix redis:// and rediss://");
      }
    }
    // Query strings are not supported; the path is the db number.
    if (rest.find('?') != std::string_view::npos) return UrlError("query parameters not supported");
    std::string_view path;
    if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
      path = rest.substr(slash + 1);
      rest = rest.substr(0, slash);
    }
    if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
      std::string_view userinfo = rest.substr(0, at);
      rest = rest.substr(at + 1);
      std::string_view user = userinfo, pass;
      if (size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
        user = userinfo.substr(0, colon);
        pass = userinfo.substr(colon + 1);
      } else {
        // "redis://secret@host": a lone userinfo is the password (as redis-cli reads it).
        pass = userinfo;
        user = {};
      }
      auto u = PercentDecode(user, "user name");
      if (!u.ok()) return u.error();
      auto p = PercentDecode(pass, "password");
      if (!p.ok()) return UrlError("bad escape in password");
      if (o.password.empty() && o.username.empty()) {
        o.username = std::move(u).value();
        o.password = std::move(p).value();
      }
    }
    if (!path.empty()) {
      int db = 0;
      auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), db);
      if (ec != std::errc() || end != path.data() + path.size() || db < 0) {
        return UrlError("bad database number");
      }
      if (first) o.db = db;
    }
    auto hp = HostPort(rest);
    if (!hp.ok()) return hp.error();
    o.seeds.push_back(std::move(hp).value());
    first = false;
    if (comma == urls.size()) break;
  }
  if (o.seeds.empty()) return UrlError("no Redis URL given");
  if (o.seeds.size() > 1) {
    o.cluster = true;
    if (o.db != 0) return UrlError("a cluster has only database 0");
  }
  return o;
}

namespace {

constexpr std::array<uint16_t, 256> MakeCrc16Table() {
  std::array<uint16_t, 256> t{};
  for (int i = 0; i < 256; ++i) {
    uint16_t crc = static_cast<uint16_t>(i << 8);
    for (int b = 0; b < 8; ++b) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
    t[static_cast<size_t>(i)] = crc;
  }
  return t;
}
constexpr auto kCrc16 = MakeCrc16Table();

uint16_t Crc16(std::string_view s) {
  uint16_t crc = 0;
  for (unsigned char c : s) {
    crc = static_cast<uint16_t>((crc << 8) ^ kCrc16[((crc >> 8) ^ c) & 0xff]);
  }
  return crc;
}

}  // namespace

uint16_t RedisHashSlot(std::string_view key) {
  if (size_t open = key.find('{'); open != std::string_view::npos) {
    size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return Crc16(key) % 16384;
}

}  // namespace modelmux::store

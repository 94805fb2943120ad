#include "store/resp.hpp"

#include <charconv>

namespace modelmux::store {
namespace {

Error ProtocolError(std::string message) {
  Error e;
  e.kind = ErrorKind::kInternal;
  e.code = "redis_protocol";
  e.message = std::move(message);
  return e;
}

bool ParseInt(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

void AppendRespCommand(std::string& out, const std::vector<std::string>& args) {
  out += '*';
  out += std::to_string(args.size());
  out += "\r\n";
  for (const auto& a : args) {
    out += '$';
    out += std::to_string(a.size());
    out += "\r\n";
    out += a;
    out += "\r\n";
  }
}

std::string EncodeRespCommand(const std::vector<std::string>& args) {
  std::string out;
  AppendRespCommand(out, args);
  return out;
}

void RespParser::Feed(std::string_view bytes) {
  buf_.append(bytes.data(), bytes.size());
}

void RespParser::Compact() {
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 4096 && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
}

bool RespParser::Complete(RedisReply reply) {
  while (true) {
    if (stack_.empty()) {
      done_ = std::move(reply);
      return true;
    }
    Frame& top = stack_.back();
    top.reply.elements.push_back(std::move(reply));
    if (--top.remaining > 0) return false;
    reply = std::move(top.reply);
    stack_.pop_back();
  }
}

Result<std::optional<RedisReply>> RespParser::Next() {
  if (failed_) return ProtocolError("parser already failed");
  while (true) {
    if (pending_bulk_ >= 0) {
      const auto need = static_cast<size_t>(pending_bulk_) + 2;
      if (buf_.size() - pos_ < need) {
        Compact();
        return std::optional<RedisReply>();
      }
      if (buf_[pos_ + need - 2] != '\r' || buf_[pos_ + need - 1] != '\n') {
        failed_ = true;
        return ProtocolError("bulk string not terminated by CRLF");
      }
      RedisReply r;
      r.type = RedisReply::Type::kString;
      r.str.assign(buf_, pos_, need - 2);
      pos_ += need;
      pending_bulk_ = -1;
      if (Complete(std::move(r))) break;
      continue;
    }
    const size_t eol = buf_.find("\r\n", pos_);
    if (eol == std::string::npos) {
      if (buf_.size() - pos_ > limits_.max_line) {
        failed_ = true;
        return ProtocolError("line too long");
      }
      Compact();
      return std::optional<RedisReply>();
    }
    if (eol == pos_) {
      failed_ = true;
      return ProtocolError("empty line");
    }
    const char type = buf_[pos_];
    std::string_view line(buf_.data() + pos_ + 1, eol - pos_ - 1);
    pos_ = eol + 2;
    RedisReply r;
    int64_t n = 0;
    switch (type) {
      case '+':
        r.type = RedisReply::Type::kStatus;
        r.str = line;
        break;
      case '-':
        r.type = RedisReply::Type::kError;
        r.str = line;
        break;
      case ':':
        if (!ParseInt(line, n)) {
          failed_ = true;
          return ProtocolError("bad integer");
        }
        r.type = RedisReply::Type::kInteger;
        r.integer = n;
        break;
      case '$':
        if (!ParseInt(line, n) || n < -1 || n > limits_.max_bulk) {
          failed_ = true;
          return ProtocolError("bad bulk length");
        }
        if (n >= 0) {
          pending_bulk_ = n;
          continue;
        }
        break;  // $-1: nil
      case '*':
        if (!ParseInt(line, n) || n < -1 || n > limits_.max_array) {
          failed_ = true;
          return ProtocolError("bad array length");
        }
        if (n > 0) {
          if (stack_.size() >= limits_.max_depth) {
            failed_ = true;
            return ProtocolError("arrays nested too deeply");
          }
          Frame f;
          f.reply.type = RedisReply::Type::kArray;
          f.reply.elements.reserve(static_cast<size_t>(std::min<int64_t>(n, 1024)));
          f.remaining = n;
          stack_.push_back(std::move(f));
          continue;
        }
        if (n == 0) r.type = RedisReply::Type::kArray;  // *-1: nil
        break;
      default:
        failed_ = true;
        return ProtocolError("unknown reply type byte");
    }
    if (Complete(std::move(r))) break;
  }
  Compact();
  std::optional<RedisReply> out = std::move(done_);
  done_.reset();
  return out;
}

std::optional<RedisRedirect> ParseRedirect(const RedisReply& reply) {
  if (reply.type != RedisReply::Type::kError) return std::nullopt;
  std::string_view s = reply.str;
  RedisRedirect r;
  if (s.rfind("MOVED ", 0) == 0) {
    s.remove_prefix(6);
  } else if (s.rfind("ASK ", 0) == 0) {
    r.ask = true;
    s.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const size_t sp = s.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  int64_t slot = 0;
  if (!ParseInt(s.substr(0, sp), slot) || slot < 0 || slot >= 16384) return std::nullopt;
  r.slot = static_cast<uint16_t>(slot);
  r.address = s.substr(sp + 1);
  if (r.address.find(':') == std::string::npos) return std::nullopt;
  return r;
}

}  // namespace modelmux::store

#include "dialects/bedrock/eventstream.hpp"

#include <algorithm>
#include <array>

namespace modelmux::dialects::bedrock {
namespace {

constexpr size_t kPreludeBytes = 12;
constexpr size_t kOverheadBytes = 16;  // prelude + message CRC

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

uint32_t ReadU32(std::string_view b, size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(b[at])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 3]));
}

uint16_t ReadU16(std::string_view b, size_t at) {
  return static_cast<uint16_t>((static_cast<unsigned char>(b[at]) << 8) |
                               static_cast<unsigned char>(b[at + 1]));
}

void PutU32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

Error StreamError(std::string code, std::string message) {
  Error e;
  e.kind = ErrorKind::kUpstreamError;
  e.code = std::move(code);
  e.message = std::move(message);
  e.provider = "bedrock";
  return e;
}

// Parses the headers block into `headers`; string and bytes values are kept, others skipped.
Status ParseHeaders(std::string_view block, std::map<std::string, std::string>& headers) {
  size_t i = 0;
  auto truncated = [] {
    return StreamError("eventstream_header", "event-stream header truncated");
  };
  while (i < block.size()) {
    size_t name_len = static_cast<unsigned char>(block[i++]);
    if (name_len == 0 || block.size() - i < name_len + 1) return truncated();
    std::string name(block.substr(i, name_len));
    i += name_len;
    int type = static_cast<unsigned char>(block[i++]);
    size_t fixed = 0;
    switch (type) {
      case 0:  // true
      case 1:  // false
        fixed = 0;
        break;
      case 2:
        fixed = 1;
        break;  // i8
      case 3:
        fixed = 2;
        break;  // i16
      case 4:
        fixed = 4;
        break;  // i32
      case 5:
        fixed = 8;
        break;  // i64
      case 8:
        fixed = 8;
        break;  // timestamp, i64 milliseconds
      case 9:
        fixed = 16;
        break;   // uuid
      case 6:    // bytes
      case 7: {  // string
        if (block.size() - i < 2) return truncated();
        size_t len = ReadU16(block, i);
        i += 2;
        if (block.size() - i < len) return truncated();
        headers[std::move(name)] = std::string(block.substr(i, len));
        i += len;
        continue;
      }
      default:
        return StreamError("eventstream_header",
                           "event-stream header has unknown type " + std::to_string(type));
    }
    if (block.size() - i < fixed) return truncated();
    i += fixed;
  }
  return OkStatus();
}

}  // namespace

uint32_t Crc32(std::string_view bytes, uint32_t crc) {
  crc = ~crc;
  for (unsigned char c : bytes) crc = kCrcTable[(crc ^ c) & 0xff] ^ (crc >> 8);
  return ~crc;
}

std::string_view EventStreamMessage::Header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string_view() : std::string_view(it->second);
}

Status EventStreamParser::Feed(std::string_view bytes, std::vector<EventStreamMessage>& out) {
  if (error_) return *error_;
  buffer_.append(bytes);
  size_t pos = 0;
  Status status = OkStatus();
  while (buffer_.size() - pos >= kPreludeBytes) {
    std::string_view rest = std::string_view(buffer_).substr(pos);
    const uint32_t total = ReadU32(rest, 0);
    const uint32_t headers_len = ReadU32(rest, 4);
    if (Crc32(rest.substr(0, 8)) != ReadU32(rest, 8)) {
      status = StreamError("eventstream_crc", "event-stream prelude CRC mismatch");
      break;
    }
    if (total < kOverheadBytes || total > kEventStreamMaxMessageBytes) {
      status = StreamError("eventstream_length", "event-stream message length " +
                                                     std::to_string(total) + " out of bounds");
      break;
    }
    if (headers_len > kEventStreamMaxHeadersBytes || headers_len > total - kOverheadBytes) {
      status =
          StreamError("eventstream_length", "event-stream headers length " +
                                                std::to_string(headers_len) + " out of bounds");
      break;
    }
    if (rest.size() < total) break;  // wait for the rest of the message
    if (Crc32(rest.substr(0, total - 4)) != ReadU32(rest, total - 4)) {
      status = StreamError("eventstream_crc", "event-stream message CRC mismatch");
      break;
    }
    EventStreamMessage msg;
    Status hs = ParseHeaders(rest.substr(kPreludeBytes, headers_len), msg.headers);
    if (!hs.ok()) {
      status = std::move(hs);
      break;
    }
    msg.payload =
        std::string(rest.substr(kPreludeBytes + headers_len, total - kOverheadBytes - headers_len));
    out.push_back(std::move(msg));
    pos += total;
  }
  buffer_.erase(0, pos);
  if (!status.ok()) {
    error_ = status.error();
    buffer_.clear();
  }
  return status;
}

Status EventStreamParser::Finish() const {
  if (error_) return *error_;
  if (!buffer_.empty()) {
    return StreamError("eventstream_truncated", "event stream ended inside a message (" +
                                                    std::to_string(buffer_.size()) +
                                                    " bytes buffered)");
  }
  return OkStatus();
}

std::string EncodeEventStreamMessage(
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view payload) {
  std::string block;
  for (const auto& [name, value] : headers) {
    const size_t name_len = std::min<size_t>(name.size(), 255);
    block.push_back(static_cast<char>(name_len));
    block.append(name, 0, name_len);
    block.push_back(7);
    const size_t len = std::min<size_t>(value.size(), 0xffff);
    block.push_back(static_cast<char>(len >> 8));
    block.push_back(static_cast<char>(len & 0xff));
    block.append(value, 0, len);
  }
  const auto total = static_cast<uint32_t>(kOverheadBytes + block.size() + payload.size());
  std::string out;
  out.reserve(total);
  PutU32(out, total);
  PutU32(out, static_cast<uint32_t>(block.size()));
  PutU32(out, Crc32(out));
  out += block;
  out.append(payload);
  PutU32(out, Crc32(out));
  return out;
}

}  // namespace modelmux::dialects::bedrock

#pragma once
// AWS event-stream framing (application/vnd.amazon.eventstream), as Bedrock's ConverseStream and
// InvokeModelWithResponseStream send it. All integers big-endian:
//   [u32 total_len][u32 headers_len][u32 prelude_crc][headers][payload][u32 message_crc]
// prelude_crc is the CRC-32 (IEEE, as zlib/gzip) of the first 8 bytes; message_crc covers every
// byte before it. A header is [u8 name_len][name][u8 type][value]; types 0-9 are understood.
// Pure; a parser serves one stream and is not thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace modelmux::dialects::bedrock {

inline constexpr uint32_t kEventStreamMaxMessageBytes = 16 * 1024 * 1024;
inline constexpr uint32_t kEventStreamMaxHeadersBytes = 128 * 1024;

struct EventStreamMessage {
  // String (type 7) and byte-array (type 6) headers by name, e.g. ":message-type" (event |
  // exception | error), ":event-type", ":exception-type", ":content-type", ":error-code",
  // ":error-message". Headers of the other types are validated and skipped.
  std::map<std::string, std::string> headers;
  std::string payload;

  // The header's value, or "" when absent.
  [[nodiscard]] std::string_view Header(std::string_view name) const;
};

// Incremental framer: bytes may be split anywhere. After the first error every later call returns
// that same error (the stream must be aborted: framing cannot be recovered).
class EventStreamParser {
 public:
  // Appends `bytes` and moves every complete message to `out` (appended, in order). Errors
  // (kUpstreamError, provider "bedrock"), by code:
  //   "eventstream_crc"     prelude or message CRC mismatch
  //   "eventstream_length"  total length < 16 or > kEventStreamMaxMessageBytes, headers length
  //                         > kEventStreamMaxHeadersBytes or larger than the message allows
  //   "eventstream_header"  a header runs past the headers block or has an unknown type
  // Messages completed before the failing one are still appended to `out`.
  [[nodiscard]] Status Feed(std::string_view bytes, std::vector<EventStreamMessage>& out);
  // At end of stream: error "eventstream_truncated" if a partial message is buffered.
  [[nodiscard]] Status Finish() const;
  // Bytes buffered of an incomplete message.
  [[nodiscard]] size_t buffered() const { return buffer_.size(); }

 private:
  std::string buffer_;
  std::optional<Error> error_;
};

// One frame with string headers (type 7), in the given order. Names longer than 255 bytes and
// values longer than 65535 bytes are cut to fit (callers pass short protocol headers).
[[nodiscard]] std::string EncodeEventStreamMessage(
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view payload);

// CRC-32 (IEEE 802.3 polynomial 0xEDB88320 reflected, init and xor-out 0xFFFFFFFF), continuing
// from `crc` (0 to start). Crc32("123456789") == 0xCBF43926.
[[nodiscard]] uint32_t Crc32(std::string_view bytes, uint32_t crc = 0);

}  // namespace modelmux::dialects::bedrock

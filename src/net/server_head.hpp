#pragma once
// Byte-level checks of a request head before Beast parses it. Beast accepts obs-fold (it turns
// the fold into spaces) and is lenient on some line endings; a proxy in front of the gateway may
// read such a head differently, which is what request smuggling exploits. So the raw bytes are
// scanned first and anything but a strict CRLF head is refused with 400 and a close.

#include <cstddef>
#include <string_view>

namespace modelmux::net {

enum class HeadScan {
  kNeedMore,  // no end of head yet, nothing wrong so far
  kComplete,  // a whole head (ending in CRLF CRLF), clean; `end` is its length
  kBareLf,    // LF without CR
  kBareCr,    // CR without LF
  kObsFold,   // a line starting with SP or HT (obs-fold, or whitespace before the first field)
  kTooLarge,  // no end of head within the limit
};

struct HeadScanResult {
  HeadScan scan = HeadScan::kNeedMore;
  size_t end = 0;  // with kComplete: bytes of the head, including the final CRLF CRLF
};

// Where a scan stopped, so that the next call (with more bytes appended) resumes there: a head
// that arrives one byte at a time costs linear time, not quadratic.
struct HeadScanState {
  size_t pos = 0;
  bool past_leading = false;  // the empty lines before the request line are behind us
  bool line_start = false;    // `pos` is right after the CRLF of a non-empty line
};

// Scans the bytes buffered for the next request (the same prefix, longer each call, with the
// same `state`). Empty lines before the request line are allowed (RFC 9112 2.2). `limit` bounds
// the head.
[[nodiscard]] HeadScanResult ScanRequestHead(std::string_view bytes, size_t limit,
                                             HeadScanState& state);
// The same from scratch.
[[nodiscard]] HeadScanResult ScanRequestHead(std::string_view bytes, size_t limit);

// Why a problem stops a request, for the 400 body ("" for kNeedMore/kComplete).
[[nodiscard]] std::string_view HeadScanProblem(HeadScan scan);

// True if a Transfer-Encoding value is exactly `chunked` (the only coding a request may use
// here; anything else, even with chunked last, is refused).
[[nodiscard]] bool TransferEncodingIsChunkedOnly(std::string_view value);

}  // namespace modelmux::net

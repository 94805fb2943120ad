#include "net/server_head.hpp"

namespace modelmux::net {

HeadScanResult ScanRequestHead(std::string_view bytes, size_t limit, HeadScanState& st) {
  size_t i = st.pos;
  const size_t n = bytes.size();
  if (!st.past_leading) {
    while (i + 1 < n && bytes[i] == '\r' && bytes[i + 1] == '\n') i += 2;
    if (i == n || (i + 1 == n && bytes[i] == '\r')) {  // maybe more empty lines to come
      st.pos = i;
      return {n > limit ? HeadScan::kTooLarge : HeadScan::kNeedMore, 0};
    }
    st.past_leading = true;
  }
  for (; i < n; ++i) {
    if (i >= limit) return {HeadScan::kTooLarge, 0};
    const char c = bytes[i];
    if (st.line_start) {
      if (c == ' ' || c == '\t') return {HeadScan::kObsFold, 0};
      if (c == '\r') {
        if (i + 1 == n) break;  // resume here, still at a line start
        if (bytes[i + 1] != '\n') return {HeadScan::kBareCr, 0};
        return {HeadScan::kComplete, i + 2};
      }
      st.line_start = false;
    }
    if (c == '\n') return {HeadScan::kBareLf, 0};
    if (c == '\r') {
      if (i + 1 == n) break;  // resume at the CR
      if (bytes[i + 1] != '\n') return {HeadScan::kBareCr, 0};
      ++i;  // the LF
      st.line_start = true;
    }
  }
  st.pos = i;
  return {n > limit ? HeadScan::kTooLarge : HeadScan::kNeedMore, 0};
}

HeadScanResult ScanRequestHead(std::string_view bytes, size_t limit) {
  HeadScanState state;
  return ScanRequestHead(bytes, limit, state);
}

std::string_view HeadScanProblem(HeadScan scan) {
  switch (scan) {
    case HeadScan::kBareLf:
      return "bare LF in the request head";
    case HeadScan::kBareCr:
      return "bare CR in the request head";
    case HeadScan::kObsFold:
      return "line folding in the request head";
    case HeadScan::kTooLarge:
      return "request header block too large";
    default:
      return {};
  }
}

bool TransferEncodingIsChunkedOnly(std::string_view value) {
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (!value.empty() && is_space(value.front())) value.remove_prefix(1);
  while (!value.empty() && is_space(value.back())) value.remove_suffix(1);
  constexpr std::string_view kChunked = "chunked";
  if (value.size() != kChunked.size()) return false;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kChunked[i]) return false;
  }
  return true;
}

}  // namespace modelmux::net

// The raw request-head scan: strict CRLF framing, no obs-fold, bytes split at every offset.

#include "net/server_head.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace modelmux::net {
namespace {

constexpr size_t kLimit = 1024;

TEST(ServerHeadTest, CleanHeadIsCompleteAtItsEnd) {
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX-A: b c\r\n\r\n";
  auto r = ScanRequestHead(head + "BODY", kLimit);
  EXPECT_EQ(r.scan, HeadScan::kComplete);
  EXPECT_EQ(r.end, head.size());
}

TEST(ServerHeadTest, EveryPrefixNeedsMoreNeverAnError) {
  const std::string head = "POST /v1/x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n";
  for (size_t i = 0; i < head.size(); ++i) {
    EXPECT_EQ(ScanRequestHead(head.substr(0, i), kLimit).scan, HeadScan::kNeedMore) << i;
  }
  EXPECT_EQ(ScanRequestHead(head, kLimit).scan, HeadScan::kComplete);
}

TEST(ServerHeadTest, LeadingEmptyLinesAreSkipped) {
  const std::string head = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
  auto r = ScanRequestHead(head, kLimit);
  EXPECT_EQ(r.scan, HeadScan::kComplete);
  EXPECT_EQ(r.end, head.size());
}

TEST(ServerHeadTest, BadFramingIsNamed) {
  EXPECT_EQ(ScanRequestHead("GET / HTTP/1.1\nHost: a\r\n\r\n", kLimit).scan, HeadScan::kBareLf);
  EXPECT_EQ(ScanRequestHead("GET / HTTP/1.1\r\nHost: a\n\n", kLimit).scan, HeadScan::kBareLf);
  EXPECT_EQ(ScanRequestHead("GET / HTTP/1.1\r\nHost: a\rB: c\r\n\r\n", kLimit).scan,
            HeadScan::kBareCr);
  EXPECT_EQ(ScanRequestHead("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", kLimit).scan,
            HeadScan::kObsFold);
  EXPECT_EQ(ScanRequestHead("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", kLimit).scan,
            HeadScan::kObsFold);
  EXPECT_EQ(ScanRequestHead("GET / HTTP/1.1\r\n Host: a\r\n\r\n", kLimit).scan, HeadScan::kObsFold);
  EXPECT_EQ(ScanRequestHead("GET / HTTP/1.1\r\nHost: a\r\n\r\r", kLimit).scan, HeadScan::kBareCr);
  EXPECT_FALSE(HeadScanProblem(HeadScan::kObsFold).empty());
  EXPECT_TRUE(HeadScanProblem(HeadScan::kComplete).empty());
}

TEST(ServerHeadTest, LimitBoundsAHeadWithoutEnd) {
  const std::string big = "GET / HTTP/1.1\r\nX: " + std::string(2000, 'a');
  EXPECT_EQ(ScanRequestHead(big, kLimit).scan, HeadScan::kTooLarge);
  EXPECT_EQ(ScanRequestHead(big.substr(0, 500), kLimit).scan, HeadScan::kNeedMore);
}

// Fed one byte at a time with a kept state, every input ends as it does when scanned whole.
TEST(ServerHeadTest, ResumedScanEqualsWholeScan) {
  const std::vector<std::string> inputs = {
      "GET / HTTP/1.1\r\nHost: a\r\nX-A: b c\r\n\r\n",
      "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\rB: c\r\n\r\n",
      "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
      "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n\r\r",
      "\r\n\n",
      "GET / HTTP/1.1\r\nX: " + std::string(2000, 'a'),
  };
  for (const auto& in : inputs) {
    const auto whole = ScanRequestHead(in, kLimit);
    HeadScanState state;
    HeadScanResult last;
    size_t len = 0;
    for (len = 1; len <= in.size(); ++len) {
      last = ScanRequestHead(std::string_view(in).substr(0, len), kLimit, state);
      if (last.scan != HeadScan::kNeedMore) break;
    }
    EXPECT_EQ(last.scan, whole.scan) << in;
    EXPECT_EQ(last.end, whole.end) << in;
    // Linear: the state never moves backwards and ends within the input.
    EXPECT_LE(state.pos, in.size()) << in;
  }
}

TEST(ServerHeadTest, OnlyPlainChunkedTransferEncoding) {
  EXPECT_TRUE(TransferEncodingIsChunkedOnly("chunked"));
  EXPECT_TRUE(TransferEncodingIsChunkedOnly(" Chunked "));
  EXPECT_FALSE(TransferEncodingIsChunkedOnly("gzip, chunked"));
  EXPECT_FALSE(TransferEncodingIsChunkedOnly("chunked, identity"));
  EXPECT_FALSE(TransferEncodingIsChunkedOnly("xchunked"));
  EXPECT_FALSE(TransferEncodingIsChunkedOnly(""));
}

}  // namespace
}  // namespace modelmux::net

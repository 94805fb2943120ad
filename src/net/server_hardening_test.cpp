// The server's HTTP hardening (reliability items 25, 31, 32) driven with raw sockets, over plain
// TCP and over TLS: the same limits, timeouts and guards must hold on both.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <thread>

#include "net/event_loops.hpp"
#include "net/server.hpp"
#include "net/server_test_client.hpp"

namespace modelmux::net {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using testing::ClientTls;
using testing::RawConn;
using testing::TestCert;
using Ms = std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr size_t kBodyLimit = 1024;

struct HardServer {
  EventLoops loops{1};
  std::unique_ptr<Server> server;
  std::atomic<int> handled{0};
  std::atomic<int> cancelled{0};
  std::atomic<int> flood_ended{0};
  std::atomic<int64_t> flood_ms{-1};
  bool tls = false;

  HardServer(bool with_tls, ServerOptions opt) : tls(with_tls) {
    std::signal(SIGPIPE, SIG_IGN);
    opt.host = "127.0.0.1";
    opt.port = 0;
    opt.body_limit = [](std::string_view) -> size_t { return kBodyLimit; };
    if (with_tls) {
      opt.tls_cert_file = TestCert::Get().cert;
      opt.tls_key_file = TestCert::Get().key;
    }
    server = std::make_unique<Server>(
        loops, opt, [this](ServerRequest& req, ResponseWriter& w) { return Handle(req, w); });
    auto st = server->Listen();
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
    loops.Start();
  }
  ~HardServer() {
    server->StopAccepting();
    loops.Stop();
    loops.Join();
  }

  std::unique_ptr<RawConn> Connect(const ClientTls* client_tls = nullptr) {
    static const ClientTls kDefault;
    return std::make_unique<RawConn>(server->port(),
                                     tls ? (client_tls ? client_tls : &kDefault) : nullptr);
  }

  awaitable<void> Handle(ServerRequest& req, ResponseWriter& w) {
    ++handled;
    Headers h;
    h.Add("content-type", "text/plain");
    asio::steady_timer t(co_await asio::this_coro::executor);
    if (req.path() == "/echo") {
      co_await w.Send(200, std::move(h), "echo:" + req.body);
    } else if (req.path() == "/drip") {
      // 8 chunks 150 ms apart: 1.2 s in all, longer than any single timeout of the test.
      co_await w.StartStream(200, std::move(h));
      for (int i = 0; i < 8; ++i) {
        t.expires_after(Ms(150));
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        if (!(co_await w.Write("drip" + std::to_string(i) + ";")).ok()) co_return;
      }
      co_await w.Finish();
    } else if (req.path() == "/flood") {
      // Writes until the client (which never reads) is cut by the write timeout.
      const auto start = Clock::now();
      co_await w.StartStream(200, std::move(h));
      const std::string block(256 * 1024, 'x');
      for (int i = 0; i < 1024; ++i) {
        if (!(co_await w.Write(block)).ok()) break;
      }
      flood_ms = std::chrono::duration_cast<Ms>(Clock::now() - start).count();
      ++flood_ended;
    } else if (req.path() == "/slow") {
      t.expires_after(std::chrono::seconds(10));
      auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) ++cancelled;
      co_await w.Send(200, std::move(h), "late");
    } else {
      co_await w.Send(404, std::move(h), "no");
    }
  }
};

ServerOptions Quick() {
  ServerOptions o;
  o.header_limit = 8 * 1024;
  o.max_header_fields = 50;
  return o;
}

std::string StatusLine(const std::string& reply) {
  return reply.substr(0, reply.find("\r\n"));
}

class HardeningTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      ASSERT_FALSE(TestCert::Get().cert.empty()) << "openssl CLI is needed";
    }
  }
  // Sends `bytes` on a fresh connection and returns everything until the server closes.
  static std::string Exchange(HardServer& s, const std::string& bytes, bool* closed,
                              Ms wait = Ms(3000)) {
    auto c = s.Connect();
    EXPECT_TRUE(c->ok());
    c->Send(bytes);
    auto out = c->ReadUntilClose(wait);
    *closed = c->closed();
    return out;
  }
};

TEST_P(HardeningTest, PlainRequestStillWorks) {
  HardServer s(GetParam(), Quick());
  bool closed = false;
  auto out = Exchange(s,
                      "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                      "Connection: close\r\n\r\nabc",
                      &closed);
  EXPECT_EQ(StatusLine(out), "HTTP/1.1 200 OK");
  EXPECT_NE(out.find("echo:abc"), std::string::npos);
  EXPECT_TRUE(closed);
}

TEST_P(HardeningTest, DeclaredBodyOverLimitGets413BeforeAnyBodyByte) {
  auto opt = Quick();
  opt.body_timeout = Ms(30'000);  // a server that waited for the body would answer far later
  HardServer s(GetParam(), opt);
  auto c = s.Connect();
  ASSERT_TRUE(c->ok());
  const auto start = Clock::now();
  c->Send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n");
  auto out = c->ReadUntilClose(Ms(5000));
  EXPECT_LT(Clock::now() - start, Ms(2000));
  EXPECT_EQ(StatusLine(out), "HTTP/1.1 413 Payload Too Large");
  EXPECT_NE(out.find("payload_too_large"), std::string::npos);
  EXPECT_TRUE(c->closed());
  EXPECT_EQ(s.handled.load(), 0);
}

TEST_P(HardeningTest, ChunkedBodyOverLimitGets413) {
  HardServer s(GetParam(), Quick());
  std::string req = "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) req += "200\r\n" + std::string(512, 'y') + "\r\n";  // 2 KiB > 1 KiB
  req += "0\r\n\r\n";
  bool closed = false;
  auto out = Exchange(s, req, &closed);
  EXPECT_EQ(StatusLine(out), "HTTP/1.1 413 Payload Too Large");
  EXPECT_TRUE(closed);
  EXPECT_EQ(s.handled.load(), 0);
}

TEST_P(HardeningTest, FalseContentLengthGets400AndClose) {
  HardServer s(GetParam(), Quick());
  for (const char* cl : {"abc", "-1", "+5", "5 5", "0x10", "18446744073709551616", ""}) {
    bool closed = false;
    auto out = Exchange(
        s, std::string("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: ") + cl + "\r\n\r\nhello",
        &closed);
    EXPECT_EQ(StatusLine(out), "HTTP/1.1 400 Bad Request") << "Content-Length: " << cl;
    EXPECT_TRUE(closed) << cl;
  }
  EXPECT_EQ(s.handled.load(), 0);
}

TEST_P(HardeningTest, ContentLengthLongerThanTheBodyIsCutByTheBodyTimeout) {
  auto opt = Quick();
  opt.body_timeout = Ms(300);
  HardServer s(GetParam(), opt);
  auto c = s.Connect();
  ASSERT_TRUE(c->ok());
  const auto start = Clock::now();
  c->Send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly-ten!!");
  auto out = c->ReadUntilClose(Ms(5000));
  EXPECT_TRUE(c->closed());
  EXPECT_LT(Clock::now() - start, Ms(2500));
  EXPECT_EQ(out.find("200 OK"), std::string::npos);
  EXPECT_EQ(s.handled.load(), 0);
}

TEST_P(HardeningTest, TooManyHeaderFieldsGet431) {
  HardServer s(GetParam(), Quick());
  std::string req = "GET /echo HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 60; ++i) req += "X-F" + std::to_string(i) + ": v\r\n";  // 61 > 50, ~700 B
  req += "\r\n";
  bool closed = false;
  auto out = Exchange(s, req, &closed);
  EXPECT_EQ(StatusLine(out), "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_TRUE(closed);
  EXPECT_EQ(s.handled.load(), 0);
}

TEST_P(HardeningTest, OversizedHeaderGets431) {
  HardServer s(GetParam(), Quick());
  for (size_t size : {size_t{9 * 1024}, size_t{100 * 1024}}) {
    bool closed = false;
    auto out = Exchange(
        s, "GET /echo HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(size, 'b') + "\r\n\r\n",
        &closed);
    EXPECT_EQ(StatusLine(out), "HTTP/1.1 431 Request Header Fields Too Large") << size;
    EXPECT_TRUE(closed);
  }
  EXPECT_EQ(s.handled.load(), 0);
}

TEST_P(HardeningTest, SmugglingShapesGet400AndClose) {
  HardServer s(GetParam(), Quick());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"CL+TE",
       "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"TE+CL",
       "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
       "Content-Length: 5\r\n\r\n0\r\n\r\n"},
      {"conflicting CL",
       "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
       "Content-Length: 6\r\n\r\nhello!"},
      {"CL list", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello!"},
      {"TE not chunked last",
       "POST /echo HTTP/1.1\r\nHost: a\r\n"
       "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"},
      {"obs-fold", "GET /echo HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n"},
      {"obs-fold tab", "GET /echo HTTP/1.1\r\nHost: a\r\nX-A: one\r\n\ttwo\r\n\r\n"},
      {"bare LF everywhere", "GET /echo HTTP/1.1\nHost: a\n\n"},
      {"bare LF in a field", "GET /echo HTTP/1.1\r\nHost: a\nX-B: c\r\n\r\n"},
      {"bare LF after request line", "GET /echo HTTP/1.1\nHost: a\r\n\r\n"},
      {"bare CR", "GET /echo HTTP/1.1\r\nHost: a\rX-B: c\r\n\r\n"},
      {"two TE headers",
       "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"TE gzip",
       "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"},
      {"space before colon", "GET /echo HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello"},
  };
  for (const auto& [name, bytes] : cases) {
    bool closed = false;
    auto out = Exchange(s, bytes, &closed);
    EXPECT_EQ(StatusLine(out), "HTTP/1.1 400 Bad Request") << name;
    EXPECT_NE(out.find("onnection: close"), std::string::npos) << name << ": " << out;
    EXPECT_TRUE(closed) << name;
  }
  EXPECT_EQ(s.handled.load(), 0);
}

TEST_P(HardeningTest, SlowHeadersAreCutAtTheHeaderTimeout) {
  auto opt = Quick();
  opt.header_timeout = Ms(400);
  HardServer s(GetParam(), opt);
  auto c = s.Connect();
  ASSERT_TRUE(c->ok());
  const auto start = Clock::now();
  c->Send("GET /echo HTTP/1.1\r\n");
  // Slowloris: one header byte every 100 ms keeps the socket busy but never ends the head.
  while (Clock::now() - start < Ms(3000) && c->Send("X")) {
    c->ReadUntilClose(Ms(100));
    if (c->closed()) break;
  }
  c->ReadUntilClose(Ms(200));
  EXPECT_TRUE(c->closed());
  const auto took = Clock::now() - start;
  EXPECT_GE(took, Ms(350));
  EXPECT_LT(took, Ms(2000));
  EXPECT_EQ(s.handled.load(), 0);
}

TEST_P(HardeningTest, SilentConnectionIsClosedAtTheHeaderTimeout) {
  auto opt = Quick();
  opt.header_timeout = Ms(300);
  HardServer s(GetParam(), opt);
  auto c = s.Connect();
  ASSERT_TRUE(c->ok());
  const auto start = Clock::now();
  c->ReadUntilClose(Ms(3000));
  EXPECT_TRUE(c->closed());
  EXPECT_LT(Clock::now() - start, Ms(2000));
}

TEST_P(HardeningTest, PerIpConnectionCap) {
  auto opt = Quick();
  opt.max_connections_per_ip = 2;
  HardServer s(GetParam(), opt);
  auto a = s.Connect();
  auto b = s.Connect();
  ASSERT_TRUE(a->ok());
  ASSERT_TRUE(b->ok());
  // Both are admitted and served.
  ASSERT_TRUE(a->Send("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_NE(a->ReadUntil("echo:", Ms(3000)).find("200 OK"), std::string::npos);
  // The third from the same address is closed without being served (for TLS: no handshake).
  auto c = s.Connect();
  if (c->ok()) {
    c->Send("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n");
    auto out = c->ReadUntilClose(Ms(3000));
    EXPECT_TRUE(c->closed());
    EXPECT_EQ(out.find("200 OK"), std::string::npos);
  }
  EXPECT_EQ(s.server->refused_per_ip(), 1u);
  // A slot freed is a slot to reuse.
  b.reset();
  for (int i = 0; i < 100 && s.server->connections() > 1; ++i) std::this_thread::sleep_for(Ms(10));
  auto d = s.Connect();
  ASSERT_TRUE(d->ok());
  ASSERT_TRUE(d->Send("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_NE(d->ReadUntil("echo:", Ms(3000)).find("200 OK"), std::string::npos);
}

TEST_P(HardeningTest, StreamsHaveNoTotalTimeout) {
  auto opt = Quick();
  opt.header_timeout = opt.idle_timeout = opt.body_timeout = opt.write_timeout = Ms(300);
  HardServer s(GetParam(), opt);
  auto c = s.Connect();
  ASSERT_TRUE(c->ok());
  c->Send("GET /drip HTTP/1.1\r\nHost: a\r\n\r\n");
  auto out = c->ReadUntil("\r\n0\r\n\r\n", Ms(5000));
  for (int i = 0; i < 8; ++i) {
    EXPECT_NE(out.find("drip" + std::to_string(i) + ";"), std::string::npos) << i;
  }
  EXPECT_NE(out.find("\r\n0\r\n\r\n"), std::string::npos) << "the stream ended early";
}

TEST_P(HardeningTest, ReaderThatStopsReadingIsCutByTheWriteTimeout) {
  auto opt = Quick();
  opt.write_timeout = Ms(300);
  HardServer s(GetParam(), opt);
  auto c = s.Connect();
  ASSERT_TRUE(c->ok());
  c->Send("GET /flood HTTP/1.1\r\nHost: a\r\n\r\n");
  // Never read: the socket buffers fill and one write waits past the write timeout.
  for (int i = 0; i < 500 && s.flood_ended.load() == 0; ++i) std::this_thread::sleep_for(Ms(10));
  ASSERT_EQ(s.flood_ended.load(), 1) << "the writer was never cut";
  EXPECT_LT(s.flood_ms.load(), 4000);
}

TEST_P(HardeningTest, ClientDisconnectCancelsTheHandler) {
  HardServer s(GetParam(), Quick());
  auto c = s.Connect();
  ASSERT_TRUE(c->ok());
  c->Send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
  for (int i = 0; i < 200 && s.handled.load() == 0; ++i) std::this_thread::sleep_for(Ms(5));
  const auto start = Clock::now();
  c->Close();
  for (int i = 0; i < 300 && s.cancelled.load() == 0; ++i) std::this_thread::sleep_for(Ms(10));
  EXPECT_EQ(s.cancelled.load(), 1);
  EXPECT_LT(Clock::now() - start, Ms(1000));
}

INSTANTIATE_TEST_SUITE_P(PlainAndTls, HardeningTest, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "Tls" : "Plain"; });

}  // namespace
}  // namespace modelmux::net

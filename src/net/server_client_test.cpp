// Server and client together over loopback: keep-alive reuse, streaming, limits, smuggling guards,
// stale pooled connections and client disconnects.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <future>

#include "net/event_loops.hpp"
#include "net/http_client.hpp"
#include "net/server.hpp"
#include "net/url.hpp"

namespace modelmux::net {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using tcp = asio::ip::tcp;

struct Fixture {
  EventLoops loops{1};
  std::unique_ptr<Server> server;
  std::atomic<int> cancelled{0};
  std::atomic<int> handled{0};

  explicit Fixture(ServerOptions opt = {}) {
    opt.host = "127.0.0.1";
    opt.port = 0;
    if (!opt.body_limit) opt.body_limit = [](std::string_view) -> size_t { return 1024; };
    server = std::make_unique<Server>(
        loops, opt, [this](ServerRequest& req, ResponseWriter& w) { return Handle(req, w); });
    EXPECT_TRUE(server->Listen().ok());
    loops.Start();
  }
  ~Fixture() {
    server->StopAccepting();
    loops.Stop();
    loops.Join();
  }

  std::string Base() const { return "http://127.0.0.1:" + std::to_string(server->port()); }

  awaitable<void> Handle(ServerRequest& req, ResponseWriter& w) {
    ++handled;
    Headers h;
    h.Add("content-type", "text/plain");
    if (req.path() == "/echo") {
      co_await w.Send(200, std::move(h), req.method + " " + req.body);
    } else if (req.path() == "/stream") {
      co_await w.StartStream(200, std::move(h));
      for (int i = 0; i < 5; ++i) co_await w.Write("chunk" + std::to_string(i) + ";");
      co_await w.Finish();
    } else if (req.path() == "/slow") {
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::seconds(10));
      auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) ++cancelled;
      co_await w.Send(200, std::move(h), "late");
    } else {
      co_await w.Send(404, std::move(h), "no");
    }
  }
};

// Runs a client coroutine to completion on a private loop.
template <class F>
auto RunClient(F f) {
  asio::io_context io;
  auto fut = asio::co_spawn(io, f(io.get_executor()), asio::use_future);
  io.run();
  return fut.get();
}

struct Reply {
  int status = 0;
  std::string body;
  std::vector<std::string> pieces;
};

awaitable<Reply> Call(HttpClient& client, std::string url, std::string body = "",
                      std::string method = "POST") {
  ClientRequest req;
  req.method = method;
  req.url = std::move(url);
  req.body = std::move(body);
  auto r = co_await client.Send(std::move(req));
  Reply out;
  if (!r.ok()) {
    out.status = -1;
    out.body = r.error().message;
    co_return out;
  }
  out.status = (*r)->status();
  while (true) {
    auto piece = co_await (*r)->ReadSome();
    if (!piece.ok() || piece->empty()) break;
    out.pieces.emplace_back(*piece);
    out.body += *piece;
  }
  co_return out;
}

// Raw bytes in, raw bytes out, for what a well-behaved client would never send.
std::string RawExchange(uint16_t port, const std::string& bytes) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::write(s, asio::buffer(bytes));
  std::string out;
  boost::system::error_code ec;
  char buf[4096];
  while (true) {
    size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec) break;
    out.append(buf, n);
  }
  return out;
}

TEST(ServerClientTest, KeepAliveReusesOneConnection) {
  Fixture fx;
  auto [replies, opened] =
      RunClient([&](asio::any_io_executor ex) -> awaitable<std::pair<std::vector<Reply>, size_t>> {
        HttpClient client(ex, {}, ProxyOptions{});
        std::vector<Reply> out;
        for (int i = 0; i < 3; ++i)
          out.push_back(co_await Call(client, fx.Base() + "/echo", "b" + std::to_string(i)));
        co_return std::make_pair(out, client.connections_opened());
      });
  ASSERT_EQ(replies.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(replies[i].status, 200);
    EXPECT_EQ(replies[i].body, "POST b" + std::to_string(i));
  }
  EXPECT_EQ(opened, 1u);
}

TEST(ServerClientTest, StreamArrivesInChunks) {
  Fixture fx;
  auto reply = RunClient([&](asio::any_io_executor ex) -> awaitable<Reply> {
    HttpClient client(ex, {}, ProxyOptions{});
    co_return co_await Call(client, fx.Base() + "/stream");
  });
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "chunk0;chunk1;chunk2;chunk3;chunk4;");
  EXPECT_GE(reply.pieces.size(), 1u);
}

TEST(ServerClientTest, BodyOverLimitGets413BeforeTheBodyIsRead) {
  Fixture fx;
  // Content-Length says 5000 but no body follows: the answer must not wait for it.
  auto out = RawExchange(fx.server->port(),
                         "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
  EXPECT_NE(out.find("413"), std::string::npos) << out;
  EXPECT_EQ(fx.handled.load(), 0);
}

TEST(ServerClientTest, ChunkedBodyOverLimitGets413) {
  Fixture fx;
  std::string chunk(2000, 'a');
  char size[16];
  snprintf(size, sizeof(size), "%zx", chunk.size());
  auto out = RawExchange(fx.server->port(),
                         "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                             std::string(size) + "\r\n" + chunk + "\r\n0\r\n\r\n");
  EXPECT_NE(out.find("413"), std::string::npos) << out;
}

TEST(ServerClientTest, HugeHeaderBlockGets431) {
  ServerOptions opt;
  opt.header_limit = 4096;
  Fixture fx(opt);
  auto out =
      RawExchange(fx.server->port(),
                  "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n");
  EXPECT_NE(out.find("431"), std::string::npos) << out;
}

TEST(ServerClientTest, SmugglingShapesGet400AndClose) {
  Fixture fx;
  const std::string cases[] = {
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: "
      "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
  };
  for (const auto& c : cases) {
    auto out = RawExchange(fx.server->port(), c);
    EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << c << "\n---\n" << out;
  }
  EXPECT_EQ(fx.handled.load(), 0);
  // And the server keeps serving.
  auto ok =
      RawExchange(fx.server->port(), "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u) << ok;
}

TEST(ServerClientTest, ClientDisconnectCancelsTheHandler) {
  Fixture fx;
  {
    asio::io_context io;
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), fx.server->port()));
    std::string req = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
    asio::write(s, asio::buffer(req));
    for (int i = 0; i < 200 && fx.handled.load() == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    s.close();
  }
  for (int i = 0; i < 200 && fx.cancelled.load() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(fx.cancelled.load(), 1);
}

TEST(ServerClientTest, StalePooledConnectionIsReplaced) {
  ServerOptions opt;
  opt.idle_timeout = std::chrono::milliseconds(50);  // the server drops idle connections fast
  Fixture fx(opt);
  auto [a, b, opened] =
      RunClient([&](asio::any_io_executor ex) -> awaitable<std::tuple<Reply, Reply, size_t>> {
        HttpClient client(ex, {}, ProxyOptions{});
        auto r1 = co_await Call(client, fx.Base() + "/echo", "1");
        asio::steady_timer t(ex, std::chrono::milliseconds(200));
        co_await t.async_wait(asio::use_awaitable);
        auto r2 = co_await Call(client, fx.Base() + "/echo", "2");
        co_return std::make_tuple(r1, r2, client.connections_opened());
      });
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(b.status, 200);
  EXPECT_EQ(b.body, "POST 2");
  EXPECT_EQ(opened, 2u);
}

TEST(ServerClientTest, ConnectionRefusedIsAnUpstreamError) {
  // Bind and close a socket to find a port nobody listens on.
  uint16_t port;
  {
    asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  auto reply = RunClient([&](asio::any_io_executor ex) -> awaitable<Reply> {
    HttpClient client(ex, {}, ProxyOptions{});
    co_return co_await Call(client, "http://127.0.0.1:" + std::to_string(port) + "/x");
  });
  EXPECT_EQ(reply.status, -1);
  EXPECT_NE(reply.body.find("connect"), std::string::npos) << reply.body;
}

TEST(UrlTest, ParsesAndJoins) {
  auto u = ParseUrl("https://user:pw@[::1]:8443/v1/x?y=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "8443");
  EXPECT_EQ(u->target, "/v1/x?y=1");
  EXPECT_EQ(u->userinfo, "user:pw");
  EXPECT_EQ(u->HostHeader(), "[::1]:8443");
  EXPECT_FALSE(ParseUrl("ftp://x/").ok());
  EXPECT_FALSE(ParseUrl("not a url").ok());
  EXPECT_EQ(JoinUrl("http://h/v1/", "/chat/completions"), "http://h/v1/chat/completions");
  EXPECT_EQ(JoinUrl("http://h/v1", "chat"), "http://h/v1/chat");
}

// Regression: Boost.URL read "1.2.3.4.5" as host 1.2.3.4 with path ".5/".
TEST(UrlTest, RefusesHostWithIpv4Prefix) {
  EXPECT_FALSE(ParseUrl("http://1.2.3.4.5/").ok());
  EXPECT_FALSE(ParseUrl("http://1.2.3.4.5:8080/x").ok());
  EXPECT_FALSE(ParseUrl("http://1.2.3.4x/").ok());
  auto u = ParseUrl("http://1.2.3.4?q=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "1.2.3.4");
  EXPECT_EQ(u->target, "/?q=1");
}

}  // namespace
}  // namespace modelmux::net

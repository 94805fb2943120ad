// The media fetcher against in-process servers on loopback: SSRF vectors refused with no
// connection, DNS rebinding, redirects, byte caps, deadlines, magic bytes, TLS with SNI.

#include "media/fetcher.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

namespace modelmux::media {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::ip::address;
using asio::ip::make_address;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

const std::string kPng = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(300, 'p');

bool IsPng(std::string_view first) {
  return first.substr(0, 8) == std::string_view(kPng).substr(0, 8);
}

std::string Response(std::string_view status, std::string_view headers, std::string_view body) {
  return "HTTP/1.1 " + std::string(status) + "\r\n" + std::string(headers) +
         "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         std::string(body);
}
std::string Redirect(std::string_view status, std::string_view location) {
  return Response(status, "Location: " + std::string(location) + "\r\n", "");
}

// What a test server does for one path.
struct Canned {
  std::string bytes;    // written at once after the request head
  std::string trickle;  // then one byte per trickle_every
  std::chrono::milliseconds trickle_every{0};
  bool hold = false;            // then keep the connection open, saying nothing
  bool endless_chunks = false;  // then 1 KiB chunks until the client goes away
};

// An HTTP (or HTTPS) server on 127.0.0.1, port 0, counting accepted connections. It runs on the
// test's io_context, so counters are read without races once the io_context stopped.
class TestServer {
 public:
  explicit TestServer(asio::io_context& io, ssl::context* tls = nullptr)
      : io_(io), tls_(tls), acceptor_(io, tcp::endpoint(make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io_, Accept(), asio::detached);
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string Url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
  }
  void Route(std::string path, Canned canned) { routes_[std::move(path)] = std::move(canned); }

  int accepted = 0;
  std::vector<std::string> requests;  // request heads, in order
  std::string last_sni;

 private:
  awaitable<void> Accept() {
    while (true) {
      auto [ec, sock] = co_await acceptor_.async_accept(kNoThrow);
      if (ec) co_return;
      ++accepted;
      if (tls_) {
        asio::co_spawn(io_, ServeTls(std::move(sock)), asio::detached);
      } else {
        asio::co_spawn(io_, ServePlain(std::move(sock)), asio::detached);
      }
    }
  }
  awaitable<void> ServePlain(tcp::socket sock) { co_await Serve(sock); }
  awaitable<void> ServeTls(tcp::socket sock) {
    ssl::stream<tcp::socket> s(std::move(sock), *tls_);
    auto [ec] = co_await s.async_handshake(ssl::stream_base::server, kNoThrow);
    if (ec) co_return;
    const char* sni = SSL_get_servername(s.native_handle(), TLSEXT_NAMETYPE_host_name);
    last_sni = sni ? sni : "";
    co_await Serve(s);
  }

  template <class Stream>
  awaitable<void> Serve(Stream& s) {
    asio::streambuf buf;
    auto [ec, n] = co_await asio::async_read_until(s, buf, "\r\n\r\n", kNoThrow);
    if (ec) co_return;
    std::string head(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
    requests.push_back(head);
    const size_t start = head.find(' ') + 1;
    std::string path = head.substr(start, head.find(' ', start) - start);
    path = path.substr(0, path.find('?'));
    auto it = routes_.find(path);
    const Canned canned = it != routes_.end()
                              ? it->second
                              : Canned{Response("404 Not Found", "", "no such thing"), {}, 0ms};
    std::tie(ec, n) = co_await asio::async_write(s, asio::buffer(canned.bytes), kNoThrow);
    if (ec) co_return;
    asio::steady_timer timer(io_);
    for (char c : canned.trickle) {
      timer.expires_after(canned.trickle_every);
      co_await timer.async_wait(kNoThrow);
      std::tie(ec, n) = co_await asio::async_write(s, asio::buffer(&c, 1), kNoThrow);
      if (ec) co_return;
    }
    if (canned.endless_chunks) {
      const std::string chunk = "400\r\n" + std::string(1024, 'c') + "\r\n";
      for (int i = 0; i < 64 * 1024 && !ec; ++i) {
        std::tie(ec, n) = co_await asio::async_write(s, asio::buffer(chunk), kNoThrow);
      }
      co_return;
    }
    if (canned.hold) {
      timer.expires_after(30s);
      co_await timer.async_wait(kNoThrow);
    }
  }

  asio::io_context& io_;
  ssl::context* tls_;
  tcp::acceptor acceptor_;
  std::map<std::string, Canned> routes_;
};

// A DNS stand-in: each name has a list of answers, one per call (the last one repeats).
struct FakeDns {
  std::map<std::string, std::vector<std::vector<address>>> answers;
  int calls = 0;
};

awaitable<Result<std::vector<address>>> Answer(std::shared_ptr<FakeDns> dns, std::string host) {
  const int call = dns->calls++;
  auto it = dns->answers.find(host);
  if (it == dns->answers.end() || it->second.empty()) {
    co_return InvalidRequest("no such host " + host, "", "media_fetch_failed");
  }
  const auto& list = it->second;
  co_return list[std::min<size_t>(static_cast<size_t>(call), list.size() - 1)];
}

ResolveFn Resolver(std::shared_ptr<FakeDns> dns) {
  return [dns](std::string host) { return Answer(dns, std::move(host)); };
}

std::vector<address> Addrs(std::initializer_list<const char*> list) {
  std::vector<address> out;
  for (const char* a : list) out.push_back(make_address(a));
  return out;
}

// Runs one fetch on the io_context (servers included), for at most `limit`.
Result<Fetched> FetchOn(asio::io_context& io, Fetcher& fetcher, std::string url,
                        FetchOptions options, std::chrono::milliseconds limit = 3000ms) {
  std::optional<Result<Fetched>> out;
  asio::co_spawn(io, fetcher.Fetch(std::move(url), std::move(options), "image_url"),
                 [&](std::exception_ptr e, Result<Fetched> r) {
                   if (e) std::rethrow_exception(e);
                   out = std::move(r);
                   io.stop();
                 });
  io.restart();
  io.run_for(limit);
  EXPECT_TRUE(out.has_value()) << "the fetch did not finish in time";
  return out ? std::move(*out) : Result<Fetched>(Internal("did not finish"));
}

std::string Code(const Result<Fetched>& r) {
  return r.ok() ? "ok" : r.error().code;
}

// Loopback admitted explicitly (it is refused by default), only on the test server's port (and
// port 80, so that redirect targets are refused for their address, not their port).
AddressPolicy LoopbackPolicy(uint16_t port) {
  auto p = AddressPolicy::WithAllowList({"127.0.0.1"});
  EXPECT_TRUE(p.ok());
  p->SetAllowedPorts({port, 80});
  return std::move(p).value();
}

FetchOptions Quick() {
  FetchOptions o;
  o.connect_timeout = 500ms;
  o.idle_timeout = 1500ms;
  o.total_timeout = 2500ms;
  return o;
}

TEST(Fetcher, FetchesImageWithContentType) {
  asio::io_context io;
  TestServer server(io);
  server.Route("/img.png", {Response("200 OK", "Content-Type: image/png\r\n", kPng)});
  Fetcher fetcher(io.get_executor(), LoopbackPolicy(server.port()));
  auto options = Quick();
  options.magic_check = IsPng;
  auto r = FetchOn(io, fetcher, server.Url("/img.png?v=1"), options);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, kPng);
  EXPECT_EQ(r->content_type, "image/png");
  EXPECT_EQ(r->final_url, server.Url("/img.png?v=1"));
  EXPECT_EQ(r->redirects, 0);
  EXPECT_EQ(r->peer, make_address("127.0.0.1"));
  EXPECT_EQ(server.accepted, 1);
  EXPECT_EQ(fetcher.connects(), 1u);
  ASSERT_EQ(server.requests.size(), 1u);
  const std::string& head = server.requests[0];
  EXPECT_EQ(head.rfind("GET /img.png?v=1 HTTP/1.1\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Accept-Encoding: identity\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("User-Agent: modelmux-fetch/1\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"),
            std::string::npos)
      << head;
}

TEST(Fetcher, ConnectsToTheCheckedAddressOfAnAllowListedName) {
  asio::io_context io;
  TestServer server(io);
  server.Route("/a.png", {Response("200 OK", "Content-Type: image/png\r\n", kPng)});
  auto dns = std::make_shared<FakeDns>();
  dns->answers["img.test"] = {Addrs({"127.0.0.1"})};
  auto policy = AddressPolicy::WithAllowList({"img.test"});
  ASSERT_TRUE(policy.ok());
  Fetcher fetcher(io.get_executor(), *policy, Resolver(dns));
  const std::string port = std::to_string(server.port());
  auto r = FetchOn(io, fetcher, "http://img.test:" + port + "/a.png", Quick());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, kPng);
  EXPECT_EQ(r->peer, make_address("127.0.0.1"));
  EXPECT_EQ(dns->calls, 1);
  ASSERT_EQ(server.requests.size(), 1u);
  EXPECT_NE(server.requests[0].find("Host: img.test:" + port + "\r\n"), std::string::npos);
}

TEST(Fetcher, SsrfVectorsAreRefusedWithoutAnyConnection) {
  asio::io_context io;
  TestServer server(io);
  server.Route("/", {Response("200 OK", "", kPng)});
  auto dns = std::make_shared<FakeDns>();
  dns->answers["localhost"] = {Addrs({"127.0.0.1"})};  // would connect if it were ever asked
  Fetcher fetcher(io.get_executor(), AddressPolicy::Default(), Resolver(dns));
  const std::string p = std::to_string(server.port());
  const std::vector<std::string> vectors = {
      "http://127.0.0.1:" + p + "/",
      "http://2130706433:" + p + "/",
      "http://0177.0.0.1:" + p + "/",
      "http://0x7f.1:" + p + "/",
      "http://127.1:" + p + "/",
      "http://[::1]:" + p + "/",
      "http://[::ffff:127.0.0.1]:" + p + "/",
      "http://[::ffff:7f00:1]:" + p + "/",
      "http://localhost:" + p + "/",
      "http://LocalHost.:" + p + "/",
      "http://127.0.0.1.5:" + p + "/",
      "http://169.254.169.254/latest/meta-data/",
      "http://0xa9fea9fe/latest/meta-data/",
      "http://10.0.0.1/",
      "http://100.64.0.1/",
      "http://[fd00::1]/",
      "http://[fe80::1]/",
      "http://0.0.0.0:" + p + "/",
      "https://user:pw@127.0.0.1:" + p + "/",
      "file:///etc/passwd",
      "gopher://127.0.0.1:" + p + "/_GET",
      "ftp://127.0.0.1:" + p + "/",
  };
  for (const auto& url : vectors) {
    auto r = FetchOn(io, fetcher, url, Quick());
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.error().code, "url_forbidden") << url << ": " << r.error().message;
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidRequest) << url;
    EXPECT_EQ(r.error().param, "image_url") << url;
  }
  EXPECT_EQ(server.accepted, 0);
  EXPECT_EQ(fetcher.connects(), 0u);
  EXPECT_EQ(dns->calls, 0);
  EXPECT_EQ(fetcher.refused(), vectors.size());
}

TEST(Fetcher, DnsRebindingCannotWorkBecauseTheNameIsResolvedOnce) {
  asio::io_context io;
  TestServer server(io);
  server.Route("/img.png", {Response("200 OK", "", kPng)});
  auto dns = std::make_shared<FakeDns>();
  // First answer: a "public" address (TEST-NET-1, admitted here to stand for one); then loopback.
  dns->answers["rebind.test"] = {Addrs({"192.0.2.1"}), Addrs({"127.0.0.1"})};
  auto policy = AddressPolicy::WithAllowList({"192.0.2.1"});
  ASSERT_TRUE(policy.ok());
  Fetcher fetcher(io.get_executor(), *policy, Resolver(dns));
  auto options = Quick();
  options.connect_timeout = 200ms;
  const auto start = Clock::now();
  auto r = FetchOn(io, fetcher, "http://rebind.test:" + std::to_string(server.port()) + "/img.png",
                   options);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().code == "media_fetch_timeout" || r.error().code == "media_fetch_failed")
      << r.error().code;
  EXPECT_LT(Clock::now() - start, 1500ms);
  EXPECT_EQ(dns->calls, 1);
  EXPECT_EQ(fetcher.connects(), 1u);
  EXPECT_EQ(server.accepted, 0);
}

TEST(Fetcher, NameResolvingToPublicAndPrivateIsRefused) {
  asio::io_context io;
  TestServer server(io);
  auto dns = std::make_shared<FakeDns>();
  dns->answers["mixed.test"] = {Addrs({"8.8.8.8", "127.0.0.1"})};
  dns->answers["mixed2.test"] = {Addrs({"127.0.0.1", "8.8.8.8"})};
  dns->answers["meta.test"] = {Addrs({"2001:4860:4860::8888", "::ffff:169.254.169.254"})};
  Fetcher fetcher(io.get_executor(), AddressPolicy::Default(), Resolver(dns));
  const std::string p = std::to_string(server.port());
  for (const char* host : {"mixed.test", "mixed2.test", "meta.test"}) {
    auto r = FetchOn(io, fetcher, std::string("http://") + host + ":" + p + "/", Quick());
    EXPECT_EQ(Code(r), "url_forbidden") << host;
  }
  EXPECT_EQ(dns->calls, 3);
  EXPECT_EQ(fetcher.connects(), 0u);
  EXPECT_EQ(server.accepted, 0);
}

TEST(Fetcher, RedirectToARefusedAddressIsRefused) {
  asio::io_context io;
  TestServer server(io);
  server.Route("/meta", {Redirect("302 Found", "http://169.254.169.254/latest/meta-data/")});
  server.Route("/private", {Redirect("307 Temporary Redirect", "http://10.0.0.1/")});
  server.Route("/decimal", {Redirect("301 Moved", "http://2852039166:80/")});
  server.Route("/scheme", {Redirect("302 Found", "file:///etc/passwd")});
  Fetcher fetcher(io.get_executor(), LoopbackPolicy(server.port()));
  for (const char* path : {"/meta", "/private", "/decimal", "/scheme"}) {
    auto r = FetchOn(io, fetcher, server.Url(path), Quick());
    EXPECT_EQ(Code(r), "url_forbidden") << path;
  }
  EXPECT_EQ(server.accepted, 4);  // the first hops only
  EXPECT_EQ(fetcher.connects(), 4u);
  EXPECT_EQ(fetcher.refused(), 4u);
}

TEST(Fetcher, RedirectsAreBounded) {
  asio::io_context io;
  TestServer server(io);
  server.Route("/hop1", {Redirect("302 Found", "/hop2")});
  server.Route("/hop2", {Redirect("303 See Other", "/hop3")});
  server.Route("/hop3", {Redirect("308 Permanent Redirect", "/img.png")});
  server.Route("/img.png", {Response("200 OK", "Content-Type: image/png\r\n", kPng)});
  Fetcher fetcher(io.get_executor(), LoopbackPolicy(server.port()));
  auto options = Quick();
  options.max_redirects = 3;
  auto r = FetchOn(io, fetcher, server.Url("/hop1"), options);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->redirects, 3);
  EXPECT_EQ(r->final_url, server.Url("/img.png"));
  EXPECT_EQ(server.accepted, 4);

  options.max_redirects = 2;
  r = FetchOn(io, fetcher, server.Url("/hop1"), options);
  EXPECT_EQ(Code(r), "media_fetch_failed");
  EXPECT_EQ(server.accepted, 4 + 3);  // stopped at the third redirect answer
}

TEST(Fetcher, RelativeRedirectIsFollowed) {
  asio::io_context io;
  TestServer server(io);
  server.Route("/dir/old", {Redirect("301 Moved Permanently", "new.png#frag")});
  server.Route("/dir/new.png", {Response("200 OK", "Content-Type: image/png\r\n", kPng)});
  Fetcher fetcher(io.get_executor(), LoopbackPolicy(server.port()));
  auto r = FetchOn(io, fetcher, server.Url("/dir/old"), Quick());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->final_url, server.Url("/dir/new.png"));
  EXPECT_EQ(r->redirects, 1);
  EXPECT_EQ(r->body, kPng);
}

TEST(Fetcher, ContentLengthOverTheCapIsRefusedBeforeTheBody) {
  asio::io_context io;
  TestServer server(io);
  Canned big{"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n" + kPng};
  big.hold = true;
  server.Route("/big", big);
  Fetcher fetcher(io.get_executor(), LoopbackPolicy(server.port()));
  auto options = Quick();
  options.max_bytes = 1000;
  const auto start = Clock::now();
  auto r = FetchOn(io, fetcher, server.Url("/big"), options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "media_too_large");
  EXPECT_EQ(r.error().kind, ErrorKind::kPayloadTooLarge);
  EXPECT_LT(Clock::now() - start, 1000ms);  // did not wait for a body (idle is 1.5 s)
}

TEST(Fetcher, ChunkedBodyIsCountedAsItArrives) {
  asio::io_context io;
  TestServer server(io);
  Canned endless{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"};
  endless.endless_chunks = true;
  server.Route("/endless", endless);
  server.Route("/small", {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"});
  Fetcher fetcher(io.get_executor(), LoopbackPolicy(server.port()));
  auto options = Quick();
  options.max_bytes = 64 * 1024;
  auto r = FetchOn(io, fetcher, server.Url("/endless"), options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "media_too_large");

  options.max_bytes = 7;
  r = FetchOn(io, fetcher, server.Url("/small"), options);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, "abcdefg");
  options.max_bytes = 6;
  r = FetchOn(io, fetcher, server.Url("/small"), options);
  EXPECT_EQ(Code(r), "media_too_large");
}

TEST(Fetcher, TricklingServerIsCutByTheTotalTimeout) {
  asio::io_context io;
  TestServer server(io);
  Canned slow{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"};
  slow.trickle = std::string(100, 'x');
  slow.trickle_every = 100ms;
  server.Route("/slow", slow);
  Fetcher fetcher(io.get_executor(), LoopbackPolicy(server.port()));
  FetchOptions options;
  options.total_timeout = 500ms;  // idle (5 s) never fires: a byte arrives every 100 ms
  const auto start = Clock::now();
  auto r = FetchOn(io, fetcher, server.Url("/slow"), options);
  const auto elapsed = Clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "media_fetch_timeout");
  EXPECT_EQ(r.error().kind, ErrorKind::kTimeout);
  EXPECT_GE(elapsed, 450ms);
  EXPECT_LT(elapsed, 1500ms);
}

TEST(Fetcher, SilentServerIsCutByTheIdleTimeout) {
  asio::io_context io;
  TestServer server(io);
  Canned silent;
  silent.hold = true;
  server.Route("/silent", silent);
  Fetcher fetcher(io.get_executor(), LoopbackPolicy(server.port()));
  auto options = Quick();
  options.idle_timeout = 300ms;
  options.total_timeout = 2000ms;
  const auto start = Clock::now();
  auto r = FetchOn(io, fetcher, server.Url("/silent"), options);
  const auto elapsed = Clock::now() - start;
  EXPECT_EQ(Code(r), "media_fetch_timeout");
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 1500ms);
  EXPECT_EQ(server.accepted, 1);
}

TEST(Fetcher, MagicBytesMismatchIsRefused) {
  asio::io_context io;
  TestServer server(io);
  server.Route("/fake.png", {Response("200 OK", "Content-Type: image/png\r\n",
                                      "<html>" + std::string(1000, ' ') + "</html>")});
  server.Route("/tiny", {Response("200 OK", "", "\x89PN")});
  Fetcher fetcher(io.get_executor(), LoopbackPolicy(server.port()));
  auto options = Quick();
  options.magic_check = IsPng;
  EXPECT_EQ(Code(FetchOn(io, fetcher, server.Url("/fake.png"), options)), "media_type_mismatch");
  EXPECT_EQ(Code(FetchOn(io, fetcher, server.Url("/tiny"), options)), "media_type_mismatch");
}

TEST(Fetcher, ErrorStatusNamesStatusAndHostButNoSecrets) {
  asio::io_context io;
  TestServer server(io);
  Fetcher fetcher(io.get_executor(), LoopbackPolicy(server.port()));
  auto r = FetchOn(io, fetcher, server.Url("/missing?token=SECRET"), Quick());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "media_fetch_failed");
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidRequest);
  EXPECT_EQ(r.error().upstream_status, 404);
  EXPECT_EQ(r.error().param, "image_url");
  EXPECT_NE(r.error().message.find("404"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("127.0.0.1"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("SECRET"), std::string::npos) << r.error().message;
}

TEST(Fetcher, CompressedAnswerIsRefused) {
  asio::io_context io;
  TestServer server(io);
  server.Route("/gz", {Response("200 OK", "Content-Encoding: gzip\r\n", "\x1f\x8b\x08")});
  Fetcher fetcher(io.get_executor(), LoopbackPolicy(server.port()));
  server.Route("/gz2", {Response("200 OK", "Content-Encoding: identity\r\nContent-Encoding: br\r\n",
                                 "xyz")});
  EXPECT_EQ(Code(FetchOn(io, fetcher, server.Url("/gz"), Quick())), "media_fetch_failed");
  EXPECT_EQ(Code(FetchOn(io, fetcher, server.Url("/gz2"), Quick())), "media_fetch_failed");
  server.Route("/id", {Response("200 OK", "Content-Encoding: identity\r\n", "xyz")});
  EXPECT_EQ(Code(FetchOn(io, fetcher, server.Url("/id"), Quick())), "ok");
}

// A self-signed certificate for DNS name img.test, made with the openssl CLI.
struct CertFiles {
  std::filesystem::path dir;
  std::string cert, key;
  bool ok = false;
  CertFiles() {
    dir = std::filesystem::temp_directory_path() /
          ("mm-fetch-" + std::to_string(::getpid()) + "-" + std::to_string(rand()));
    std::filesystem::create_directories(dir);
    cert = (dir / "cert.pem").string();
    key = (dir / "key.pem").string();
    const std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=img.test "
        "-addext subjectAltName=DNS:img.test -keyout " +
        key + " -out " + cert + " >/dev/null 2>&1";
    ok = std::system(cmd.c_str()) == 0;
  }
  ~CertFiles() { std::filesystem::remove_all(dir); }
};

TEST(Fetcher, HttpsVerifiesTheNameWhileConnectedToTheCheckedAddress) {
  CertFiles files;
  ASSERT_TRUE(files.ok) << "the openssl CLI is needed to make a test certificate";
  ssl::context server_tls(ssl::context::tls_server);
  server_tls.use_certificate_chain_file(files.cert);
  server_tls.use_private_key_file(files.key, ssl::context::pem);
  asio::io_context io;
  TestServer tls_server(io, &server_tls);
  TestServer plain(io);
  plain.Route("/img.png", {Response("200 OK", "", kPng)});
  const std::string tp = std::to_string(tls_server.port());
  const std::string pp = std::to_string(plain.port());
  tls_server.Route("/img.png", {Response("200 OK", "Content-Type: image/png\r\n", kPng)});
  tls_server.Route("/down", {Redirect("302 Found", "http://img.test:" + pp + "/img.png")});
  auto dns = std::make_shared<FakeDns>();
  dns->answers["img.test"] = {Addrs({"127.0.0.1"})};
  dns->answers["other.test"] = {Addrs({"127.0.0.1"})};
  auto policy = AddressPolicy::WithAllowList({"img.test", "other.test"});
  ASSERT_TRUE(policy.ok());
  Fetcher fetcher(io.get_executor(), *policy, Resolver(dns));
  auto options = Quick();
  options.tls.ca_file = files.cert;

  auto r = FetchOn(io, fetcher, "https://img.test:" + tp + "/img.png", options);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, kPng);
  EXPECT_EQ(r->peer, make_address("127.0.0.1"));
  EXPECT_EQ(tls_server.last_sni, "img.test");

  // Same address, a name the certificate does not cover: verification fails.
  r = FetchOn(io, fetcher, "https://other.test:" + tp + "/img.png", options);
  EXPECT_EQ(Code(r), "media_fetch_failed");

  // https -> http is a downgrade.
  r = FetchOn(io, fetcher, "https://img.test:" + tp + "/down", options);
  EXPECT_EQ(Code(r), "url_forbidden");
  EXPECT_EQ(plain.accepted, 0);
}

}  // namespace
}  // namespace modelmux::media

// The client's TLS (verification against a configured CA bundle, SNI, host-name checks) and its
// CONNECT proxy support, against a real TLS server and a real tunnelling proxy on loopback.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "net/http_client.hpp"

namespace modelmux::net {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::awaitable;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// A self-signed certificate for DNS name "localhost" only (no IP address in its SAN).
struct CertFiles {
  std::filesystem::path dir;
  std::string cert, key;
  CertFiles() {
    dir = std::filesystem::temp_directory_path() /
          ("mm-tls-" + std::to_string(::getpid()) + "-" + std::to_string(rand()));
    std::filesystem::create_directories(dir);
    cert = (dir / "cert.pem").string();
    key = (dir / "key.pem").string();
    std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
        "-addext subjectAltName=DNS:localhost -keyout " +
        key + " -out " + cert + " >/dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << "openssl CLI is needed to make a test certificate";
  }
  ~CertFiles() { std::filesystem::remove_all(dir); }
};

// TLS server answering every request with a fixed HTTP/1.1 response naming the SNI it saw.
struct TlsServer {
  asio::io_context io;
  ssl::context ctx{ssl::context::tls_server};
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::thread thread;

  explicit TlsServer(const CertFiles& files) {
    ctx.use_certificate_chain_file(files.cert);
    ctx.use_private_key_file(files.key, ssl::context::pem);
    asio::co_spawn(io, Accept(), asio::detached);
    thread = std::thread([this] { io.run(); });
  }
  ~TlsServer() {
    io.stop();
    thread.join();
  }
  uint16_t port() const { return acceptor.local_endpoint().port(); }

  awaitable<void> Accept() {
    while (true) {
      auto [ec, sock] = co_await acceptor.async_accept(kNoThrow);
      if (ec) co_return;
      asio::co_spawn(io, Serve(std::move(sock)), asio::detached);
    }
  }
  awaitable<void> Serve(tcp::socket sock) {
    ssl::stream<tcp::socket> s(std::move(sock), ctx);
    auto [ec] = co_await s.async_handshake(ssl::stream_base::server, kNoThrow);
    if (ec) co_return;
    asio::streambuf buf;
    std::tie(ec, std::ignore) = co_await asio::async_read_until(s, buf, "\r\n\r\n", kNoThrow);
    if (ec) co_return;
    const char* sni = SSL_get_servername(s.native_handle(), TLSEXT_NAMETYPE_host_name);
    std::string body = std::string("sni=") + (sni ? sni : "");
    std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\nConnection: close\r\n\r\n" + body;
    co_await asio::async_write(s, asio::buffer(resp), kNoThrow);
    co_await s.async_shutdown(kNoThrow);
  }
};

// An HTTP CONNECT proxy that tunnels to the requested target and counts tunnels.
struct ConnectProxy {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::atomic<int> tunnels{0};
  std::string last_target;
  std::thread thread;

  ConnectProxy() {
    asio::co_spawn(io, Accept(), asio::detached);
    thread = std::thread([this] { io.run(); });
  }
  ~ConnectProxy() {
    io.stop();
    thread.join();
  }
  uint16_t port() const { return acceptor.local_endpoint().port(); }

  awaitable<void> Accept() {
    while (true) {
      auto [ec, sock] = co_await acceptor.async_accept(kNoThrow);
      if (ec) co_return;
      asio::co_spawn(io, Tunnel(std::move(sock)), asio::detached);
    }
  }
  static awaitable<void> Pipe(tcp::socket& from, tcp::socket& to) {
    char buf[8192];
    while (true) {
      auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), kNoThrow);
      if (ec) break;
      std::tie(ec, std::ignore) = co_await asio::async_write(to, asio::buffer(buf, n), kNoThrow);
      if (ec) break;
    }
    boost::system::error_code ignored;
    to.shutdown(tcp::socket::shutdown_send, ignored);
  }
  awaitable<void> Tunnel(tcp::socket client) {
    asio::streambuf buf;
    auto [ec, n] = co_await asio::async_read_until(client, buf, "\r\n\r\n", kNoThrow);
    if (ec) co_return;
    std::string head(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
    buf.consume(n);
    if (head.rfind("CONNECT ", 0) != 0) co_return;
    std::string target = head.substr(8, head.find(' ', 8) - 8);
    last_target = target;
    auto colon = target.rfind(':');
    tcp::resolver resolver(io);
    auto [rec, eps] = co_await resolver.async_resolve(target.substr(0, colon),
                                                      target.substr(colon + 1), kNoThrow);
    if (rec) co_return;
    tcp::socket upstream(io);
    std::tie(ec, std::ignore) = co_await asio::async_connect(upstream, eps, kNoThrow);
    if (ec) co_return;
    ++tunnels;
    std::string ok = "HTTP/1.1 200 Connection established\r\n\r\n";
    co_await asio::async_write(client, asio::buffer(ok), kNoThrow);
    asio::co_spawn(io, Pipe(client, upstream), asio::detached);
    co_await Pipe(upstream, client);
  }
};

// A coroutine with its parameters by value (not a capturing lambda, whose closure would die
// before the coroutine does).
awaitable<Result<std::string>> GetOn(asio::any_io_executor ex, std::string url, TlsOptions tls,
                                     ProxyOptions proxy) {
  HttpClient client(ex, tls, proxy);
  ClientRequest req;
  req.method = "GET";
  req.url = url;
  ClientOptions opt;
  opt.total_timeout = std::chrono::seconds(10);
  auto r = co_await client.Send(std::move(req), opt);
  if (!r.ok()) co_return r.error();
  co_return co_await (*r)->ReadAll();
}

Result<std::string> Get(const std::string& url, TlsOptions tls, ProxyOptions proxy) {
  asio::io_context io;
  auto fut = asio::co_spawn(io, GetOn(io.get_executor(), url, tls, proxy), asio::use_future);
  io.run();
  return fut.get();
}

TEST(TlsClientTest, VerifiesAgainstAConfiguredBundleAndSendsSni) {
  CertFiles files;
  TlsServer server(files);
  TlsOptions tls;
  tls.ca_file = files.cert;
  auto r = Get("https://localhost:" + std::to_string(server.port()) + "/", tls, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "sni=localhost");
}

TEST(TlsClientTest, RefusesAnUntrustedCertificate) {
  CertFiles files;
  TlsServer server(files);
  auto r = Get("https://localhost:" + std::to_string(server.port()) + "/", TlsOptions{}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("TLS handshake"), std::string::npos) << r.error().message;
}

TEST(TlsClientTest, RefusesACertificateForAnotherName) {
  CertFiles files;
  TlsServer server(files);
  TlsOptions tls;
  tls.ca_file = files.cert;
  // The certificate names "localhost" only; 127.0.0.1 must not pass the host-name check.
  auto r = Get("https://127.0.0.1:" + std::to_string(server.port()) + "/", tls, {});
  EXPECT_FALSE(r.ok());
}

TEST(ProxyTest, HttpsGoesThroughConnectAndNoProxyBypassesIt) {
  CertFiles files;
  TlsServer server(files);
  ConnectProxy proxy;
  TlsOptions tls;
  tls.ca_file = files.cert;
  ProxyOptions p;
  p.https_proxy = "http://127.0.0.1:" + std::to_string(proxy.port());
  const std::string url = "https://localhost:" + std::to_string(server.port()) + "/";
  auto r = Get(url, tls, p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "sni=localhost");
  EXPECT_EQ(proxy.tunnels.load(), 1);
  EXPECT_EQ(proxy.last_target, "localhost:" + std::to_string(server.port()));

  p.no_proxy = "example.com, .localhost,localhost";
  auto direct = Get(url, tls, p);
  ASSERT_TRUE(direct.ok()) << direct.error().message;
  EXPECT_EQ(proxy.tunnels.load(), 1);  // not through the proxy this time
}

TEST(ProxyTest, ProxyRefusalIsAClearError) {
  // A "proxy" that is a TLS server answers garbage to CONNECT: the error must say so.
  CertFiles files;
  TlsServer not_a_proxy(files);
  ProxyOptions p;
  p.https_proxy = "http://127.0.0.1:" + std::to_string(not_a_proxy.port());
  auto r = Get("https://localhost:1/", TlsOptions{}, p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("CONNECT"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace modelmux::net

// TLS termination: the policy of net/server_tls.hpp checked from the client's side (protocol
// versions, ciphers, server preference, ALPN) and bad handshakes that must cost nothing more than
// their own connection.

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <thread>

#include <boost/asio/ssl/context.hpp>

#include "net/event_loops.hpp"
#include "net/server.hpp"
#include "net/server_test_client.hpp"
#include "net/server_tls.hpp"

namespace modelmux::net {
namespace {

namespace asio = boost::asio;
using testing::ClientTls;
using testing::RawConn;
using testing::TestCert;
using Ms = std::chrono::milliseconds;

struct TlsServer {
  EventLoops loops{1};
  std::unique_ptr<Server> server;

  explicit TlsServer(ServerOptions opt = {}) {
    std::signal(SIGPIPE, SIG_IGN);
    opt.host = "127.0.0.1";
    opt.port = 0;
    opt.tls_cert_file = TestCert::Get().cert;
    opt.tls_key_file = TestCert::Get().key;
    server = std::make_unique<Server>(
        loops, opt, [](ServerRequest& req, ResponseWriter& w) { return Handle(req, w); });
    auto st = server->Listen();
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
    loops.Start();
  }
  ~TlsServer() {
    server->StopAccepting();
    loops.Stop();
    loops.Join();
  }
  static asio::awaitable<void> Handle(ServerRequest&, ResponseWriter& w) {
    Headers h;
    h.Add("content-type", "text/plain");
    co_await w.Send(200, std::move(h), "hello over tls");
  }
  // One GET on a connection made with `tls`; the reply, or "" if the handshake failed.
  std::string Get(const ClientTls& tls, std::string* cipher = nullptr,
                  std::string* version = nullptr, std::string* alpn = nullptr) {
    RawConn c(server->port(), &tls);
    if (!c.ok()) return "";
    if (cipher) *cipher = SSL_get_cipher_name(c.ssl());
    if (version) *version = SSL_get_version(c.ssl());
    if (alpn) {
      const unsigned char* p = nullptr;
      unsigned len = 0;
      SSL_get0_alpn_selected(c.ssl(), &p, &len);
      alpn->assign(
          reinterpret_cast<const char*>(p ? p : reinterpret_cast<const unsigned char*>("")), len);
    }
    c.Send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    return c.ReadUntilClose(Ms(3000));
  }
};

class ServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(TestCert::Get().cert.empty()) << "openssl CLI is needed"; }
};

TEST_F(ServerTlsTest, Tls13ByDefaultWithAlpnHttp11) {
  TlsServer s;
  std::string cipher, version, alpn;
  ClientTls tls;
  tls.alpn = "h2,http/1.1";
  auto out = s.Get(tls, &cipher, &version, &alpn);
  EXPECT_NE(out.find("hello over tls"), std::string::npos);
  EXPECT_EQ(version, "TLSv1.3");
  EXPECT_EQ(alpn, "http/1.1");  // never h2: the server does not speak it
  EXPECT_EQ(s.server->tls_handshake_failures(), 0u);
}

TEST_F(ServerTlsTest, AlpnWithoutHttp11GetsNoProtocol) {
  TlsServer s;
  std::string alpn = "unset";
  ClientTls tls;
  tls.alpn = "h2";
  s.Get(tls, nullptr, nullptr, &alpn);
  EXPECT_EQ(alpn, "");
}

TEST_F(ServerTlsTest, Tls12WithAeadAndServerPreference) {
  TlsServer s;
  ClientTls tls;
  tls.max_version = TLS1_2_VERSION;
  // The client prefers CHACHA20 then AES-256; the server's order puts AES-128-GCM first.
  tls.ciphers =
      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256";
  std::string cipher, version;
  auto out = s.Get(tls, &cipher, &version);
  EXPECT_NE(out.find("hello over tls"), std::string::npos);
  EXPECT_EQ(version, "TLSv1.2");
  EXPECT_EQ(cipher, "ECDHE-ECDSA-AES128-GCM-SHA256");
}

TEST_F(ServerTlsTest, OldProtocolsAndWeakCiphersAreRefused) {
  TlsServer s;
  ClientTls old;
  old.security_level = 0;
  old.min_version = TLS1_VERSION;
  old.max_version = TLS1_1_VERSION;
  EXPECT_EQ(s.Get(old), "") << "TLS 1.1 accepted";

  for (const char* weak : {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384",
                           "AES128-GCM-SHA256", "AES128-SHA", "ECDHE-RSA-AES128-SHA"}) {
    ClientTls tls;
    tls.security_level = 0;
    tls.max_version = TLS1_2_VERSION;
    tls.ciphers = weak;
    EXPECT_EQ(s.Get(tls), "") << weak << " accepted";
  }
  for (int i = 0; i < 100 && s.server->tls_handshake_failures() < 6; ++i)
    std::this_thread::sleep_for(Ms(10));
  EXPECT_EQ(s.server->tls_handshake_failures(), 6u);
}

TEST_F(ServerTlsTest, GarbageAndSilenceAreCountedAndCostNothingElse) {
  ServerOptions opt;
  opt.handshake_timeout = Ms(300);
  TlsServer s(opt);
  // Plain HTTP to the TLS port.
  RawConn plain(s.server->port(), nullptr);
  ASSERT_TRUE(plain.ok());
  plain.Send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  plain.ReadUntilClose(Ms(3000));
  EXPECT_TRUE(plain.closed());
  // Random bytes that look like nothing.
  RawConn noise(s.server->port(), nullptr);
  noise.Send(std::string("\x16\x03\x01\x00\x05garbagegarbage", 19));
  noise.ReadUntilClose(Ms(3000));
  EXPECT_TRUE(noise.closed());
  // A client that connects and says nothing is dropped at the handshake timeout, while a
  // good client is served meanwhile (the loop is not blocked by it).
  const auto start = std::chrono::steady_clock::now();
  RawConn silent(s.server->port(), nullptr);
  ClientTls good;
  EXPECT_NE(s.Get(good).find("hello over tls"), std::string::npos);
  silent.ReadUntilClose(Ms(3000));
  EXPECT_TRUE(silent.closed());
  EXPECT_LT(std::chrono::steady_clock::now() - start, Ms(2000));
  // The server counts a connection as gone after its coroutine ends, which can be a moment after
  // the client has seen the close.
  for (int i = 0;
       i < 300 && (s.server->tls_handshake_failures() < 3 || s.server->connections() > 0); ++i)
    std::this_thread::sleep_for(Ms(10));
  EXPECT_EQ(s.server->tls_handshake_failures(), 3u);
  EXPECT_EQ(s.server->connections(), 0u);
}

TEST(ServerTlsContextTest, PolicyBitsAreSet) {
  ASSERT_FALSE(TestCert::Get().cert.empty());
  auto ctx = MakeServerTlsContext(TestCert::Get().cert, TestCert::Get().key);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  SSL_CTX* native = (*ctx)->native_handle();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(native), TLS1_2_VERSION);
  const uint64_t opts = SSL_CTX_get_options(native);
  EXPECT_TRUE(opts & SSL_OP_NO_COMPRESSION);
  EXPECT_TRUE(opts & SSL_OP_NO_RENEGOTIATION);
  EXPECT_TRUE(opts & SSL_OP_CIPHER_SERVER_PREFERENCE);
  EXPECT_TRUE(opts & SSL_OP_NO_TICKET);
}

TEST(ServerTlsContextTest, BadFilesAreClearErrorsWithoutKeyMaterial) {
  const auto& tc = TestCert::Get();
  ASSERT_FALSE(tc.cert.empty());
  auto missing = MakeServerTlsContext(tc.dir + "/nope.pem", tc.key);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("nope.pem"), std::string::npos);

  auto only_cert = MakeServerTlsContext(tc.cert, "");
  ASSERT_FALSE(only_cert.ok());

  // A key that is not the certificate's.
  const std::string other = tc.dir + "/other-key.pem";
  ASSERT_EQ(std::system(("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " +
                         other + " >/dev/null 2>&1")
                            .c_str()),
            0);
  auto mismatch = MakeServerTlsContext(tc.cert, other);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("other-key.pem"), std::string::npos)
      << mismatch.error().message;
  std::ifstream in(other);
  std::string pem((std::istreambuf_iterator<char>(in)), {});
  const auto body_start = pem.find('\n') + 1;
  EXPECT_EQ(mismatch.error().message.find(pem.substr(body_start, 20)), std::string::npos);

  // Through the server: Listen() fails, nothing is bound.
  EventLoops loops(1);
  ServerOptions opt;
  opt.port = 0;
  opt.tls_cert_file = tc.cert;
  opt.tls_key_file = other;
  Server server(loops, opt,
                [](ServerRequest&, ResponseWriter&) -> asio::awaitable<void> { co_return; });
  EXPECT_FALSE(server.Listen().ok());
}

}  // namespace
}  // namespace modelmux::net

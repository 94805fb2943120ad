#pragma once
// Test-only: a raw client for the server tests that sends exactly the bytes it is given, over
// plain TCP or TLS (OpenSSL directly, non-blocking after the handshake), and reads with a
// deadline. Also a throwaway self-signed certificate for 127.0.0.1.

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace modelmux::net::testing {

// A P-256 certificate for IP 127.0.0.1 and "localhost", made once per test binary.
struct TestCert {
  std::string dir, cert, key;
  static const TestCert& Get() {
    static const TestCert c = [] {
      TestCert t;
      t.dir =
          (std::filesystem::temp_directory_path() / ("mm-server-tls-" + std::to_string(::getpid())))
              .string();
      std::filesystem::create_directories(t.dir);
      t.cert = t.dir + "/cert.pem";
      t.key = t.dir + "/key.pem";
      const std::string cmd =
          "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
          "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
          t.key + " -out " + t.cert + " >/dev/null 2>&1";
      if (std::system(cmd.c_str()) != 0) t.cert.clear();
      return t;
    }();
    return c;
  }
};

// Client settings for one TLS connection (unset fields: OpenSSL's defaults).
struct ClientTls {
  int max_version = 0;            // e.g. TLS1_2_VERSION
  int min_version = 0;            // e.g. TLS1_VERSION
  std::string ciphers;            // TLS 1.2 list
  std::string alpn = "http/1.1";  // comma-separated; empty = no ALPN extension
  int security_level = -1;
};

class RawConn {
 public:
  using Ms = std::chrono::milliseconds;

  RawConn(uint16_t port, const ClientTls* tls) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (tls) {
      ctx_ = SSL_CTX_new(TLS_client_method());
      if (tls->security_level >= 0) SSL_CTX_set_security_level(ctx_, tls->security_level);
      if (tls->min_version) SSL_CTX_set_min_proto_version(ctx_, tls->min_version);
      if (tls->max_version) SSL_CTX_set_max_proto_version(ctx_, tls->max_version);
      if (!tls->ciphers.empty()) SSL_CTX_set_cipher_list(ctx_, tls->ciphers.c_str());
      if (!tls->alpn.empty()) {
        std::string wire;
        std::string_view rest = tls->alpn;
        while (!rest.empty()) {
          auto comma = rest.find(',');
          auto p = rest.substr(0, comma);
          wire += static_cast<char>(p.size());
          wire += p;
          rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        }
        SSL_CTX_set_alpn_protos(ctx_, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned>(wire.size()));
      }
      ssl_ = SSL_new(ctx_);
      SSL_set_fd(ssl_, fd_);
      timeval tv{5, 0};  // a handshake that hangs fails the test instead of the run
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      if (SSL_connect(ssl_) != 1) {
        ERR_clear_error();
        return;
      }
    }
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    ok_ = true;
  }
  ~RawConn() {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] bool closed() const { return closed_; }
  SSL* ssl() { return ssl_; }
  int fd() const { return fd_; }

  // Sends all of `bytes` (false if the peer is gone).
  bool Send(std::string_view bytes, Ms timeout = Ms(5000)) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!bytes.empty()) {
      int n;
      if (ssl_) {
        n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
        if (n <= 0) {
          int err = SSL_get_error(ssl_, n);
          ERR_clear_error();
          if (err != SSL_ERROR_WANT_WRITE && err != SSL_ERROR_WANT_READ) return false;
          n = 0;
        }
      } else {
        n = static_cast<int>(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL));
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
        if (n < 0) n = 0;
      }
      bytes.remove_prefix(static_cast<size_t>(n));
      if (!bytes.empty()) {
        if (std::chrono::steady_clock::now() >= until) return false;
        pollfd p{fd_, POLLOUT, 0};
        ::poll(&p, 1, 20);
      }
    }
    return true;
  }

  // Reads until the peer closes or `timeout` passes; `closed()` tells which.
  std::string ReadUntilClose(Ms timeout) { return Read(timeout, {}); }
  // Reads until `marker` has arrived, the peer closes or `timeout` passes.
  std::string ReadUntil(std::string_view marker, Ms timeout) { return Read(timeout, marker); }

  // Closes the TCP connection at once (a client that goes away).
  void Close() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  }

 private:
  std::string Read(Ms timeout, std::string_view marker) {
    std::string out;
    const auto until = std::chrono::steady_clock::now() + timeout;
    char buf[16384];
    while (!closed_) {
      if (!marker.empty() && out.find(marker) != std::string::npos) break;
      bool progressed = false;
      if (ssl_) {
        int n = SSL_read(ssl_, buf, sizeof(buf));
        if (n > 0) {
          out.append(buf, static_cast<size_t>(n));
          progressed = true;
        } else {
          int err = SSL_get_error(ssl_, n);
          ERR_clear_error();
          if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) closed_ = true;
        }
      } else {
        ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
        if (n > 0) {
          out.append(buf, static_cast<size_t>(n));
          progressed = true;
        } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
          closed_ = true;
        }
      }
      if (closed_ || progressed) continue;
      const auto left = std::chrono::duration_cast<Ms>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 50)));
    }
    return out;
  }

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool ok_ = false;
  bool closed_ = false;
};

}  // namespace modelmux::net::testing

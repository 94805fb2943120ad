#pragma once
// HTTP/1.1 server on Asio/Beast with the limits of DESIGN.md: a header-read timeout, a header block
// limit (431), a per-path body limit checked against Content-Length before the body is read (413),
// request-smuggling guards (400 and close), keep-alive with an idle timeout, a per-IP connection
// cap, and a graceful drain. With a certificate and key it terminates TLS (1.2 and 1.3, AEAD
// ciphers only, see net/server_tls.hpp) and applies the same limits to the decrypted stream. The
// handler is a coroutine from request to response that never sees Beast: it answers through a
// ResponseWriter, whole or streamed (chunked).
//
// Client disconnect: while the handler runs, the connection is watched; if the peer closes, the
// handler's coroutine is cancelled (its pending operation completes with operation_aborted), so
// upstream calls it awaits are cancelled too.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "net/headers.hpp"

namespace modelmux::net {

class EventLoops;

struct ServerRequest {
  std::string method;
  std::string target;  // origin-form: path and query
  Headers headers;
  std::string body;
  boost::asio::ip::address peer;
  unsigned version = 11;                           // 10 or 11
  std::chrono::steady_clock::time_point received;  // when the header block was complete

  [[nodiscard]] std::string_view path() const;   // target up to '?'
  [[nodiscard]] std::string_view query() const;  // after '?', or ""
};

class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  // Sends a complete response. Content-Length is set from body.
  virtual boost::asio::awaitable<Status> Send(int status, Headers headers, std::string body) = 0;
  // Starts a streamed (chunked) response; write with Write(), end with Finish().
  virtual boost::asio::awaitable<Status> StartStream(int status, Headers headers) = 0;
  // Writes one chunk and flushes it to the socket. An error means the client is gone.
  virtual boost::asio::awaitable<Status> Write(std::string_view data) = 0;
  // Writes the terminating chunk.
  virtual boost::asio::awaitable<Status> Finish() = 0;
  // True once a status line has been written: after that, errors can only end the stream.
  [[nodiscard]] virtual bool started() const = 0;
  // Closes the connection at once without a proper end (no response if none started; a cut
  // stream otherwise). For the simulator's fault controls and for fatal stream errors.
  virtual void Abort() = 0;
};

using Handler = std::function<boost::asio::awaitable<void>(ServerRequest&, ResponseWriter&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  size_t header_limit = 64 * 1024;
  size_t max_header_fields = 100;  // more fields than this: 431
  // Body limit for a request path (called after the head is read). Default: 1 MiB.
  std::function<size_t(std::string_view path)> body_limit;
  std::chrono::milliseconds header_timeout{30'000};  // for the whole head of a request
  std::chrono::milliseconds body_timeout{120'000};   // for the whole body of a request
  std::chrono::milliseconds idle_timeout{75'000};    // keep-alive between requests
  std::chrono::milliseconds write_timeout{60'000};   // one write to a slow reader
  size_t max_connections_per_ip = 4096;
  size_t max_connections = 100'000;
  std::string server_name = "modelmux";
  // TLS termination: PEM certificate chain and private key files; both or neither.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::chrono::milliseconds handshake_timeout{10'000};  // TCP accept to TLS handshake done
};

class Server {
 public:
  Server(EventLoops& loops, ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds one acceptor per loop (SO_REUSEPORT; port 0 picks one free port for all) and starts
  // accepting. Call before the loops run or from any thread.
  [[nodiscard]] Status Listen();
  [[nodiscard]] uint16_t port() const;
  [[nodiscard]] std::string host() const;

  // Stops accepting; idle keep-alive connections are closed, requests in flight finish.
  // Thread-safe.
  void StopAccepting();
  // Number of requests being handled now (all loops).
  [[nodiscard]] size_t in_flight() const;
  [[nodiscard]] size_t connections() const;
  [[nodiscard]] bool tls() const;
  // TLS handshakes that failed or timed out (garbage, old protocol, no shared cipher...).
  [[nodiscard]] uint64_t tls_handshake_failures() const;
  // Connections refused by the per-IP cap.
  [[nodiscard]] uint64_t refused_per_ip() const;

  struct Impl;  // public so that the implementation's free functions can name it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace modelmux::net

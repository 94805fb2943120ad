#pragma once
// HTTP/1.1 client for upstream calls: per-host keep-alive pools, TLS with peer verification (system
// CAs or a configured bundle), SNI, an optional client certificate, HTTP(S)_PROXY through CONNECT
// with NO_PROXY, and connect / first-byte / idle / total timeouts. A pooled connection that turns
// out to be stale is retried once on a fresh connection, before any byte of the request was sent
// on the fresh one... i.e. only when the failure proves the server never saw the request.
//
// Threading: an HttpClient belongs to one event loop (one executor); use one per loop.
// Cancellation: the coroutines honour the cancellation slot of the awaiting coroutine; a cancelled
// call closes its connection.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "net/headers.hpp"

namespace modelmux::net {

struct TlsOptions {
  bool verify_peer = true;
  std::string ca_file;           // PEM bundle; empty: the system's default paths
  std::string client_cert_file;  // PEM; optional
  std::string client_key_file;   // PEM; optional
};

struct ProxyOptions {
  std::string http_proxy;   // http://[user:pass@]host:port for http:// targets
  std::string https_proxy;  // for https:// targets
  std::string no_proxy;     // comma-separated hosts / domain suffixes / "*"
  // Reads HTTP_PROXY, HTTPS_PROXY, NO_PROXY (and lowercase forms) from the environment.
  static ProxyOptions FromEnvironment();
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds first_byte_timeout{120'000};  // request sent -> response head
  std::chrono::milliseconds idle_timeout{120'000};        // between body reads
  std::chrono::milliseconds total_timeout{600'000};
  size_t max_header_bytes = 64 * 1024;
};

struct ClientRequest {
  std::string method = "POST";
  std::string url;  // absolute http:// or https:// URL
  Headers headers;  // Host, Content-Length and Connection are set by the client
  std::string body;
};

class ClientConnection;

// A response whose body is read incrementally. Destroying it before the body was fully read
// closes the connection; reading to the end returns it to the pool.
class ClientResponse {
 public:
  ~ClientResponse();
  ClientResponse(const ClientResponse&) = delete;
  ClientResponse& operator=(const ClientResponse&) = delete;

  [[nodiscard]] int status() const { return status_; }
  [[nodiscard]] const Headers& headers() const { return headers_; }

  // Next piece of the body (chunked encoding removed); an empty view at the end of the body.
  // The view is valid until the next call.
  boost::asio::awaitable<Result<std::string_view>> ReadSome();
  // The rest of the body, refusing more than `limit` bytes.
  boost::asio::awaitable<Result<std::string>> ReadAll(size_t limit = 64 << 20);
  [[nodiscard]] bool done() const { return done_; }
  // Closes the connection now: a read in progress completes with an error, and the upstream
  // sees the call cancelled.
  void Cancel();

 private:
  friend class HttpClient;
  ClientResponse() = default;
  int status_ = 0;
  Headers headers_;
  bool done_ = false;
  std::unique_ptr<ClientConnection> conn_;
  struct Reader;
  std::unique_ptr<Reader> reader_;
};

class HttpClient {
 public:
  HttpClient(boost::asio::any_io_executor executor, TlsOptions tls = {},
             ProxyOptions proxy = ProxyOptions::FromEnvironment());
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends the request and returns once the response head has arrived. Errors: kTimeout for
  // timeouts, kUpstreamError for connection failures, kCancelled when cancelled, kInvalidRequest
  // for a malformed URL.
  boost::asio::awaitable<Result<std::unique_ptr<ClientResponse>>> Send(ClientRequest request,
                                                                       ClientOptions options = {});

  // Idle connections kept per host (for tests and metrics).
  [[nodiscard]] size_t idle_connections() const;
  // Connections opened so far (for tests and metrics).
  [[nodiscard]] size_t connections_opened() const;

  struct Impl;  // public so that the implementation's free functions can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace modelmux::net

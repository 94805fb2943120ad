// The blocking HTTP helpers of harness.hpp, kept in their own translation unit so that tests using
// only Process do not pull in the net layer's client.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>

#include "harness.hpp"
#include "net/http_client.hpp"

namespace modelmux::testing {
namespace {

namespace asio = boost::asio;

net::ClientRequest MakeRequest(std::string method, std::string url, std::string body,
                               HeaderList headers) {
  net::ClientRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.body = std::move(body);
  for (auto& [name, value] : headers) request.headers.Add(std::move(name), std::move(value));
  return request;
}

net::ClientOptions MakeOptions(std::chrono::milliseconds timeout) {
  net::ClientOptions options;
  options.connect_timeout = timeout;
  options.first_byte_timeout = timeout;
  options.idle_timeout = timeout;
  options.total_timeout = timeout;
  return options;
}

// Sends `request` and reads the whole body: into out->body, or piece by piece into `pieces` when
// that is not null.
asio::awaitable<void> Exchange(net::HttpClient* client, net::ClientRequest request,
                               net::ClientOptions options, HttpResult* out,
                               std::vector<std::string>* pieces) {
  auto sent = co_await client->Send(std::move(request), options);
  if (!sent.ok()) {
    out->error = std::move(sent).error();
    co_return;
  }
  std::unique_ptr<net::ClientResponse> response = std::move(sent).value();
  out->status = response->status();
  out->headers = response->headers();
  while (true) {
    auto piece = co_await response->ReadSome();
    if (!piece.ok()) {
      out->error = std::move(piece).error();
      co_return;
    }
    if (piece->empty()) break;
    if (pieces != nullptr) {
      pieces->emplace_back(*piece);
    } else {
      out->body.append(piece->data(), piece->size());
    }
  }
}

HttpResult Run(net::ClientRequest request, net::ClientOptions options,
               std::vector<std::string>* pieces) {
  asio::io_context io;
  // Loopback only: never route test traffic through a proxy from the environment.
  net::HttpClient client(io.get_executor(), net::TlsOptions{}, net::ProxyOptions{});
  HttpResult result;
  asio::co_spawn(io, Exchange(&client, std::move(request), options, &result, pieces),
                 [](const std::exception_ptr& e) {
                   if (e) std::rethrow_exception(e);
                 });
  io.run();
  return result;
}

}  // namespace

HttpResult Http(std::string method, std::string url, std::string body, HeaderList headers,
                std::chrono::milliseconds timeout) {
  return Run(MakeRequest(std::move(method), std::move(url), std::move(body), std::move(headers)),
             MakeOptions(timeout), nullptr);
}

StreamResult HttpStream(std::string method, std::string url, std::string body, HeaderList headers,
                        std::chrono::milliseconds timeout) {
  StreamResult out;
  HttpResult r =
      Run(MakeRequest(std::move(method), std::move(url), std::move(body), std::move(headers)),
          MakeOptions(timeout), &out.chunks);
  out.status = r.status;
  out.headers = std::move(r.headers);
  out.error = std::move(r.error);
  return out;
}

std::string StreamResult::Body() const {
  std::string body;
  for (const auto& c : chunks) body += c;
  return body;
}

}  // namespace modelmux::testing

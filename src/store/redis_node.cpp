#include "store/redis_node.hpp"

#include <openssl/ssl.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace modelmux::store::detail {
namespace {

namespace beast = boost::beast;
namespace ssl = asio::ssl;
using asio::awaitable;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

std::unique_ptr<ssl::context> MakeTlsContext(const net::TlsOptions& tls, std::string& error) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (tls.verify_peer) {
    ctx->set_verify_mode(ssl::verify_peer);
    if (!tls.ca_file.empty()) {
      ctx->load_verify_file(tls.ca_file, ec);
    } else {
      ctx->set_default_verify_paths(ec);
    }
    if (ec) error = "cannot load CA bundle: " + ec.message();
  } else {
    ctx->set_verify_mode(ssl::verify_none);
  }
  if (!tls.client_cert_file.empty()) {
    ctx->use_certificate_chain_file(tls.client_cert_file, ec);
    if (!ec) ctx->use_private_key_file(tls.client_key_file, ssl::context::pem, ec);
    if (ec) error = "cannot load client certificate: " + ec.message();
  }
  return ctx;
}

// "host:port" or "[v6]:port" split, brackets removed.
void SplitAddress(const std::string& address, std::string& host, std::string& port) {
  const size_t colon = address.rfind(':');
  host = address.substr(0, colon);
  port = colon == std::string::npos ? "6379" : address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
}

}  // namespace

Shared::Shared(asio::any_io_executor ex, RedisOptions o)
    : strand(asio::make_strand(ex)), options(std::move(o)) {
  if (options.pool_size == 0) options.pool_size = 1;
  if (options.breaker_failures < 1) options.breaker_failures = 1;
  if (options.tls) tls = MakeTlsContext(options.tls_options, tls_error);
}

Error RedisUnavailable(std::string message) {
  Error e;
  e.kind = ErrorKind::kUnavailable;
  e.code = "redis_unavailable";
  e.message = std::move(message);
  return e;
}

Error RedisTimeout(std::string message) {
  Error e;
  e.kind = ErrorKind::kTimeout;
  e.code = "redis_timeout";
  e.message = std::move(message);
  return e;
}

bool IsTimeout(const Error& e) {
  return e.kind == ErrorKind::kTimeout;
}

// ---------------------------------------------------------------------------------------------
// Connection

Connection::Connection(std::shared_ptr<Shared> shared, std::string host, std::string port)
    : shared_(std::move(shared)), host_(std::move(host)), port_(std::move(port)) {
  if (shared_->tls) {
    tls_.emplace(beast::tcp_stream(shared_->strand), *shared_->tls);
  } else {
    tcp_.emplace(shared_->strand);
  }
}

beast::tcp_stream& Connection::Tcp() {
  return tls_ ? tls_->next_layer() : *tcp_;
}

void Connection::Start() {
  connect_deadline_ = Clock::now() + shared_->options.connect_timeout;
  asio::co_spawn(shared_->strand, Run(shared_from_this()), asio::detached);
}

void Connection::Close(const Error& why) {
  if (state_ == State::kDead) return;
  state_ = State::kDead;
  boost::system::error_code ignored;
  Tcp().socket().close(ignored);
  auto inflight = std::move(inflight_);
  inflight_.clear();
  for (auto& p : inflight) {
    if (p->done) continue;
    p->error = why;
    p->done = true;
    p->timer.cancel();
  }
  wbuf_.clear();
}

awaitable<void> Connection::Run(std::shared_ptr<Connection> self) {
  const auto& o = self->shared_->options;
  if (!self->shared_->tls_error.empty()) {
    self->Close(RedisUnavailable("redis TLS setup failed: " + self->shared_->tls_error));
    co_return;
  }
  tcp::resolver resolver(self->shared_->strand);
  auto [ec, endpoints] = co_await resolver.async_resolve(self->host_, self->port_, kNoThrow);
  if (self->dead()) co_return;
  if (ec) {
    self->Close(RedisUnavailable("cannot resolve redis host " + self->host_ + ": " + ec.message()));
    co_return;
  }
  self->Tcp().expires_at(self->connect_deadline_);
  std::tie(ec, std::ignore) = co_await self->Tcp().async_connect(endpoints, kNoThrow);
  if (self->dead()) co_return;
  if (ec) {
    self->Close(RedisUnavailable("cannot connect to redis at " + self->host_ + ":" + self->port_ +
                                 ": " + ec.message()));
    co_return;
  }
  self->Tcp().socket().set_option(tcp::no_delay(true), ec);
  if (self->tls_) {
    boost::system::error_code addr_ec;
    asio::ip::make_address(self->host_, addr_ec);
    if (addr_ec) SSL_set_tlsext_host_name(self->tls_->native_handle(), self->host_.c_str());
    if (o.tls_options.verify_peer) {
      self->tls_->set_verify_callback(ssl::host_name_verification(self->host_));
    }
    std::tie(ec) = co_await self->tls_->async_handshake(ssl::stream_base::client, kNoThrow);
    if (self->dead()) co_return;
    if (ec) {
      self->Close(
          RedisUnavailable("redis TLS handshake with " + self->host_ + " failed: " + ec.message()));
      co_return;
    }
  }
  auto hello = co_await self->Hello();
  if (self->dead()) co_return;
  if (!hello.ok()) {
    self->Close(hello.error());
    co_return;
  }
  self->Tcp().expires_never();
  self->state_ = State::kReady;
  const auto ready_deadline = Clock::now() + o.command_timeout;
  for (auto& p : self->inflight_) {
    if (p->deadline > ready_deadline) {
      p->deadline = ready_deadline;
      p->timer.cancel();
    }
  }
  asio::co_spawn(self->shared_->strand, Reader(self), asio::detached);
  self->KickWriter();
}

// AUTH and SELECT, before any queued command, within the connect timeout.
awaitable<Status> Connection::Hello() {
  const auto& o = shared_->options;
  std::string payload;
  size_t expected = 0;
  if (!o.password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!o.username.empty()) auth.push_back(o.username);
    auth.push_back(o.password);
    AppendRespCommand(payload, auth);
    ++expected;
  }
  if (o.db != 0 && !o.cluster) {
    AppendRespCommand(payload, std::vector<std::string>{"SELECT", std::to_string(o.db)});
    ++expected;
  }
  if (expected == 0) co_return OkStatus();
  boost::system::error_code ec;
  if (tls_) {
    std::tie(ec, std::ignore) = co_await asio::async_write(*tls_, asio::buffer(payload), kNoThrow);
  } else {
    std::tie(ec, std::ignore) = co_await asio::async_write(*tcp_, asio::buffer(payload), kNoThrow);
  }
  if (ec) co_return RedisUnavailable("redis connection lost during AUTH/SELECT: " + ec.message());
  std::array<char, 4096> buf;
  size_t got = 0;
  while (got < expected) {
    auto next = parser_.Next();
    if (!next.ok()) co_return RedisUnavailable("redis protocol error during AUTH/SELECT");
    if (next->has_value()) {
      const RedisReply& r = **next;
      if (r.is_error()) {
        // Redis' own message ("WRONGPASS invalid username-password pair ...") holds no secret.
        co_return RedisUnavailable(
            (got == 0 && !o.password.empty() ? "redis AUTH failed: " : "redis SELECT failed: ") +
            r.str);
      }
      ++got;
      continue;
    }
    size_t n = 0;
    if (tls_) {
      std::tie(ec, n) = co_await tls_->async_read_some(asio::buffer(buf), kNoThrow);
    } else {
      std::tie(ec, n) = co_await tcp_->async_read_some(asio::buffer(buf), kNoThrow);
    }
    if (ec) co_return RedisUnavailable("redis connection lost during AUTH/SELECT: " + ec.message());
    parser_.Feed(std::string_view(buf.data(), n));
  }
  co_return OkStatus();
}

void Connection::KickWriter() {
  if (state_ != State::kReady || writing_ || wbuf_.empty()) return;
  writing_ = true;
  asio::co_spawn(shared_->strand, Writer(shared_from_this()), asio::detached);
}

awaitable<void> Connection::Writer(std::shared_ptr<Connection> self) {
  while (self->state_ == State::kReady && !self->wbuf_.empty()) {
    self->sending_.clear();
    std::swap(self->sending_, self->wbuf_);
    boost::system::error_code ec;
    if (self->tls_) {
      std::tie(ec, std::ignore) =
          co_await asio::async_write(*self->tls_, asio::buffer(self->sending_), kNoThrow);
    } else {
      std::tie(ec, std::ignore) =
          co_await asio::async_write(*self->tcp_, asio::buffer(self->sending_), kNoThrow);
    }
    if (ec) {
      self->Close(RedisUnavailable("redis write failed: " + ec.message()));
      break;
    }
  }
  self->writing_ = false;
}

awaitable<void> Connection::Reader(std::shared_ptr<Connection> self) {
  std::array<char, 16 * 1024> buf;
  // Replies that arrived with the AUTH/SELECT answers (none expected, but keep the order).
  while (self->state_ == State::kReady) {
    auto next = self->parser_.Next();
    if (!next.ok()) {
      self->Close(RedisUnavailable("redis protocol error: " + next.error().message));
      co_return;
    }
    if (next->has_value()) {
      self->Deliver(std::move(**next));
      continue;
    }
    boost::system::error_code ec;
    size_t n = 0;
    if (self->tls_) {
      std::tie(ec, n) = co_await self->tls_->async_read_some(asio::buffer(buf), kNoThrow);
    } else {
      std::tie(ec, n) = co_await self->tcp_->async_read_some(asio::buffer(buf), kNoThrow);
    }
    if (self->state_ != State::kReady) co_return;
    if (ec) {
      self->Close(RedisUnavailable("redis connection lost: " + ec.message()));
      co_return;
    }
    self->parser_.Feed(std::string_view(buf.data(), n));
  }
}

void Connection::Deliver(RedisReply reply) {
  if (inflight_.empty()) {
    Close(RedisUnavailable("redis sent a reply nobody asked for"));
    return;
  }
  auto& p = inflight_.front();
  p->replies.push_back(std::move(reply));
  if (p->replies.size() < p->expected) return;
  p->done = true;
  p->timer.cancel();
  inflight_.pop_front();
}

awaitable<Result<Replies>> Connection::Send(std::string payload, size_t replies) {
  if (state_ == State::kDead) co_return RedisUnavailable("redis connection closed");
  auto self = shared_from_this();
  auto p = std::make_shared<Pending>(shared_->strand, replies);
  wbuf_ += payload;
  inflight_.push_back(p);
  KickWriter();
  // While connecting, the connect timeout comes first; Run shortens this once connected.
  const auto start =
      state_ == State::kConnecting ? std::max(Clock::now(), connect_deadline_) : Clock::now();
  p->deadline = start + shared_->options.command_timeout;
  while (!p->done && Clock::now() < p->deadline) {
    p->timer.expires_at(p->deadline);
    co_await p->timer.async_wait(kNoThrow);
  }
  if (p->done) {
    if (p->error) co_return *p->error;
    co_return std::move(p->replies);
  }
  // No reply in time. On a ready connection the reply may still come and would be taken for
  // the next command's: the connection is closed. While still connecting, the command stays
  // queued (its late reply is dropped) and the connect timeout decides.
  if (state_ == State::kReady) Close(RedisUnavailable("redis connection closed after a timeout"));
  co_return RedisTimeout("no reply from redis at " + host_ + ":" + port_ + " within " +
                         std::to_string(shared_->options.command_timeout.count()) + "ms");
}

// ---------------------------------------------------------------------------------------------
// Node

Node::Node(std::shared_ptr<Shared> shared, std::string address)
    : shared_(std::move(shared)), address_(std::move(address)), probe_timer_(shared_->strand) {
  SplitAddress(address_, host_, port_);
  conns_.resize(shared_->options.pool_size);
}

std::shared_ptr<Connection> Node::Pick() {
  auto& c = conns_[next_++ % conns_.size()];
  if (!c || c->dead()) {
    if (c) ++shared_->reconnects;
    c = std::make_shared<Connection>(shared_, host_, port_);
    c->Start();
  }
  return c;
}

void Node::RecordSuccess() {
  failures_ = 0;
  if (open_) {
    open_ = false;
    --shared_->open_breakers;
  }
}

void Node::RecordFailure() {
  if (open_ || ++failures_ < shared_->options.breaker_failures) return;
  open_ = true;
  ++shared_->open_breakers;
  ++shared_->breaker_opens;
  asio::co_spawn(shared_->strand, Probe(shared_from_this()), asio::detached);
}

awaitable<Result<Replies>> Node::Execute(std::string payload, size_t replies) {
  if (shutdown_) co_return RedisUnavailable("redis client shut down");
  if (open_) {
    ++shared_->errors;
    co_return RedisUnavailable("redis at " + address_ + " is unavailable (breaker open)");
  }
  auto self = shared_from_this();
  auto conn = Pick();
  auto r = co_await conn->Send(std::move(payload), replies);
  if (r.ok()) {
    RecordSuccess();
  } else {
    ++(IsTimeout(r.error()) ? shared_->timeouts : shared_->errors);
    RecordFailure();
  }
  co_return r;
}

// While the breaker is open: a PING every `breaker_open` on a fresh connection; the first that
// answers closes the breaker. Commands meanwhile fail fast.
awaitable<void> Node::Probe(std::shared_ptr<Node> self) {
  while (self->open_ && !self->shutdown_) {
    self->probe_timer_.expires_after(self->shared_->options.breaker_open);
    co_await self->probe_timer_.async_wait(kNoThrow);
    if (self->shutdown_) co_return;
    auto conn = self->Pick();
    std::string ping = EncodeRespCommand(std::vector<std::string>{"PING"});
    auto r = co_await conn->Send(std::move(ping), 1);
    if (self->shutdown_) co_return;
    if (r.ok() && !r->empty() && !r->front().is_error()) self->RecordSuccess();
  }
}

void Node::Shutdown() {
  shutdown_ = true;
  probe_timer_.cancel();
  for (auto& c : conns_) {
    if (c) c->Close(RedisUnavailable("redis client shut down"));
  }
}

}  // namespace modelmux::store::detail

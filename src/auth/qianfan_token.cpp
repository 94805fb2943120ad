#include "auth/qianfan_token.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <mutex>
#include <vector>

namespace modelmux::auth {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::seconds;

constexpr seconds kDefaultExpiresIn{2'592'000};  // 30 days, when the answer names none
constexpr size_t kMaxTokenResponse = 1 << 20;

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

void ReplaceAll(std::string& text, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at)) {
    text.replace(at, what.size(), with);
    at += with.size();
  }
}

Error Failure(ErrorKind kind, std::string code, std::string message) {
  Error e;
  e.kind = kind;
  e.provider = "qianfan";
  e.code = std::move(code);
  e.message = std::move(message);
  return e;
}

using TokenChannel =
    asio::experimental::channel<void(boost::system::error_code, Result<std::string>)>;

struct Waiter {
  asio::any_io_executor executor;
  std::shared_ptr<TokenChannel> channel;
};

struct Token {
  std::string value;
  seconds expires_in{0};
};

// Shared by the signer and the exchange in flight (which may outlive the signer).
struct TokenState {
  std::string base;
  std::string api_key;
  std::string secret_key;  // secret
  TokenClock clock;
  net::TlsOptions tls;

  std::mutex mu;
  std::string token;  // guarded by mu; empty: none
  std::chrono::steady_clock::time_point refresh_at;
  bool in_flight = false;
  std::vector<Waiter> waiters;

  // Removes the credentials (raw and percent-encoded) from a text that may reach a caller.
  [[nodiscard]] std::string Scrub(std::string text) const {
    for (const std::string* s : {&secret_key, &api_key}) {
      ReplaceAll(text, *s, "***");
      ReplaceAll(text, PercentEncode(*s), "***");
    }
    return text;
  }
};

// One exchange over HTTP. Pure I/O + parsing; the caller stores the result.
asio::awaitable<Result<Token>> Exchange(std::shared_ptr<TokenState> st) {
  constexpr std::string_view kWhat = "Qianfan access-token exchange failed";
  constexpr std::string_view kCode = "qianfan_token_exchange_failed";
  auto ex = co_await asio::this_coro::executor;
  net::HttpClient client(ex, st->tls);
  net::ClientRequest req;
  req.method = "POST";
  req.url = QianfanTokenUrl(st->base, st->api_key, st->secret_key);
  req.headers.Set("content-type", "application/json");
  net::ClientOptions opt;
  opt.connect_timeout = std::chrono::seconds(5);
  opt.first_byte_timeout = std::chrono::seconds(30);
  opt.idle_timeout = std::chrono::seconds(30);
  opt.total_timeout = std::chrono::seconds(30);
  auto resp = co_await client.Send(std::move(req), opt);
  if (!resp.ok()) {
    const Error& err = resp.error();
    co_return Failure(err.kind, std::string(kCode),
                      std::string(kWhat) + ": " + st->Scrub(err.message));
  }
  const int status = (*resp)->status();
  auto body = co_await (*resp)->ReadAll(kMaxTokenResponse);
  if (!body.ok()) {
    co_return Failure(body.error().kind, std::string(kCode),
                      std::string(kWhat) + ": " + st->Scrub(body.error().message));
  }
  boost::system::error_code ec;
  json::value v = json::parse(*body, ec);
  const json::object* o = !ec && v.is_object() ? &v.get_object() : nullptr;
  if (o != nullptr && status / 100 == 2) {
    const json::value* token = o->if_contains("access_token");
    if (token != nullptr && token->is_string() && !token->get_string().empty()) {
      Token t;
      t.value = std::string(token->get_string());
      t.expires_in = kDefaultExpiresIn;
      if (const json::value* exp = o->if_contains("expires_in")) {
        if (auto n = exp->if_int64(); n && *n > 0) t.expires_in = seconds(*n);
        if (auto n = exp->if_uint64(); n && *n > 0)
          t.expires_in = seconds(static_cast<int64_t>(*n));
      }
      co_return t;
    }
  }
  std::string error;
  std::string description;
  if (o != nullptr) {
    if (const json::value* e = o->if_contains("error"); e && e->is_string())
      error = e->get_string();
    if (const json::value* d = o->if_contains("error_description"); d && d->is_string()) {
      description = d->get_string();
    }
  }
  ErrorKind kind = ErrorKind::kAuthentication;
  if (error.empty()) {
    kind = status / 100 == 2 ? ErrorKind::kUpstreamError : KindForHttpStatus(status);
    if (status == 400 || status == 401) kind = ErrorKind::kAuthentication;
  }
  std::string message = std::string(kWhat) + " (HTTP " + std::to_string(status);
  if (!error.empty()) message += ", " + error;
  message += ")";
  if (!description.empty()) message += ": " + description;
  Error e = Failure(kind, std::string(kCode), st->Scrub(std::move(message)));
  e.provider_code = st->Scrub(error);
  e.upstream_status = status;
  co_return e;
}

// Runs one exchange, stores its token and wakes every waiter on its own executor.
asio::awaitable<void> RunExchange(std::shared_ptr<TokenState> st) {
  Result<std::string> outcome;
  try {
    Result<Token> r = co_await Exchange(st);
    if (r.ok()) {
      outcome = r->value;
    } else {
      outcome = std::move(r).error();
    }
    if (r.ok()) {
      std::lock_guard lock(st->mu);
      st->token = r->value;
      st->refresh_at = st->clock() + r->expires_in - QianfanRefreshMargin(r->expires_in);
    }
  } catch (const std::exception&) {
    outcome = Failure(ErrorKind::kInternal, "qianfan_token_exchange_failed",
                      "Qianfan access-token exchange failed unexpectedly");
  }
  std::vector<Waiter> waiters;
  {
    std::lock_guard lock(st->mu);
    st->in_flight = false;
    waiters.swap(st->waiters);
  }
  for (Waiter& w : waiters) {
    asio::post(w.executor, [channel = std::move(w.channel), outcome]() mutable {
      (void)channel->try_send(boost::system::error_code{}, std::move(outcome));
    });
  }
}

class QianfanTokenSigner final : public Signer {
 public:
  explicit QianfanTokenSigner(std::shared_ptr<TokenState> state) : st_(std::move(state)) {}

  Status Sign(net::ClientRequest& /*request*/) const override {
    return Internal("the Qianfan signer exchanges tokens: call SignAsync");
  }

  bool is_async() const override { return true; }

  asio::awaitable<Status> SignAsync(net::ClientRequest& request) const override {
    if (st_->api_key.empty() || st_->secret_key.empty()) {
      co_return Failure(ErrorKind::kAuthentication, "qianfan_credentials_missing",
                        "Qianfan needs both an API key and a secret key");
    }
    auto ex = co_await asio::this_coro::executor;
    std::string cached;
    std::shared_ptr<TokenChannel> channel;
    bool start = false;
    {
      std::lock_guard lock(st_->mu);
      if (!st_->token.empty() && st_->clock() < st_->refresh_at) {
        cached = st_->token;
      } else {
        channel = std::make_shared<TokenChannel>(ex, 1);
        st_->waiters.push_back(Waiter{ex, channel});
        start = !st_->in_flight;
        st_->in_flight = true;
      }
    }
    if (channel == nullptr) {
      request.url = WithAccessToken(request.url, cached);
      co_return OkStatus();
    }
    if (start) asio::co_spawn(ex, RunExchange(st_), asio::detached);
    auto [ec, token] = co_await channel->async_receive(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      co_return Failure(ErrorKind::kCancelled, "cancelled",
                        "the call was cancelled while waiting for a Qianfan access token");
    }
    if (!token.ok()) co_return std::move(token).error();
    request.url = WithAccessToken(request.url, *token);
    co_return OkStatus();
  }

  void Invalidate() const override {
    std::lock_guard lock(st_->mu);
    // An exchange in flight brings a fresh token already; dropping it would only cost another.
    if (!st_->in_flight) st_->token.clear();
  }

 private:
  std::shared_ptr<TokenState> st_;
};

}  // namespace

seconds QianfanRefreshMargin(seconds expires_in) {
  if (expires_in.count() <= 0) return seconds(0);
  return std::min<seconds>(expires_in / 20, std::chrono::hours(24));
}

std::string WithAccessToken(std::string_view url, std::string_view token) {
  const size_t q = url.find('?');
  std::string out(url.substr(0, q));
  std::string query;
  if (q != std::string_view::npos) {
    std::string_view rest = url.substr(q + 1);
    while (!rest.empty()) {
      const size_t amp = rest.find('&');
      std::string_view param = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      const std::string_view name = param.substr(0, param.find('='));
      if (param.empty() || name == "access_token") continue;
      query += query.empty() ? "" : "&";
      query += param;
    }
  }
  query += query.empty() ? "" : "&";
  query += "access_token=" + PercentEncode(token);
  return out + "?" + query;
}

std::string QianfanTokenUrl(std::string_view token_url_base, std::string_view api_key,
                            std::string_view secret_key) {
  std::string base(token_url_base);
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base +
         "/oauth/2.0/token?grant_type=client_credentials&client_id=" + PercentEncode(api_key) +
         "&client_secret=" + PercentEncode(secret_key);
}

std::unique_ptr<Signer> MakeQianfanTokenSigner(std::string token_url_base, std::string api_key,
                                               std::string secret_key, TokenClock clock,
                                               net::TlsOptions tls) {
  auto st = std::make_shared<TokenState>();
  st->base = std::move(token_url_base);
  st->api_key = std::move(api_key);
  st->secret_key = std::move(secret_key);
  st->clock = clock ? std::move(clock) : TokenClock(std::chrono::steady_clock::now);
  st->tls = std::move(tls);
  return std::make_unique<QianfanTokenSigner>(std::move(st));
}

}  // namespace modelmux::auth

// The Qianfan token-exchange signer against a real loopback server that counts exchanges.

#include "auth/qianfan_token.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <future>
#include <mutex>
#include <set>

#include "net/event_loops.hpp"
#include "net/server.hpp"

namespace modelmux::auth {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr std::string_view kApiKey = "qf-api-key-1234";
constexpr std::string_view kSecret = "qf-secret-ZyXw9876";

// A token endpoint: counts exchanges, answers tok-N (after a short delay, so that concurrent
// callers overlap the exchange) or, when `refuse` is set, Baidu's invalid_client error.
struct TokenServer {
  net::EventLoops loops{1};
  std::unique_ptr<net::Server> server;
  std::atomic<int> exchanges{0};
  std::atomic<bool> refuse{false};
  std::atomic<int64_t> expires_in{3600};
  std::mutex mu;
  std::string last_target;

  TokenServer() {
    net::ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    server = std::make_unique<net::Server>(
        loops, o, [this](net::ServerRequest& r, net::ResponseWriter& w) { return Handle(r, w); });
    EXPECT_TRUE(server->Listen().ok());
    loops.Start();
  }
  ~TokenServer() {
    server->StopAccepting();
    loops.Stop();
    loops.Join();
  }

  std::string Base() const { return "http://127.0.0.1:" + std::to_string(server->port()); }

  asio::awaitable<void> Handle(net::ServerRequest& r, net::ResponseWriter& w) {
    net::Headers h;
    h.Add("content-type", "application/json");
    if (r.path() != "/oauth/2.0/token" || r.method != "POST") {
      co_await w.Send(404, std::move(h), "{}");
      co_return;
    }
    const int n = ++exchanges;
    {
      std::lock_guard lock(mu);
      last_target = r.target;
    }
    asio::steady_timer t(co_await asio::this_coro::executor, 50ms);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    if (refuse) {
      co_await w.Send(
          401, std::move(h),
          R"({"error":"invalid_client","error_description":"Client authentication failed"})");
      co_return;
    }
    co_await w.Send(200, std::move(h),
                    R"({"refresh_token":"r","access_token":"tok-)" + std::to_string(n) +
                        R"(","expires_in":)" + std::to_string(expires_in.load()) + "}");
  }
};

// A clock the test moves by hand.
struct FakeClock {
  std::shared_ptr<std::atomic<int64_t>> offset_s = std::make_shared<std::atomic<int64_t>>(0);
  TokenClock Fn() const {
    auto off = offset_s;
    return [off] { return std::chrono::steady_clock::time_point(std::chrono::seconds(*off)); };
  }
};

asio::awaitable<Result<std::string>> SignUrl(const Signer* signer, std::string url) {
  net::ClientRequest req;
  req.url = std::move(url);
  Status st = co_await signer->SignAsync(req);
  if (!st.ok()) co_return std::move(st).error();
  co_return req.url;
}

// Signs once on a private loop.
Result<std::string> SignOnce(const Signer& signer, std::string url = "http://h/chat?x=1") {
  asio::io_context io;
  auto fut = asio::co_spawn(io, SignUrl(&signer, std::move(url)), asio::use_future);
  io.run();
  return fut.get();
}

TEST(QianfanTokenTest, HundredConcurrentFirstCallsOnTwoLoopsMakeOneExchange) {
  TokenServer srv;
  auto signer = MakeQianfanTokenSigner(srv.Base(), std::string(kApiKey), std::string(kSecret));
  ASSERT_TRUE(signer->is_async());
  net::EventLoops callers(2);
  std::vector<std::future<Result<std::string>>> results;
  for (int i = 0; i < 100; ++i) {
    results.push_back(asio::co_spawn(callers.loop(i % 2),
                                     SignUrl(signer.get(), "http://h/c?n=" + std::to_string(i)),
                                     asio::use_future));
  }
  callers.Start();
  for (int i = 0; i < 100; ++i) {
    auto r = results[i].get();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, "http://h/c?n=" + std::to_string(i) + "&access_token=tok-1");
  }
  callers.Stop();
  callers.Join();
  EXPECT_EQ(srv.exchanges.load(), 1);
  std::lock_guard lock(srv.mu);
  EXPECT_EQ(srv.last_target,
            "/oauth/2.0/token?grant_type=client_credentials&client_id=qf-api-key-1234"
            "&client_secret=qf-secret-ZyXw9876");
  // Cached afterwards: no new exchange.
  auto again = SignOnce(*signer);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, "http://h/chat?x=1&access_token=tok-1");
  EXPECT_EQ(srv.exchanges.load(), 1);
}

TEST(QianfanTokenTest, ExpiryWithInjectedClockExchangesAgain) {
  TokenServer srv;
  srv.expires_in = 2'592'000;  // 30 days: refreshed one day early
  FakeClock clock;
  auto signer =
      MakeQianfanTokenSigner(srv.Base(), std::string(kApiKey), std::string(kSecret), clock.Fn());
  ASSERT_EQ(*SignOnce(*signer), "http://h/chat?x=1&access_token=tok-1");
  *clock.offset_s = 29 * 86400 - 1;  // just before the refresh point
  ASSERT_EQ(*SignOnce(*signer), "http://h/chat?x=1&access_token=tok-1");
  EXPECT_EQ(srv.exchanges.load(), 1);
  *clock.offset_s = 29 * 86400;  // 30 days minus the one-day margin
  ASSERT_EQ(*SignOnce(*signer), "http://h/chat?x=1&access_token=tok-2");
  EXPECT_EQ(srv.exchanges.load(), 2);
}

TEST(QianfanTokenTest, InvalidateExchangesAgain) {
  TokenServer srv;
  auto signer = MakeQianfanTokenSigner(srv.Base(), std::string(kApiKey), std::string(kSecret));
  ASSERT_EQ(*SignOnce(*signer), "http://h/chat?x=1&access_token=tok-1");
  signer->Invalidate();
  ASSERT_EQ(*SignOnce(*signer), "http://h/chat?x=1&access_token=tok-2");
  ASSERT_EQ(*SignOnce(*signer), "http://h/chat?x=1&access_token=tok-2");
  EXPECT_EQ(srv.exchanges.load(), 2);
}

TEST(QianfanTokenTest, RefusedExchangeIsAnAuthenticationErrorWithoutTheSecret) {
  TokenServer srv;
  srv.refuse = true;
  auto signer = MakeQianfanTokenSigner(srv.Base(), std::string(kApiKey), std::string(kSecret));
  auto r = SignOnce(*signer);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kAuthentication);
  EXPECT_EQ(r.error().code, "qianfan_token_exchange_failed");
  EXPECT_EQ(r.error().provider_code, "invalid_client");
  EXPECT_EQ(r.error().upstream_status, 401);
  EXPECT_NE(r.error().message.find("Client authentication failed"), std::string::npos);
  EXPECT_EQ(r.error().message.find(kSecret), std::string::npos);
  // A failure is not cached: the next call tries again and succeeds.
  srv.refuse = false;
  ASSERT_TRUE(SignOnce(*signer).ok());
  EXPECT_EQ(srv.exchanges.load(), 2);
}

TEST(QianfanTokenTest, UnreachableEndpointErrorHasNoSecret) {
  // A port nothing listens on (bound then closed by a server that is gone).
  std::string base;
  {
    TokenServer gone;
    base = gone.Base();
  }
  auto signer = MakeQianfanTokenSigner(base, std::string(kApiKey), std::string(kSecret));
  auto r = SignOnce(*signer);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "qianfan_token_exchange_failed");
  EXPECT_EQ(r.error().message.find(kSecret), std::string::npos);
  EXPECT_EQ(r.error().message.find("client_secret"), std::string::npos);
}

TEST(QianfanTokenTest, MissingSecretFailsWithoutAnExchange) {
  TokenServer srv;
  auto signer = MakeQianfanTokenSigner(srv.Base(), std::string(kApiKey), "");
  auto r = SignOnce(*signer);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kAuthentication);
  EXPECT_EQ(r.error().code, "qianfan_credentials_missing");
  EXPECT_EQ(srv.exchanges.load(), 0);
  net::ClientRequest req;
  EXPECT_FALSE(signer->Sign(req).ok());  // only the async path signs
}

TEST(QianfanTokenTest, UrlHelpers) {
  EXPECT_EQ(WithAccessToken("http://h/p", "a b"), "http://h/p?access_token=a%20b");
  EXPECT_EQ(WithAccessToken("http://h/p?access_token=old&x=1", "new"),
            "http://h/p?x=1&access_token=new");
  EXPECT_EQ(QianfanTokenUrl("https://aip.baidubce.com/", "a&b", "s=c"),
            "https://aip.baidubce.com/oauth/2.0/token?grant_type=client_credentials"
            "&client_id=a%26b&client_secret=s%3Dc");
  EXPECT_EQ(QianfanRefreshMargin(std::chrono::seconds(2'592'000)), std::chrono::hours(24));
  EXPECT_EQ(QianfanRefreshMargin(std::chrono::seconds(60)), std::chrono::seconds(3));
  EXPECT_EQ(QianfanRefreshMargin(std::chrono::seconds(0)), std::chrono::seconds(0));
}

}  // namespace
}  // namespace modelmux::auth

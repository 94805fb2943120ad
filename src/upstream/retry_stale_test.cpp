#include "upstream/retry_stale.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <deque>

namespace modelmux::upstream {
namespace {

namespace asio = boost::asio;

class CountingSigner final : public auth::Signer {
 public:
  Status Sign(net::ClientRequest& /*request*/) const override { return OkStatus(); }
  void Invalidate() const override { ++invalidations; }
  mutable int invalidations = 0;
};

Error Stale() {
  Error e;
  e.kind = ErrorKind::kAuthentication;
  e.code = "token_expired";
  e.provider_code = "111";
  return e;
}

// Answers from a script, one per attempt.
struct Script {
  std::deque<Result<int>> answers;
  int calls = 0;
};

asio::awaitable<Result<int>> Next(Script* s) {
  ++s->calls;
  Result<int> r = std::move(s->answers.front());
  s->answers.pop_front();
  co_return r;
}

Result<int> RunRetry(const CountingSigner& signer, Script& script) {
  asio::io_context io;
  auto fut =
      asio::co_spawn(io, RetryOnStaleCredentials<int>(signer, [&script] { return Next(&script); }),
                     asio::use_future);
  io.run();
  return fut.get();
}

TEST(RetryStaleTest, StaleThenFreshRetriesOnceAfterInvalidate) {
  CountingSigner signer;
  Script s{{Stale(), 42}};
  auto r = RunRetry(signer, s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(s.calls, 2);
  EXPECT_EQ(signer.invalidations, 1);
}

TEST(RetryStaleTest, StaleTwiceGivesUpAfterOneRetry) {
  CountingSigner signer;
  Script s{{Stale(), Stale(), 7}};
  auto r = RunRetry(signer, s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "token_expired");
  EXPECT_EQ(s.calls, 2);
  EXPECT_EQ(signer.invalidations, 1);
}

TEST(RetryStaleTest, OtherOutcomesAreNotRetried) {
  CountingSigner signer;
  Error limited;
  limited.kind = ErrorKind::kRateLimited;
  Error auth;  // an authentication error that is not about a stale token
  auth.kind = ErrorKind::kAuthentication;
  auth.code = "invalid_api_key";
  for (Result<int> first : {Result<int>(5), Result<int>(limited), Result<int>(auth)}) {
    Script s{{first, 9}};
    auto r = RunRetry(signer, s);
    EXPECT_EQ(s.calls, 1);
    EXPECT_EQ(r.ok(), first.ok());
  }
  EXPECT_EQ(signer.invalidations, 0);
  EXPECT_FALSE(IsStaleCredentials(auth));
  EXPECT_TRUE(IsStaleCredentials(Stale()));
}

}  // namespace
}  // namespace modelmux::upstream

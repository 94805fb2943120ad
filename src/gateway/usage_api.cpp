#include "gateway/usage_api.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse_query.hpp>
#include <memory>

namespace modelmux::gateway {

namespace asio = boost::asio;

Result<UsageQuery> UsageQueryFrom(std::string_view query, int64_t now_ms, std::string key_id) {
  UsageQuery q;
  q.filter.key_id = std::move(key_id);
  if (query.empty()) return q;
  auto params = boost::urls::parse_query(query);
  if (!params) return InvalidRequest("malformed query string", "query", "invalid_query");
  for (auto p : *params) {
    const std::string value(p.value);
    if (p.key == "by") {
      MM_TRY(q.by, telemetry::ParseGroupBy(value));
      if (q.by == telemetry::UsageGroupBy::kKey) {
        return InvalidRequest("by=key is not available here: this report covers your key only",
                              "by", "invalid_group_by");
      }
    } else if (p.key == "since") {
      MM_TRY(auto t, telemetry::ParseTimeBound(value, false, now_ms));
      q.filter.since_ms = t;
    } else if (p.key == "until") {
      MM_TRY(auto t, telemetry::ParseTimeBound(value, true, now_ms));
      q.filter.until_ms = t;
    } else {
      return InvalidRequest(
          "unknown query parameter '" + std::string(p.key) + "' (expected by, since, until)",
          std::string(p.key), "invalid_query");
    }
  }
  return q;
}

asio::awaitable<Result<std::string>> UsageBody(telemetry::Ledger& ledger, UsageQuery query) {
  auto exec = co_await asio::this_coro::executor;
  using Channel = asio::experimental::channel<void(boost::system::error_code,
                                                   std::shared_ptr<Result<std::string>>)>;
  auto ch = std::make_shared<Channel>(exec, 1);
  ledger.Run([ch, query = std::move(query)](sqlite3* db) {
    telemetry::UsageReport report(query.by);
    auto st = report.AddLedger(db, query.filter);
    auto out = std::make_shared<Result<std::string>>(st.ok() ? Result<std::string>(report.Json())
                                                             : Result<std::string>(st.error()));
    // Back on the caller's executor: a channel is not thread-safe.
    asio::post(ch->get_executor(),
               [ch, out] { ch->try_send(boost::system::error_code{}, std::move(out)); });
  });
  auto [ec, result] = co_await ch->async_receive(asio::as_tuple(asio::use_awaitable));
  if (ec || !result) co_return Error{ErrorKind::kUnavailable, "the usage ledger did not answer"};
  co_return std::move(*result);
}

}  // namespace modelmux::gateway

#include "cache/flight.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace modelmux::cache {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A few event loops, each run by its own thread (as the gateway runs them).
class Loops {
 public:
  explicit Loops(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      contexts_.push_back(std::make_unique<asio::io_context>());
      guards_.emplace_back(asio::make_work_guard(*contexts_.back()));
    }
    for (size_t i = 0; i < n; ++i) {
      threads_.emplace_back([ctx = contexts_[i].get()] { ctx->run(); });
    }
  }
  ~Loops() {
    guards_.clear();
    for (auto& c : contexts_) c->stop();
    for (auto& t : threads_) t.join();
  }
  asio::io_context& at(size_t i) { return *contexts_[i % contexts_.size()]; }
  std::thread::id thread(size_t i) const { return threads_[i % threads_.size()].get_id(); }

 private:
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
};

struct Outcome {
  std::vector<std::string> chunks;
  std::optional<Error> error;
  bool ended = false;
  bool joined_as_follower = false;
  bool always_on_own_thread = true;
};

// Reads a flight to its end, recording where each resumption ran.
asio::awaitable<void> ReadAll(
    std::shared_ptr<Flight> flight, Outcome* out, std::thread::id own_thread,
    Flight::Clock::time_point deadline = Flight::Clock::time_point::max()) {
  for (size_t i = 0;; ++i) {
    Result<std::optional<std::string>> r = co_await flight->Next(i, deadline);
    if (std::this_thread::get_id() != own_thread) out->always_on_own_thread = false;
    if (!r.ok()) {
      out->error = r.error();
      co_return;
    }
    if (!r->has_value()) {
      out->ended = true;
      co_return;
    }
    out->chunks.push_back(std::move(**r));
  }
}

// Joins on the loop's thread and reads to the end.
asio::awaitable<void> JoinAndRead(FlightGroup* group, std::string key, Outcome* out,
                                  std::thread::id own_thread) {
  FlightGroup::Join join = group->JoinOrLead(key);
  out->joined_as_follower = !join.leading();
  if (join.leading()) co_return;  // not expected; the test fails on joined_as_follower
  co_await ReadAll(join.flight, out, own_thread);
}

// Completion handler that counts finished coroutines and fulfils a promise at the last one.
struct CountDown {
  std::atomic<size_t>* left;
  std::promise<void>* all_done;
  void operator()(std::exception_ptr e) const {
    if (e) std::rethrow_exception(e);
    if (left->fetch_sub(1) == 1) all_done->set_value();
  }
};

std::vector<std::string> Chunks(size_t n, const std::string& prefix) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

TEST(FlightGroup, FirstLeadsOthersFollow) {
  FlightGroup group;
  FlightGroup::Join a = group.JoinOrLead("k");
  FlightGroup::Join b = group.JoinOrLead("k");
  FlightGroup::Join c = group.JoinOrLead("other");
  EXPECT_TRUE(a.leading());
  EXPECT_FALSE(b.leading());
  EXPECT_TRUE(c.leading());
  EXPECT_EQ(a.flight, b.flight);
  EXPECT_EQ(a.flight->followers(), 1u);
  EXPECT_EQ(group.size(), 2u);
}

TEST(FlightGroup, HundredFollowersOnFourThreadsGetIdenticalChunks) {
  Loops loops(4);
  FlightGroup group;
  FlightGroup::Join lead = group.JoinOrLead("same-request");
  ASSERT_TRUE(lead.leading());
  const std::vector<std::string> expected = Chunks(50, "chunk-");

  constexpr size_t kFollowers = 100;
  std::vector<Outcome> outcomes(kFollowers);
  std::atomic<size_t> left{kFollowers};
  std::promise<void> all_done;
  for (size_t i = 0; i < kFollowers; ++i) {
    asio::co_spawn(loops.at(i), JoinAndRead(&group, "same-request", &outcomes[i], loops.thread(i)),
                   CountDown{&left, &all_done});
  }
  std::thread leader([&] {
    for (const std::string& c : expected) {
      lead.leader->Publish(c);
      std::this_thread::yield();
    }
    lead.leader->Finish();
  });
  leader.join();
  ASSERT_EQ(all_done.get_future().wait_for(20s), std::future_status::ready);
  lead.leader->Release();

  for (size_t i = 0; i < kFollowers; ++i) {
    EXPECT_TRUE(outcomes[i].joined_as_follower) << i;
    EXPECT_TRUE(outcomes[i].ended) << i;
    EXPECT_FALSE(outcomes[i].error.has_value()) << i;
    EXPECT_EQ(outcomes[i].chunks, expected) << i;
    EXPECT_TRUE(outcomes[i].always_on_own_thread) << i;
  }
  EXPECT_EQ(lead.flight->followers(), kFollowers);
  EXPECT_EQ(group.size(), 0u);
  EXPECT_TRUE(group.JoinOrLead("same-request").leading());  // new requests go to the cache
}

TEST(FlightGroup, LateJoinerReplaysThenWaits) {
  asio::io_context io;
  FlightGroup group;
  FlightGroup::Join lead = group.JoinOrLead("k");
  lead.leader->Publish("a");
  lead.leader->Publish("b");
  lead.leader->Publish("c");

  FlightGroup::Join late = group.JoinOrLead("k");
  ASSERT_FALSE(late.leading());
  Outcome out;
  asio::co_spawn(io, ReadAll(late.flight, &out, std::this_thread::get_id()), asio::detached);
  io.poll();
  EXPECT_EQ(out.chunks, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(out.ended);  // waiting for more

  lead.leader->Publish("d");
  io.poll();
  EXPECT_EQ(out.chunks.size(), 4u);
  lead.leader->Finish();
  io.poll();
  EXPECT_TRUE(out.ended);
  EXPECT_EQ(out.chunks, (std::vector<std::string>{"a", "b", "c", "d"}));
}

TEST(FlightGroup, FinishedFlightStaysJoinableUntilReleased) {
  asio::io_context io;
  FlightGroup group;
  FlightGroup::Join lead = group.JoinOrLead("k");
  lead.leader->Publish("only");
  lead.leader->Finish();
  lead.leader->Publish("ignored after finish");

  FlightGroup::Join after = group.JoinOrLead("k");  // the leader is still storing to the cache
  ASSERT_FALSE(after.leading());
  Outcome out;
  asio::co_spawn(io, ReadAll(after.flight, &out, std::this_thread::get_id()), asio::detached);
  io.run();
  EXPECT_EQ(out.chunks, std::vector<std::string>{"only"});
  EXPECT_TRUE(out.ended);

  lead.leader->Release();
  EXPECT_EQ(group.size(), 0u);
  EXPECT_TRUE(group.JoinOrLead("k").leading());
}

TEST(FlightGroup, FailureReachesWaitingFollowersAndFreesTheKey) {
  asio::io_context io;
  FlightGroup group;
  FlightGroup::Join lead = group.JoinOrLead("k");
  std::vector<Outcome> outs(3);
  std::vector<FlightGroup::Join> joins;
  for (auto& o : outs) {
    joins.push_back(group.JoinOrLead("k"));
    asio::co_spawn(io, ReadAll(joins.back().flight, &o, std::this_thread::get_id()),
                   asio::detached);
  }
  lead.leader->Publish("partial");
  io.poll();
  Error upstream;
  upstream.kind = ErrorKind::kRateLimited;
  upstream.code = "rate_limit_exceeded";
  lead.leader->Fail(upstream);
  EXPECT_EQ(group.size(), 0u);
  FlightGroup::Join next = group.JoinOrLead("k");
  EXPECT_TRUE(next.leading());  // a failure is never shared with later requests
  EXPECT_NE(next.flight, lead.flight);
  io.poll();
  for (const Outcome& o : outs) {
    EXPECT_EQ(o.chunks, std::vector<std::string>{"partial"});
    ASSERT_TRUE(o.error.has_value());
    EXPECT_EQ(o.error->kind, ErrorKind::kRateLimited);
    EXPECT_EQ(o.error->code, "rate_limit_exceeded");
    EXPECT_FALSE(o.ended);
  }
}

TEST(FlightGroup, AbandonedLeaderFailsFollowers) {
  asio::io_context io;
  FlightGroup group;
  Outcome out;
  std::shared_ptr<Flight> flight;
  {
    FlightGroup::Join lead = group.JoinOrLead("k");
    FlightGroup::Join follower = group.JoinOrLead("k");
    flight = follower.flight;
    asio::co_spawn(io, ReadAll(follower.flight, &out, std::this_thread::get_id()), asio::detached);
    io.poll();
    EXPECT_FALSE(out.error.has_value());
    // `lead` goes out of scope without Finish or Fail.
  }
  io.poll();
  ASSERT_TRUE(out.error.has_value());
  EXPECT_EQ(out.error->kind, ErrorKind::kUpstreamError);
  EXPECT_EQ(out.error->code, "leader_abandoned");
  EXPECT_EQ(group.size(), 0u);
  EXPECT_TRUE(group.JoinOrLead("k").leading());
}

TEST(FlightGroup, MovedLeaderKeepsTheFlight) {
  FlightGroup group;
  FlightGroup::Join lead = group.JoinOrLead("k");
  FlightLeader moved = std::move(*lead.leader);
  lead.leader.reset();  // the moved-from handle abandons nothing
  EXPECT_EQ(group.size(), 1u);
  moved.Publish("x");
  EXPECT_EQ(lead.flight->chunks(), 1u);
}

TEST(FlightGroup, FollowerDeadline) {
  asio::io_context io;
  FlightGroup group;
  FlightGroup::Join lead = group.JoinOrLead("k");
  FlightGroup::Join follower = group.JoinOrLead("k");
  Outcome out;
  asio::co_spawn(
      io, ReadAll(follower.flight, &out, std::this_thread::get_id(), Flight::Clock::now() + 20ms),
      asio::detached);
  io.run();  // returns once the deadline has passed
  ASSERT_TRUE(out.error.has_value());
  EXPECT_EQ(out.error->kind, ErrorKind::kTimeout);
  EXPECT_EQ(out.error->code, "single_flight_timeout");
  EXPECT_EQ(group.size(), 1u);  // the flight goes on

  lead.leader->Publish("late");
  lead.leader->Finish();
  io.restart();
  Outcome again;
  asio::co_spawn(
      io, ReadAll(follower.flight, &again, std::this_thread::get_id(), Flight::Clock::now() + 20ms),
      asio::detached);
  io.run();
  EXPECT_TRUE(again.ended);
  EXPECT_EQ(again.chunks, std::vector<std::string>{"late"});
}

TEST(FlightGroup, CancelledFollowerStopsWaiting) {
  asio::io_context io;
  FlightGroup group;
  FlightGroup::Join lead = group.JoinOrLead("k");
  FlightGroup::Join follower = group.JoinOrLead("k");
  Outcome out;
  asio::cancellation_signal cancel;
  asio::co_spawn(io, ReadAll(follower.flight, &out, std::this_thread::get_id()),
                 asio::bind_cancellation_slot(cancel.slot(), asio::detached));
  io.poll();
  EXPECT_FALSE(out.error.has_value());
  cancel.emit(asio::cancellation_type::terminal);
  io.poll();
  ASSERT_TRUE(out.error.has_value());
  EXPECT_EQ(out.error->kind, ErrorKind::kCancelled);
  lead.leader->Publish("nobody waits");  // no waiter left to wake; no crash
}

TEST(FlightGroup, FollowerLoopShutDownWhileWaiting) {
  FlightGroup group;
  FlightGroup::Join lead = group.JoinOrLead("k");
  Outcome out;
  {
    asio::io_context io;
    FlightGroup::Join follower = group.JoinOrLead("k");
    asio::co_spawn(io, ReadAll(follower.flight, &out, std::this_thread::get_id()), asio::detached);
    io.poll();
  }                           // the loop (and the waiting coroutine) is gone
  lead.leader->Publish("x");  // must not touch the dead loop
  lead.leader->Finish();
  EXPECT_TRUE(out.chunks.empty());
  EXPECT_FALSE(out.ended);
  EXPECT_EQ(lead.flight->chunks(), 1u);
}

// Many rounds of leader, joiners and readers racing on several threads; every follower must see
// exactly the leader's chunks (or its failure), and nothing may hang.
TEST(FlightGroup, StressRoundsAcrossThreads) {
  Loops loops(3);
  FlightGroup group;
  for (int round = 0; round < 200; ++round) {
    const std::string key = "k" + std::to_string(round % 7);
    FlightGroup::Join lead = group.JoinOrLead(key);
    ASSERT_TRUE(lead.leading()) << round;
    const size_t n_chunks = static_cast<size_t>(round % 5);
    const std::vector<std::string> expected = Chunks(n_chunks, std::to_string(round) + ":");
    const bool fail = round % 4 == 3;
    const bool abandon = round % 9 == 8;

    constexpr size_t kFollowers = 8;
    std::vector<Outcome> outcomes(kFollowers);
    std::atomic<size_t> left{kFollowers};
    std::promise<void> all_done;
    std::vector<FlightGroup::Join> joins;
    for (size_t i = 0; i < kFollowers; ++i) joins.push_back(group.JoinOrLead(key));
    for (size_t i = 0; i < kFollowers; ++i) {
      asio::co_spawn(loops.at(i), ReadAll(joins[i].flight, &outcomes[i], loops.thread(i)),
                     CountDown{&left, &all_done});
    }
    std::thread leader([&] {
      for (const std::string& c : expected) {
        lead.leader->Publish(c);
        if (c.size() % 2 == 0) std::this_thread::yield();
      }
      if (abandon) {
        lead.leader.reset();
      } else if (fail) {
        lead.leader->Fail(Error{ErrorKind::kUnavailable, "down"});
      } else {
        lead.leader->Finish();
        lead.leader->Release();
      }
    });
    leader.join();
    ASSERT_EQ(all_done.get_future().wait_for(20s), std::future_status::ready) << round;
    for (size_t i = 0; i < kFollowers; ++i) {
      EXPECT_EQ(outcomes[i].chunks, expected) << round << "/" << i;
      EXPECT_TRUE(outcomes[i].always_on_own_thread);
      if (abandon) {
        ASSERT_TRUE(outcomes[i].error.has_value());
        EXPECT_EQ(outcomes[i].error->code, "leader_abandoned");
      } else if (fail) {
        ASSERT_TRUE(outcomes[i].error.has_value());
        EXPECT_EQ(outcomes[i].error->kind, ErrorKind::kUnavailable);
      } else {
        EXPECT_TRUE(outcomes[i].ended) << round << "/" << i;
      }
    }
    EXPECT_EQ(group.size(), 0u) << round;
  }
}

}  // namespace
}  // namespace modelmux::cache

#pragma once
// Test helpers: an in-memory ResponseWriter and a runner that drives Simulator::Handle() on an
// io_context. Header-only; used by the sim tests.

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/sse.hpp"
#include "net/server.hpp"
#include "sim/simulator.hpp"

namespace modelmux::sim::simtest {

class FakeWriter : public net::ResponseWriter {
 public:
  boost::asio::awaitable<Status> Send(int s, net::Headers h, std::string b) override {
    status = s;
    headers = std::move(h);
    body = std::move(b);
    started_ = true;
    finished = true;
    co_return OkStatus();
  }
  boost::asio::awaitable<Status> StartStream(int s, net::Headers h) override {
    status = s;
    headers = std::move(h);
    started_ = true;
    streamed = true;
    co_return OkStatus();
  }
  boost::asio::awaitable<Status> Write(std::string_view data) override {
    chunks.emplace_back(data);
    body.append(data);
    co_return OkStatus();
  }
  boost::asio::awaitable<Status> Finish() override {
    finished = true;
    co_return OkStatus();
  }
  [[nodiscard]] bool started() const override { return started_; }
  void Abort() override { aborted = true; }

  // The data payloads of the SSE body, in order.
  [[nodiscard]] std::vector<std::string> Events() const {
    SseParser parser;
    std::vector<SseEvent> events;
    EXPECT_TRUE(parser.Feed(body, events));
    parser.Finish(events);
    std::vector<std::string> out;
    for (auto& e : events) out.push_back(e.data);
    return out;
  }
  // The body parsed as JSON (cached: references into it live as long as the writer).
  [[nodiscard]] const boost::json::value& Json() const {
    if (!json_) json_ = boost::json::parse(body);
    return *json_;
  }

  int status = 0;
  net::Headers headers;
  std::string body;
  std::vector<std::string> chunks;
  bool streamed = false;
  bool finished = false;
  bool aborted = false;

 private:
  bool started_ = false;
  mutable std::optional<boost::json::value> json_;
};

inline net::ServerRequest MakeRequest(
    std::string method, std::string target, std::string body,
    std::vector<std::pair<std::string, std::string>> headers = {}) {
  net::ServerRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  r.headers.Add("content-type", "application/json");
  for (auto& [k, v] : headers) r.headers.Add(k, v);
  return r;
}

inline FakeWriter RunRequest(Simulator& sim, net::ServerRequest request) {
  boost::asio::io_context io;
  FakeWriter writer;
  boost::asio::co_spawn(io, sim.Handle(request, writer), boost::asio::detached);
  io.run();
  return writer;
}

inline FakeWriter Post(Simulator& sim, std::string target, std::string body,
                       std::vector<std::pair<std::string, std::string>> headers = {}) {
  return RunRequest(sim,
                    MakeRequest("POST", std::move(target), std::move(body), std::move(headers)));
}

}  // namespace modelmux::sim::simtest

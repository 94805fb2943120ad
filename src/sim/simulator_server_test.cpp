// The simulator behind the real net::Server over loopback: a whole stream arrives chunked and
// terminated, and x-sim-reset closes the connection before any byte of response.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <memory>

#include "net/event_loops.hpp"
#include "net/server.hpp"
#include "sim/simulator.hpp"

namespace modelmux::sim {
namespace {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct LiveSim {
  Simulator sim{SimOptions{}};
  net::EventLoops loops{1};
  std::unique_ptr<net::Server> server;

  LiveSim() {
    net::ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    server = std::make_unique<net::Server>(
        loops, o,
        [this](net::ServerRequest& r, net::ResponseWriter& w) { return sim.Handle(r, w); });
    EXPECT_TRUE(server->Listen().ok());
    loops.Start();
  }
  ~LiveSim() {
    server->StopAccepting();
    loops.Stop();
    loops.Join();
  }

  // Sends one request with Connection: close and reads until the server closes.
  std::string Exchange(std::string_view path, std::string_view body, std::string_view extra = "") {
    asio::io_context io;
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->port()));
    std::string req = "POST " + std::string(path) +
                      " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: "
                      "application/json\r\n" +
                      std::string(extra) + "Content-Length: " + std::to_string(body.size()) +
                      "\r\n\r\n" + std::string(body);
    asio::write(s, asio::buffer(req));
    std::string out;
    boost::system::error_code ec;
    asio::read(s, asio::dynamic_buffer(out), ec);
    return out;
  }
};

TEST(SimulatorServerTest, StreamOverLoopback) {
  LiveSim live;
  std::string out = live.Exchange(
      "/v1/chat/completions",
      R"({"model":"sim/echo","stream":true,"messages":[{"role":"user","content":"one two"}]})");
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_NE(out.find("text/event-stream"), std::string::npos);
  EXPECT_NE(out.find(R"("content":" two")"), std::string::npos);
  EXPECT_NE(out.find("data: [DONE]"), std::string::npos);
  EXPECT_NE(out.find("\r\n0\r\n\r\n"), std::string::npos);  // chunked terminator
}

TEST(SimulatorServerTest, ResetClosesBeforeHeaders) {
  LiveSim live;
  std::string out = live.Exchange("/v1/chat/completions",
                                  R"({"model":"m","messages":[{"role":"user","content":"x"}]})",
                                  "x-sim-reset: 1\r\n");
  EXPECT_EQ(out, "");
}

TEST(SimulatorServerTest, CutStreamHasNoTerminator) {
  LiveSim live;
  std::string out = live.Exchange(
      "/v1/chat/completions",
      R"({"model":"sim/chat","stream":true,"messages":[{"role":"user","content":"x"}]})",
      "x-sim-cut-after: 2\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(out.find("[DONE]"), std::string::npos);
  EXPECT_EQ(out.find("\r\n0\r\n\r\n"), std::string::npos);
}

}  // namespace
}  // namespace modelmux::sim

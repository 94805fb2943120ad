// Client::embed against the embedded simulator (only the public headers, only libmodelmux).

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>

#include "modelmux/client.hpp"

namespace {

namespace fs = std::filesystem;
using modelmux::Client;
using modelmux::EmbedOptions;
using modelmux::EmbedResult;
using modelmux::Expected;

std::unique_ptr<Client> SimClient() {
  fs::path dir = fs::temp_directory_path() / ("modelmux_sdk_embed_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path file = dir / "modelmux.yaml";
  std::ofstream(file) << "providers:\n  sim:\n    type: sim\n";
  Client::Options options;
  options.config_file = file.string();
  options.discover_environment = false;
  auto created = Client::Create(options);
  EXPECT_TRUE(created.ok()) << created.error().ToString();
  return created.ok() ? std::move(created).value() : nullptr;
}

EmbedOptions Texts(std::vector<std::string> inputs) {
  EmbedOptions o;
  o.model = "sim/embed-sdk";
  o.inputs = std::move(inputs);
  o.dimensions = 16;
  o.timeout = std::chrono::seconds(30);
  return o;
}

TEST(ClientEmbedTest, VectorsAreDeterministicUnitVectorsInOrder) {
  auto client = SimClient();
  ASSERT_TRUE(client);
  auto a = client->embed(Texts({"alpha", "beta", "alpha"}));
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  ASSERT_EQ(a->vectors.size(), 3u);
  EXPECT_EQ(a->vectors[0].size(), 16u);
  EXPECT_EQ(a->vectors[0], a->vectors[2]);
  EXPECT_NE(a->vectors[0], a->vectors[1]);
  double norm = 0;
  for (float x : a->vectors[1]) norm += static_cast<double>(x) * x;
  EXPECT_NEAR(norm, 1.0, 1e-5);
  ASSERT_TRUE(a->prompt_tokens.has_value());
  EXPECT_EQ(*a->prompt_tokens, 5);  // ceil(5/4) + ceil(4/4) + ceil(5/4) = 2 + 1 + 2
  auto again = client->embed(Texts({"beta"}));
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(again->vectors.at(0), a->vectors[1]);
}

TEST(ClientEmbedTest, ErrorsAreValues) {
  auto client = SimClient();
  ASSERT_TRUE(client);
  auto empty = client->embed(Texts({"ok", ""}));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().kind, "invalid_request");
  EXPECT_EQ(empty.error().param, "input");
  auto unknown = client->embed([] {
    auto o = Texts({"x"});
    o.model = "nobody/model";
    return o;
  }());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind, "not_found");
  auto limited = client->embed([] {
    auto o = Texts({"x"});
    o.headers["x-sim-status"] = "429";
    return o;
  }());
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().kind, "rate_limited");
  EXPECT_EQ(limited.error().upstream_status, 429);
}

TEST(ClientEmbedTest, AsyncDeliversOnce) {
  auto client = SimClient();
  ASSERT_TRUE(client);
  std::promise<Expected<EmbedResult>> promise;
  auto future = promise.get_future();
  client->embed_async(Texts({"async"}),
                      [&promise](Expected<EmbedResult> r) { promise.set_value(std::move(r)); });
  auto r = future.get();
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->vectors.size(), 1u);
}

}  // namespace

// Client::batch from a program's point of view: only the public headers, against the embedded
// simulator (sim/echo answers with the prompt's text).

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "modelmux/client.hpp"

namespace {

namespace fs = std::filesystem;
using modelmux::BatchOptions;
using modelmux::BatchRequest;
using modelmux::Client;

std::unique_ptr<Client> MakeClient() {
  fs::path dir =
      fs::temp_directory_path() / ("modelmux_sdk_batch_test_" + std::to_string(::getpid()));
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

BatchRequest Req(std::string id, std::string model, std::string text) {
  BatchRequest r;
  r.id = std::move(id);
  r.options.model = std::move(model);
  r.options.messages.push_back(modelmux::Message::User(std::move(text)));
  return r;
}

TEST(ClientBatch, ResultsComeBackInRequestOrderWithProgress) {
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);
  std::vector<BatchRequest> reqs;
  for (int i = 0; i < 40; ++i) {
    reqs.push_back(Req("r" + std::to_string(i), "sim/echo", "say " + std::to_string(i)));
  }
  reqs.push_back(Req("bad", "nosuchprovider/x", "hi"));  // fails alone
  std::atomic<int> calls{0};
  std::atomic<size_t> last_done{0};
  BatchOptions options;
  options.concurrency = 8;
  options.progress_interval = std::chrono::milliseconds(10);
  auto out = client->batch(reqs, options, [&](const modelmux::BatchProgress& p) {
    ++calls;
    last_done = p.done;
  });
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  ASSERT_EQ(out->items.size(), 41u);
  for (int i = 0; i < 40; ++i) {
    const auto& item = out->items[static_cast<size_t>(i)];
    EXPECT_EQ(item.id, "r" + std::to_string(i));
    ASSERT_TRUE(item.result.has_value()) << item.id << ": " << item.error->ToString();
    EXPECT_NE(item.result->text.find("say " + std::to_string(i)), std::string::npos)
        << item.result->text;
  }
  ASSERT_TRUE(out->items[40].error.has_value());
  EXPECT_EQ(out->items[40].error->kind, "not_found");
  EXPECT_EQ(out->totals.ok, 40u);
  EXPECT_EQ(out->totals.failed, 1u);
  EXPECT_EQ(out->totals.total, 41u);
  EXPECT_GT(out->totals.prompt_tokens, 0);
  EXPECT_GE(calls.load(), 1);  // at least the final call
  EXPECT_EQ(last_done.load(), 41u);
  EXPECT_NE(out->report_json.find("\"ok\":40"), std::string::npos) << out->report_json;
}

TEST(ClientBatch, DuplicateIdIsRefusedBeforeAnyCall) {
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);
  auto out = client->batch({Req("a", "sim/echo", "x"), Req("a", "sim/echo", "y")});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, "duplicate_id");
  EXPECT_EQ(out.error().param, "requests[1].id");
}

}  // namespace

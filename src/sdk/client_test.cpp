// The SDK seen from a program: only the public headers, only libmodelmux. Every test runs against
// the embedded simulator, configured by a file in a temporary directory, so nothing depends on the
// environment's provider keys.

#include "modelmux/client.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "modelmux/asio.hpp"

namespace {

namespace fs = std::filesystem;
using modelmux::ChatOptions;
using modelmux::ChatResult;
using modelmux::Client;
using modelmux::Expected;
using modelmux::StreamChunk;

fs::path WriteSimOnlyConfig() {
  fs::path dir = fs::temp_directory_path() / ("modelmux_sdk_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path file = dir / "modelmux.yaml";
  std::ofstream(file) << "providers:\n  sim:\n    type: sim\n";
  return file;
}

ChatOptions Ask(std::string model, std::string text) {
  ChatOptions o;
  o.model = std::move(model);
  o.messages.push_back(modelmux::Message::User(std::move(text)));
  o.timeout = std::chrono::seconds(30);
  return o;
}

class ClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Client::Options options;
    options.config_file = WriteSimOnlyConfig().string();
    options.discover_environment = false;
    options.threads = 2;
    auto created = Client::Create(options);
    ASSERT_TRUE(created.ok()) << created.error().ToString();
    client_ = std::move(created).value().release();
  }
  static void TearDownTestSuite() {
    delete client_;
    client_ = nullptr;
  }
  static Client* client_;
};
Client* ClientTest::client_ = nullptr;

TEST_F(ClientTest, UsesTheEmbeddedSimulator) {
  EXPECT_TRUE(client_->using_simulator());
  EXPECT_EQ(client_->simulator_url().rfind("http://127.0.0.1:", 0), 0u);
  auto models = client_->models();
  EXPECT_NE(std::find(models.begin(), models.end(), "sim/echo"), models.end());
}

TEST_F(ClientTest, ChatEchoesThePromptWithMatchingUsage) {
  auto reply = client_->chat(Ask("sim/echo", "hello there world"));
  ASSERT_TRUE(reply.ok()) << reply.error().ToString();
  EXPECT_EQ(reply->text, "hello there world");
  EXPECT_EQ(reply->finish_reason, "stop");
  EXPECT_FALSE(reply->id.empty());
  ASSERT_TRUE(reply->usage.has_value());
  // The simulator counts one completion token per word, and ceil(bytes / 4) + 4 per message.
  EXPECT_EQ(reply->usage->completion_tokens, 3);
  EXPECT_EQ(reply->usage->prompt_tokens, (17 + 3) / 4 + 4);
  EXPECT_EQ(reply->usage->total(), reply->usage->prompt_tokens + 3);
}

TEST_F(ClientTest, StreamChunksConcatenateToTheChatText) {
  const std::string prompt = "the quick brown fox jumps over the lazy dog again and again";
  auto whole = client_->chat(Ask("sim/echo", prompt));
  ASSERT_TRUE(whole.ok()) << whole.error().ToString();

  std::string streamed;
  int chunks = 0;
  std::optional<modelmux::Usage> chunk_usage;
  std::string last_finish;
  auto caller = std::this_thread::get_id();
  bool on_caller_thread = true;
  auto result = client_->stream(Ask("sim/echo", prompt), [&](const StreamChunk& c) {
    on_caller_thread = on_caller_thread && std::this_thread::get_id() == caller;
    streamed += c.text;
    ++chunks;
    if (c.usage) chunk_usage = c.usage;
    if (!c.finish_reason.empty()) last_finish = c.finish_reason;
    return true;
  });
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_TRUE(on_caller_thread);
  EXPECT_GT(chunks, 1);
  EXPECT_EQ(streamed, whole->text);
  EXPECT_EQ(result->text, whole->text);
  EXPECT_EQ(last_finish, "stop");
  EXPECT_EQ(result->finish_reason, "stop");
  // include_usage (on by default): the last chunk and the result carry the same usage as chat().
  ASSERT_TRUE(chunk_usage.has_value());
  ASSERT_TRUE(result->usage.has_value());
  EXPECT_EQ(*chunk_usage, *whole->usage);
  EXPECT_EQ(*result->usage, *whole->usage);
}

TEST_F(ClientTest, StreamWithoutIncludeUsageDeliversNoUsageChunk) {
  auto options = Ask("sim/echo", "no usage please");
  options.include_usage = false;
  bool saw_usage = false;
  auto result = client_->stream(options, [&](const StreamChunk& c) {
    saw_usage = saw_usage || c.usage.has_value();
    return true;
  });
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(result->text, "no usage please");
  EXPECT_FALSE(saw_usage);
}

TEST_F(ClientTest, StoppingAStreamReturnsThePartialText) {
  const std::string prompt = "one two three four five six seven eight";
  auto options = Ask("sim/echo", prompt);
  options.headers["x-sim-tokens-per-s"] = "20";  // 50 ms between words: stopping is seen in time
  std::string seen;
  bool stopped = false;
  int calls_after_stop = 0;
  auto result = client_->stream(options, [&](const StreamChunk& c) {
    if (stopped) ++calls_after_stop;
    seen += c.text;
    stopped = !seen.empty();  // stop after the first text
    return !stopped;
  });
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(calls_after_stop, 0);
  EXPECT_FALSE(seen.empty());
  EXPECT_TRUE(result->finish_reason.empty());
  EXPECT_EQ(result->text.rfind(seen, 0), 0u);  // what was delivered is a prefix of the result
  EXPECT_LT(result->text.size(), prompt.size());
}

TEST_F(ClientTest, UpstreamRateLimitSurfacesAsError) {
  auto options = Ask("sim/echo", "hi");
  options.headers["x-sim-status"] = "429";
  auto reply = client_->chat(options);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().kind, "rate_limited");
  EXPECT_EQ(reply.error().http_status, 429);
  EXPECT_EQ(reply.error().upstream_status, 429);
  EXPECT_EQ(reply.error().provider, "sim");
  EXPECT_TRUE(reply.error().retryable);

  auto streamed = client_->stream(options, [](const StreamChunk&) { return true; });
  ASSERT_FALSE(streamed.ok());
  EXPECT_EQ(streamed.error().kind, "rate_limited");
}

TEST_F(ClientTest, DeadlineEndsAStalledCall) {
  auto options = Ask("sim/echo", "too slow");
  options.headers["x-sim-stall-ms"] = "10000";
  options.timeout = std::chrono::milliseconds(300);
  auto started = std::chrono::steady_clock::now();
  auto reply = client_->chat(options);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().kind, "timeout");
  EXPECT_EQ(reply.error().http_status, 504);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST_F(ClientTest, ImagesTravelAsContentParts) {
  auto options = Ask("sim/echo", "what is in this picture");
  options.messages[0].image_urls.push_back(
      "data:image/"
      "png;base64,"
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJg"
      "gg==");
  auto reply = client_->chat(options);
  ASSERT_TRUE(reply.ok()) << reply.error().ToString();
  // The simulator states the image it received, then echoes.
  EXPECT_EQ(reply->text, "[image: png 1x1, 70 bytes]\nwhat is in this picture");
  ASSERT_TRUE(reply->usage.has_value());
  // The image adds prompt tokens beyond the text alone.
  auto text_only = client_->chat(Ask("sim/echo", "what is in this picture"));
  ASSERT_TRUE(text_only.ok());
  EXPECT_GT(reply->usage->prompt_tokens, text_only->usage->prompt_tokens);
}

TEST_F(ClientTest, UnknownModelIsNotFound) {
  auto reply = client_->chat(Ask("nobody/none", "hi"));
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().kind, "not_found");
  EXPECT_EQ(reply.error().http_status, 404);
  EXPECT_EQ(reply.error().code, "model_not_found");
}

TEST_F(ClientTest, InvalidRoleIsRefusedBeforeAnyCall) {
  auto options = Ask("sim/echo", "hi");
  options.messages[0].role = "narrator";
  auto reply = client_->chat(options);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().kind, "invalid_request");
  EXPECT_EQ(reply.error().param, "messages[0].role");
}

TEST_F(ClientTest, ChatAsyncRunsTheCallbackOnAClientThread) {
  std::promise<std::pair<Expected<ChatResult>, std::thread::id>> done;
  auto got = done.get_future();
  client_->chat_async(Ask("sim/echo", "async hello"), [&done](Expected<ChatResult> r) {
    done.set_value({std::move(r), std::this_thread::get_id()});
  });
  ASSERT_EQ(got.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  auto [reply, thread] = got.get();
  ASSERT_TRUE(reply.ok()) << reply.error().ToString();
  EXPECT_EQ(reply->text, "async hello");
  EXPECT_NE(thread, std::this_thread::get_id());
}

TEST_F(ClientTest, BlockingCallFromACallbackIsRefused) {
  std::promise<Expected<ChatResult>> inner;
  auto got = inner.get_future();
  client_->chat_async(Ask("sim/echo", "outer"), [&inner](Expected<ChatResult>) {
    inner.set_value(client_->chat(Ask("sim/echo", "inner")));
  });
  ASSERT_EQ(got.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  auto reply = got.get();
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, "blocking_in_callback");
}

TEST_F(ClientTest, StreamAsyncDeliversChunksThenDone) {
  std::string text;  // written on the client thread, read after `done`
  std::promise<Expected<ChatResult>> done;
  auto got = done.get_future();
  client_->stream_async(
      Ask("sim/echo", "streamed asynchronously"),
      [&text](const StreamChunk& c) {
        text += c.text;
        return true;
      },
      [&done](Expected<ChatResult> r) { done.set_value(std::move(r)); });
  ASSERT_EQ(got.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  auto result = got.get();
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(text, "streamed asynchronously");
  EXPECT_EQ(result->text, text);
}

boost::asio::awaitable<std::string> AwaitChat(Client* client) {
  auto reply = co_await modelmux::async_chat(*client, Ask("sim/echo", "awaited"));
  co_return reply.ok() ? reply->text : reply.error().ToString();
}

TEST_F(ClientTest, AwaitableFormResumesOnTheCallersExecutor) {
  boost::asio::io_context io;
  auto text = boost::asio::co_spawn(io, AwaitChat(client_), boost::asio::use_future);
  io.run();  // returns once the coroutine finished: the completion was posted back to `io`
  ASSERT_EQ(text.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_EQ(text.get(), "awaited");
}

TEST(ClientCreateTest, NoConfigAndNoKeysRunsOnTheSimulator) {
  for (const char* name :
       {"MODELMUX_CONFIG", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY",
        "DASHSCOPE_API_KEY", "QIANFAN_API_KEY", "ZHIPUAI_API_KEY", "DEEPSEEK_API_KEY",
        "MOONSHOT_API_KEY", "AZURE_OPENAI_API_KEY", "AWS_ACCESS_KEY_ID", "OLLAMA_HOST"}) {
    ::unsetenv(name);
  }
  auto created = Client::Create();
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  auto& client = *created.value();
  EXPECT_TRUE(client.using_simulator());
  auto reply = client.chat(Ask("sim/echo", "defaults"));
  ASSERT_TRUE(reply.ok()) << reply.error().ToString();
  EXPECT_EQ(reply->text, "defaults");
}

TEST(ClientCreateTest, MissingConfigFileIsAnError) {
  Client::Options options;
  options.config_file = "/nonexistent/modelmux.yaml";
  auto created = Client::Create(options);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().kind, "invalid_request");
}

TEST(ClientCreateTest, DestroyingTheClientCancelsCallsInFlight) {
  Client::Options options;
  options.config_yaml = "providers:\n  sim:\n    type: sim\n";
  options.discover_environment = false;
  auto created = Client::Create(options);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  std::unique_ptr<Client> client = std::move(created).value();
  auto options_slow = Ask("sim/echo", "slow");
  options_slow.headers["x-sim-stall-ms"] = "20000";
  std::promise<Expected<ChatResult>> done;
  auto got = done.get_future();
  client->chat_async(options_slow,
                     [&done](Expected<ChatResult> r) { done.set_value(std::move(r)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the call reach the simulator
  auto started = std::chrono::steady_clock::now();
  client.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  ASSERT_EQ(got.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  auto reply = got.get();
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().kind, "cancelled");
}

}  // namespace

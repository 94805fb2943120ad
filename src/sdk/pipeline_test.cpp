// Pipelines (virtual model names, docs/SDK.md "Pipelines") through the SDK, against the embedded
// simulator. Its echo models answer with the last user message's text (after one line per image
// they received), so each answer shows what that model was sent; the expected answers are asked
// of the simulator's models directly, through the same Client.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "modelmux/client.hpp"

namespace {

namespace fs = std::filesystem;
using modelmux::ChatOptions;
using modelmux::ChatResult;
using modelmux::Client;
using modelmux::Message;

constexpr const char* kDescribe = "DESCRIBE:";

// A 1x1 PNG as a data: URL.
const std::string kPngUrl =
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg"
    "==";

fs::path WriteConfig() {
  fs::path dir =
      fs::temp_directory_path() / ("modelmux_sdk_pipeline_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path file = dir / "modelmux.yaml";
  std::ofstream(file) << "router:\n"
                         "  num_retries: 0\n"
                         "providers:\n"
                         "  sim:\n"
                         "    type: sim\n"
                         "pipelines:\n"
                         "  - name: see\n"
                         "    kind: vision_then_reason\n"
                         "    vision: sim/echo-vision\n"
                         "    reasoner: sim/echo-reason\n"
                         "    describe_prompt: \""
                      << kDescribe
                      << "\"\n"
                         "  - name: many\n"
                         "    kind: fan_out\n"
                         "    models: [sim/echo-a, sim/chat-b]\n"
                         "  - name: judged\n"
                         "    kind: fan_out\n"
                         "    models: [sim/echo-a, sim/chat-b]\n"
                         "    judge: sim/echo-judge\n"
                         "  - name: pick\n"
                         "    kind: conditional\n"
                         "    routes:\n"
                         "      - when: {modality: image}\n"
                         "        model: sim/echo-img\n"
                         "      - when: {tier: gold}\n"
                         "        model: sim/echo-gold\n"
                         "      - model: sim/echo-default\n"
                         "  - name: digest\n"
                         "    kind: map_reduce\n"
                         "    map: sim/echo-map\n"
                         "    reduce: sim/echo-reduce\n"
                         "    chunk_tokens: 40\n";
  return file;
}

ChatOptions Ask(std::string model, Message message) {
  ChatOptions o;
  o.model = std::move(model);
  o.messages.push_back(std::move(message));
  o.timeout = std::chrono::seconds(30);
  return o;
}

ChatOptions Ask(std::string model, std::string text) {
  return Ask(std::move(model), Message::User(std::move(text)));
}

class SdkPipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Client::Options options;
    options.config_file = WriteConfig().string();
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

  // chat() that must succeed.
  static ChatResult Chat(const ChatOptions& options) {
    auto r = client_->chat(options);
    EXPECT_TRUE(r.ok()) << options.model << ": " << r.error().ToString();
    return r.ok() ? std::move(r).value() : ChatResult{};
  }
  // stream() that must succeed; `streamed` gets the chunks' text.
  static ChatResult Stream(const ChatOptions& options, std::string& streamed) {
    auto r = client_->stream(options, [&](const modelmux::StreamChunk& c) {
      streamed += c.text;
      return true;
    });
    EXPECT_TRUE(r.ok()) << options.model << ": " << r.error().ToString();
    return r.ok() ? std::move(r).value() : ChatResult{};
  }

  static Client* client_;
};
Client* SdkPipelineTest::client_ = nullptr;

TEST_F(SdkPipelineTest, PipelinesAreListedAsModels) {
  const auto models = client_->models();
  for (const char* name : {"see", "many", "judged", "pick", "digest"}) {
    EXPECT_NE(std::find(models.begin(), models.end(), name), models.end()) << name;
  }
}

TEST_F(SdkPipelineTest, VisionThenReasonAnswersFromTheDescription) {
  const std::string question = "What is in this picture?";
  // The vision model gets the instruction and the question with the image (two text parts,
  // which an echo model joins with a newline); the reasoner the question and the description.
  const ChatResult vision = Chat(
      Ask("sim/echo-vision", Message::User(std::string(kDescribe) + "\n" + question, {kPngUrl})));
  ASSERT_FALSE(vision.text.empty());
  const std::string expected = question + "\n[image description: " + vision.text + "]";
  const ChatResult reason = Chat(Ask("sim/echo-reason", expected));
  ASSERT_EQ(reason.text, expected);

  const ChatResult r = Chat(Ask("see", Message::User(question, {kPngUrl})));
  EXPECT_EQ(r.text, expected);
  ASSERT_EQ(r.choices.size(), 1u);
  EXPECT_EQ(r.choices[0].text, expected);
  ASSERT_TRUE(r.usage && vision.usage && reason.usage);
  EXPECT_EQ(r.usage->prompt_tokens, vision.usage->prompt_tokens + reason.usage->prompt_tokens);
  EXPECT_EQ(r.usage->completion_tokens,
            vision.usage->completion_tokens + reason.usage->completion_tokens);

  std::string streamed;
  const ChatResult s = Stream(Ask("see", Message::User(question, {kPngUrl})), streamed);
  EXPECT_EQ(streamed, expected);
  EXPECT_EQ(s.text, expected);
}

TEST_F(SdkPipelineTest, FanOutReturnsEveryAnswerAsAChoice) {
  const std::string prompt = "Name a river";
  const ChatResult a = Chat(Ask("sim/echo-a", prompt));
  const ChatResult b = Chat(Ask("sim/chat-b", prompt));
  ASSERT_NE(a.text, b.text);

  const ChatResult r = Chat(Ask("many", prompt));
  EXPECT_EQ(r.model, "many");
  ASSERT_EQ(r.choices.size(), 2u);
  EXPECT_EQ(r.choices[0].text, a.text);
  EXPECT_EQ(r.choices[1].text, b.text);
  EXPECT_EQ(r.choices[1].finish_reason, b.finish_reason);
  // The first choice stays where it always was.
  EXPECT_EQ(r.text, a.text);
  EXPECT_EQ(r.finish_reason, a.finish_reason);
  ASSERT_TRUE(r.usage && a.usage && b.usage);
  EXPECT_EQ(r.usage->total(), a.usage->total() + b.usage->total());

  // Streamed: the chunks carry the first choice; the result has them all.
  std::string streamed;
  const ChatResult s = Stream(Ask("many", prompt), streamed);
  EXPECT_EQ(streamed, a.text);
  ASSERT_EQ(s.choices.size(), 2u);
  EXPECT_EQ(s.choices[0].text, a.text);
  EXPECT_EQ(s.choices[1].text, b.text);
  EXPECT_EQ(s.text, a.text);
}

TEST_F(SdkPipelineTest, FanOutWithAJudgeReturnsTheChosenAnswer) {
  // The echo judge answers its own prompt, which starts with the question: the question's
  // first number is the verdict.
  const std::string prompt = "Pick 2 for me";
  const ChatResult b = Chat(Ask("sim/chat-b", prompt));
  const ChatResult r = Chat(Ask("judged", prompt));
  ASSERT_EQ(r.choices.size(), 1u);
  EXPECT_EQ(r.text, b.text);
  EXPECT_EQ(r.choices[0].text, b.text);
  EXPECT_EQ(r.model, b.model);
}

TEST_F(SdkPipelineTest, ConditionalRoutesByModalityAndTheTierHeader) {
  const ChatResult image = Chat(Ask("pick", Message::User("look", {kPngUrl})));
  const ChatResult direct_image = Chat(Ask("sim/echo-img", Message::User("look", {kPngUrl})));
  EXPECT_EQ(image.model, direct_image.model);
  EXPECT_EQ(image.text, direct_image.text);

  ChatOptions gold = Ask("pick", "short");
  gold.headers["x-modelmux-tier"] = "gold";
  const std::string gold_model = Chat(Ask("sim/echo-gold", "short")).model;
  EXPECT_EQ(Chat(gold).model, gold_model);
  ChatOptions silver = Ask("pick", "short");
  silver.headers["x-modelmux-tier"] = "silver";
  const std::string default_model = Chat(Ask("sim/echo-default", "short")).model;
  EXPECT_EQ(Chat(silver).model, default_model);
  EXPECT_EQ(Chat(Ask("pick", "short")).model, default_model);
  EXPECT_NE(default_model, image.model);
  EXPECT_NE(default_model, gold_model);
}

TEST_F(SdkPipelineTest, MapReduceAnswersFromTheNotesOfEveryPart) {
  std::string long_text;
  for (int i = 1; i <= 30; ++i) {
    long_text += "Sentence number " + std::to_string(i) + " tells one more fact. ";
  }
  const ChatResult r = Chat(Ask("digest", long_text));
  // The echo reducer answers with its instruction and the notes, one block per part.
  EXPECT_NE(r.text.find("[Part 1 of "), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("[Part 2 of "), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("Sentence number 30"), std::string::npos) << r.text;
  ASSERT_EQ(r.choices.size(), 1u);
}

}  // namespace

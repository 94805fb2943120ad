#include "cache/key.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace modelmux::cache {
namespace {

ChatRequest BaseRequest() {
  ChatRequest r;
  r.model = "fast";
  Message sys;
  sys.role = Role::kSystem;
  sys.content.push_back({PartType::kText, "be brief", "", "", ""});
  Message user;
  user.role = Role::kUser;
  user.content_is_string = false;
  user.content.push_back({PartType::kText, "what is this?", "", "", ""});
  user.content.push_back({PartType::kImage, "", "https://example.com/cat.png", "low", ""});
  Message assistant;
  assistant.role = Role::kAssistant;
  assistant.tool_calls.push_back({"call_1", "lookup", R"({"q":"cat"})"});
  Message tool;
  tool.role = Role::kTool;
  tool.tool_call_id = "call_1";
  tool.content.push_back({PartType::kText, "a cat", "", "", ""});
  r.messages = {sys, user, assistant, tool};
  r.temperature = 0.0;
  r.top_p = 0.9;
  r.max_tokens = 100;
  r.seed = 7;
  r.stop = {"END", "STOP"};
  r.tools = R"([{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}])";
  r.tool_choice = R"("auto")";
  r.response_format = R"({"type":"json_object"})";
  r.reasoning_effort = "low";
  r.extra = R"({"frequency_penalty":0.5,"metadata":{"a":"b"}})";
  return r;
}

std::string Key(const ChatRequest& r, std::string_view tenant = "t1", std::string_view ns = "",
                std::string_view provider = "openai", std::string_view model = "gpt-4o-mini",
                std::string_view kind = "chat") {
  return CacheKey({.tenant = tenant,
                   .provider = provider,
                   .model = model,
                   .request = r,
                   .kind = kind,
                   .ns = ns});
}

struct Mutation {
  std::string name;
  std::function<void(ChatRequest&)> apply;
};

// Every parameter that changes an answer, changed one at a time.
std::vector<Mutation> AnswerChanging() {
  return {
      {"message text", [](ChatRequest& r) { r.messages[1].content[0].text = "what is that?"; }},
      {"role", [](ChatRequest& r) { r.messages[0].role = Role::kDeveloper; }},
      {"message name", [](ChatRequest& r) { r.messages[1].name = "alice"; }},
      {"tool_call_id", [](ChatRequest& r) { r.messages[3].tool_call_id = "call_2"; }},
      {"tool call id", [](ChatRequest& r) { r.messages[2].tool_calls[0].id = "call_9"; }},
      {"tool call name", [](ChatRequest& r) { r.messages[2].tool_calls[0].name = "find"; }},
      {"tool call arguments",
       [](ChatRequest& r) { r.messages[2].tool_calls[0].arguments = R"({"q":"dog"})"; }},
      {"second tool call",
       [](ChatRequest& r) {
         r.messages[2].tool_calls.push_back({"call_3", "x", "{}"});
       }},
      {"image url",
       [](ChatRequest& r) { r.messages[1].content[1].url = "https://example.com/dog.png"; }},
      {"image detail", [](ChatRequest& r) { r.messages[1].content[1].detail = "high"; }},
      {"part type", [](ChatRequest& r) { r.messages[1].content[1].type = PartType::kVideo; }},
      {"mime type", [](ChatRequest& r) { r.messages[1].content[1].mime_type = "image/png"; }},
      {"reasoning", [](ChatRequest& r) { r.messages[2].reasoning = "thinking"; }},
      {"text split in two parts",
       [](ChatRequest& r) {
         r.messages[1].content[0].text = "what is ";
         r.messages[1].content.insert(r.messages[1].content.begin() + 1,
                                      ContentPart{PartType::kText, "this?", "", "", ""});
       }},
      {"extra message",
       [](ChatRequest& r) {
         Message m;
         m.content.push_back({PartType::kText, "and?", "", "", ""});
         r.messages.push_back(m);
       }},
      {"message order", [](ChatRequest& r) { std::swap(r.messages[0], r.messages[1]); }},
      {"temperature", [](ChatRequest& r) { r.temperature = 0.7; }},
      {"temperature absent", [](ChatRequest& r) { r.temperature.reset(); }},
      {"top_p", [](ChatRequest& r) { r.top_p = 0.5; }},
      {"top_p absent", [](ChatRequest& r) { r.top_p.reset(); }},
      {"max_tokens", [](ChatRequest& r) { r.max_tokens = 101; }},
      {"max_tokens absent", [](ChatRequest& r) { r.max_tokens.reset(); }},
      {"n", [](ChatRequest& r) { r.n = 2; }},
      {"stop value", [](ChatRequest& r) { r.stop[1] = "HALT"; }},
      {"stop order", [](ChatRequest& r) { std::swap(r.stop[0], r.stop[1]); }},
      {"stop absent", [](ChatRequest& r) { r.stop.clear(); }},
      {"stop concatenation", [](ChatRequest& r) { r.stop = {"ENDSTOP"}; }},
      {"seed", [](ChatRequest& r) { r.seed = 8; }},
      {"seed absent", [](ChatRequest& r) { r.seed.reset(); }},
      {"tools",
       [](ChatRequest& r) {
         r.tools = R"([{"type":"function","function":{"name":"other","parameters":{}}}])";
       }},
      {"tools absent", [](ChatRequest& r) { r.tools.clear(); }},
      {"tool_choice", [](ChatRequest& r) { r.tool_choice = R"("required")"; }},
      {"response_format", [](ChatRequest& r) { r.response_format = R"({"type":"json_schema"})"; }},
      {"reasoning_effort", [](ChatRequest& r) { r.reasoning_effort = "high"; }},
      {"extra value", [](ChatRequest& r) { r.extra = R"({"frequency_penalty":0.6})"; }},
      {"extra new field",
       [](ChatRequest& r) {
         r.extra = R"({"frequency_penalty":0.5,"logit_bias":{"50256":-100}})";
       }},
      {"extra absent", [](ChatRequest& r) { r.extra.clear(); }},
  };
}

TEST(CacheKey, IsLowercaseHexSha256) {
  std::string k = Key(BaseRequest());
  ASSERT_EQ(k.size(), 64u);
  for (char c : k) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << k;
  EXPECT_EQ(k, Key(BaseRequest()));  // deterministic
}

TEST(CacheKey, EveryAnswerChangingParameterChangesTheKey) {
  std::map<std::string, std::string> seen;  // key -> mutation
  seen[Key(BaseRequest())] = "base";
  for (const Mutation& m : AnswerChanging()) {
    ChatRequest r = BaseRequest();
    m.apply(r);
    std::string k = Key(r);
    auto [it, inserted] = seen.emplace(k, m.name);
    EXPECT_TRUE(inserted) << m.name << " gives the same key as " << it->second;
  }
}

TEST(CacheKey, FieldsThatDoNotChangeTheAnswerAreNotKeyed) {
  const std::string base = Key(BaseRequest());
  std::vector<Mutation> same = {
      {"caller's model alias", [](ChatRequest& r) { r.model = "other-alias"; }},
      {"user", [](ChatRequest& r) { r.user = "someone"; }},
      {"stream", [](ChatRequest& r) { r.stream = true; }},
      {"include_usage", [](ChatRequest& r) { r.include_usage = true; }},
      {"max_completion_tokens spelling",
       [](ChatRequest& r) { r.max_completion_tokens_field = true; }},
      {"content as string", [](ChatRequest& r) { r.messages[0].content_is_string = false; }},
      {"n absent is 1 (explicit 1)", [](ChatRequest& r) { r.n = 1; }},
      {"metadata value in extra",
       [](ChatRequest& r) { r.extra = R"({"frequency_penalty":0.5,"metadata":{"x":1}})"; }},
      {"metadata absent from extra",
       [](ChatRequest& r) { r.extra = R"({"frequency_penalty":0.5})"; }},
      {"unkeyed extras",
       [](ChatRequest& r) {
         r.extra = R"({"user":"u","store":true,"stream":true,"service_tier":"flex",)"
                   R"("stream_options":{"x":1},"cache":{"ttl":5},"frequency_penalty":0.5,)"
                   R"("prompt_cache_key":"k","safety_identifier":"s"})";
       }},
      {"extra key order and whitespace",
       [](ChatRequest& r) {
         r.extra = R"({ "metadata" : {"a":"b"},  "frequency_penalty" : 0.5 })";
       }},
      {"tools key order and whitespace",
       [](ChatRequest& r) {
         r.tools = R"([ {"function": {"parameters": {"type": "object"}, "name": "lookup"},
                        "type": "function"} ])";
       }},
      {"response_format whitespace",
       [](ChatRequest& r) { r.response_format = "{\n  \"type\" : \"json_object\"\n}"; }},
      {"tool_choice whitespace", [](ChatRequest& r) { r.tool_choice = R"( "auto" )"; }},
      {"negative zero temperature", [](ChatRequest& r) { r.temperature = -0.0; }},
  };
  for (const Mutation& m : same) {
    ChatRequest r = BaseRequest();
    m.apply(r);
    EXPECT_EQ(Key(r), base) << m.name;
  }
}

TEST(CacheKey, EmptyStopEqualsAbsentAndNAbsentEqualsOne) {
  ChatRequest a = BaseRequest();
  a.stop.clear();
  a.n.reset();
  ChatRequest b = a;
  b.n = 1;
  EXPECT_EQ(Key(a), Key(b));
  b.n = 3;
  EXPECT_NE(Key(a), Key(b));
}

TEST(CacheKey, OnlyUnkeyedExtrasEqualsNoExtras) {
  ChatRequest a = BaseRequest();
  a.extra.clear();
  ChatRequest b = BaseRequest();
  b.extra = R"({"metadata":{"a":1},"user":"x"})";
  EXPECT_EQ(Key(a), Key(b));
}

TEST(CacheKey, TenantNamespaceProviderModelAndKindSeparateKeys) {
  ChatRequest r = BaseRequest();
  std::vector<std::string> keys = {
      Key(r),
      Key(r, "t2"),
      Key(r, ""),
      Key(r, "t1", "ns"),
      Key(r, "t1", "", "azure"),
      Key(r, "t1", "", "openai", "gpt-4o"),
      Key(r, "t1", "", "openai", "gpt-4o-mini", "completion"),
      // Moving a byte between adjacent components must not collide.
      Key(r, "t1n", "s"),
      Key(r, "t", "1ns"),
  };
  for (size_t i = 0; i < keys.size(); ++i) {
    for (size_t j = i + 1; j < keys.size(); ++j) EXPECT_NE(keys[i], keys[j]) << i << " vs " << j;
  }
}

TEST(CacheKey, DataUrlKeyedByDecodedBytes) {
  auto with_url = [](std::string url) {
    ChatRequest r = BaseRequest();
    r.messages[1].content[1].url = std::move(url);
    return Key(r);
  };
  // "hello world!" in base64, wrapped differently.
  std::string plain = with_url("data:image/png;base64,aGVsbG8gd29ybGQh");
  EXPECT_EQ(plain, with_url("data:image/png;base64,aGVsbG8g\nd29y\r\nbGQh"));
  EXPECT_EQ(plain, with_url("DATA:IMAGE/PNG;BASE64,aGVsbG8gd29ybGQh"));
  EXPECT_NE(plain, with_url("data:image/png;base64,aGVsbG8gd29ybGQi"));   // other bytes
  EXPECT_NE(plain, with_url("data:image/jpeg;base64,aGVsbG8gd29ybGQh"));  // other type
  // Padding is optional; invalid base64 falls back to the text digest, still distinct.
  EXPECT_EQ(with_url("data:image/png;base64,aGk="), with_url("data:image/png;base64,aGk"));
  EXPECT_NE(with_url("data:image/png;base64,a*Gk="), with_url("data:image/png;base64,aGk="));
  EXPECT_NE(with_url("data:image/png;base64,a*Gk="), with_url("data:image/png;base64,a*Gl="));
}

TEST(CacheKey, InvalidJsonIsKeyedRaw) {
  ChatRequest a = BaseRequest();
  a.tools = "[not json";
  ChatRequest b = BaseRequest();
  b.tools = "[not  json";
  EXPECT_NE(Key(a), Key(b));
  EXPECT_NE(Key(a), Key(BaseRequest()));
}

TEST(NormalizeJson, SortsKeysRecursivelyAndDropsWhitespace) {
  EXPECT_EQ(NormalizeJson(R"( {"b": [ {"z":1, "a":2} ], "a": "x\u0041"} )"),
            R"({"a":"xA","b":[{"a":2,"z":1}]})");
  EXPECT_EQ(NormalizeJson("not json"), "not json");
  EXPECT_EQ(NormalizeJson("[3,1,2]"), "[3,1,2]");  // arrays keep their order
}

EmbeddingRequest BaseEmbedding() {
  EmbeddingRequest r;
  r.model = "embed";
  r.inputs = {"a", "b"};
  r.dimensions = 256;
  r.encoding_format = "float";
  return r;
}

std::string EKey(const EmbeddingRequest& r, std::string_view tenant = "t1",
                 std::string_view model = "text-embedding-3-small") {
  return EmbeddingCacheKey({.tenant = tenant, .provider = "openai", .model = model, .request = r});
}

TEST(EmbeddingCacheKey, AnswerChangingFieldsChangeTheKey) {
  std::map<std::string, std::string> seen;
  seen[EKey(BaseEmbedding())] = "base";
  std::vector<std::pair<std::string, std::function<void(EmbeddingRequest&)>>> muts = {
      {"input text", [](EmbeddingRequest& r) { r.inputs[0] = "c"; }},
      {"input order", [](EmbeddingRequest& r) { std::swap(r.inputs[0], r.inputs[1]); }},
      {"inputs joined", [](EmbeddingRequest& r) { r.inputs = {"ab"}; }},
      {"dimensions", [](EmbeddingRequest& r) { r.dimensions = 512; }},
      {"dimensions absent", [](EmbeddingRequest& r) { r.dimensions.reset(); }},
      {"encoding", [](EmbeddingRequest& r) { r.encoding_format = "base64"; }},
      {"task type", [](EmbeddingRequest& r) { r.task_type = "RETRIEVAL_QUERY"; }},
  };
  for (auto& [name, apply] : muts) {
    EmbeddingRequest r = BaseEmbedding();
    apply(r);
    auto [it, inserted] = seen.emplace(EKey(r), name);
    EXPECT_TRUE(inserted) << name << " collides with " << it->second;
  }
  EXPECT_NE(EKey(BaseEmbedding(), "t2"), EKey(BaseEmbedding()));
  EXPECT_NE(EKey(BaseEmbedding(), "t1", "other"), EKey(BaseEmbedding()));
}

TEST(EmbeddingCacheKey, UnkeyedFields) {
  EmbeddingRequest r = BaseEmbedding();
  r.user = "u";
  r.input_is_string = false;
  r.model = "alias";
  EXPECT_EQ(EKey(r), EKey(BaseEmbedding()));
  r.encoding_format.clear();  // the default
  EXPECT_EQ(EKey(r), EKey(BaseEmbedding()));
}

TEST(EmbeddingCacheKey, NeverEqualsAChatKey) {
  ChatRequest c;
  EmbeddingRequest e;
  EXPECT_NE(Key(c, "", "", "", ""),
            EmbeddingCacheKey({.tenant = "", .provider = "", .model = "", .request = e}));
}

}  // namespace
}  // namespace modelmux::cache

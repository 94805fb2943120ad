#include "dialects/openai/embeddings.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "dialects/openai/openai.hpp"

namespace modelmux::dialects::openai {
namespace {

Error DecodeError(std::string_view body) {
  auto r = DecodeEmbeddingRequest(body);
  EXPECT_FALSE(r.ok()) << body;
  return r.ok() ? Error{} : r.error();
}

TEST(OpenAiEmbeddingsDecode, OneString) {
  auto r = DecodeEmbeddingRequest(R"({"model":"text-embedding-3-small","input":"hello"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->model, "text-embedding-3-small");
  ASSERT_EQ(r->inputs.size(), 1u);
  EXPECT_EQ(r->inputs[0], "hello");
  EXPECT_TRUE(r->input_is_string);
  EXPECT_FALSE(r->dimensions.has_value());
  EXPECT_EQ(r->encoding_format, "");
}

TEST(OpenAiEmbeddingsDecode, ArrayAndOptions) {
  auto r = DecodeEmbeddingRequest(
      R"({"model":"m","input":["a","b c"],"dimensions":256,"encoding_format":"base64",)"
      R"("user":"u-1","task_type":"retrieval_query","some_vendor_field":{"x":1}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->inputs, (std::vector<std::string>{"a", "b c"}));
  EXPECT_FALSE(r->input_is_string);
  EXPECT_EQ(r->dimensions, 256);
  EXPECT_EQ(r->encoding_format, "base64");
  EXPECT_EQ(r->user, "u-1");
  EXPECT_EQ(r->task_type, "retrieval_query");
}

TEST(OpenAiEmbeddingsDecode, NullsMeanAbsent) {
  auto r = DecodeEmbeddingRequest(
      R"({"model":"m","input":"x","dimensions":null,"encoding_format":null,"stream":false})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->dimensions.has_value());
  EXPECT_EQ(r->encoding_format, "");
}

TEST(OpenAiEmbeddingsDecode, TokenArraysAreRefusedNamingInput) {
  for (std::string_view body :
       {R"({"model":"m","input":[1,2,3]})", R"({"model":"m","input":[[1,2],[3]]})",
        R"({"model":"m","input":["ok",[5]]})"}) {
    Error e = DecodeError(body);
    EXPECT_EQ(e.kind, ErrorKind::kInvalidRequest) << body;
    EXPECT_EQ(e.HttpStatus(), 400);
    EXPECT_EQ(e.param, "input") << body;
    EXPECT_EQ(e.code, "unsupported_value") << body;
  }
}

TEST(OpenAiEmbeddingsDecode, EmptyInputsAreRefused) {
  for (std::string_view body : {R"({"model":"m","input":""})", R"({"model":"m","input":[]})",
                                R"({"model":"m","input":["a",""]})"}) {
    Error e = DecodeError(body);
    EXPECT_EQ(e.param, "input") << body;
    EXPECT_EQ(e.code, "invalid_value") << body;
  }
}

TEST(OpenAiEmbeddingsDecode, BadFieldsNameTheirParam) {
  struct Case {
    std::string_view body, param, code;
  };
  for (const Case& c : {
           Case{"not json", "", "invalid_json"},
           Case{"[1]", "", "invalid_json"},
           Case{R"({"input":"x"})", "model", "missing_required_parameter"},
           Case{R"({"model":5,"input":"x"})", "model", "invalid_type"},
           Case{R"({"model":"m"})", "input", "missing_required_parameter"},
           Case{R"({"model":"m","input":7})", "input", "invalid_type"},
           Case{R"({"model":"m","input":[true]})", "input", "invalid_type"},
           Case{R"({"model":"m","input":"x","dimensions":0})", "dimensions",
                "integer_below_min_value"},
           Case{R"({"model":"m","input":"x","dimensions":"8"})", "dimensions", "invalid_type"},
           Case{R"({"model":"m","input":"x","encoding_format":"int8"})", "encoding_format",
                "invalid_value"},
           Case{R"({"model":"m","input":"x","user":3})", "user", "invalid_type"},
           Case{R"({"model":"m","input":"x","stream":true})", "stream", "unsupported_value"},
       }) {
    Error e = DecodeError(c.body);
    EXPECT_EQ(e.kind, ErrorKind::kInvalidRequest) << c.body;
    EXPECT_EQ(e.param, c.param) << c.body;
    EXPECT_EQ(e.code, c.code) << c.body;
  }
}

TEST(OpenAiEmbeddingsDecode, TooManyInputs) {
  std::string body = R"({"model":"m","input":[)";
  for (size_t i = 0; i <= kMaxEmbeddingInputs; ++i) body += i ? ",\"a\"" : "\"a\"";
  body += "]}";
  Error e = DecodeError(body);
  EXPECT_EQ(e.param, "input");
  EXPECT_EQ(e.code, "array_above_max_length");
}

TEST(OpenAiEmbeddingsEncode, ResponseGolden) {
  EmbeddingResponse r;
  r.model = "text-embedding-3-small";
  r.data = {Embedding{0, {0.5f, -0.25f, 1e-8f}}, Embedding{1, {0.1f, 3.0f}}};
  r.prompt_tokens = 7;
  EXPECT_EQ(EncodeEmbeddingResponse(r, false),
            R"({"object":"list","data":[)"
            R"({"object":"embedding","index":0,"embedding":[0.5,-0.25,1e-08]},)"
            R"({"object":"embedding","index":1,"embedding":[0.1,3]}],)"
            R"("model":"text-embedding-3-small","usage":{"prompt_tokens":7,"total_tokens":7}})");
}

TEST(OpenAiEmbeddingsEncode, Base64IsLittleEndianFloat32) {
  // Reference values computed independently (Python: base64.b64encode(struct.pack('<ff', ...))).
  EXPECT_EQ(FloatsToBase64({1.0f}), "AACAPw==");
  EXPECT_EQ(FloatsToBase64({1.0f, -2.0f}), "AACAPwAAAMA=");
  EXPECT_EQ(FloatsToBase64({0.5f, 0.25f, -0.125f}), "AAAAPwAAgD4AAAC+");
  EmbeddingResponse r;
  r.model = "m";
  r.data = {Embedding{0, {1.0f, -2.0f}}};
  EXPECT_EQ(EncodeEmbeddingResponse(r, true),
            R"({"object":"list","data":[{"object":"embedding","index":0,)"
            R"("embedding":"AACAPwAAAMA="}],"model":"m","usage":{"prompt_tokens":0,)"
            R"("total_tokens":0}})");
  auto back = FloatsFromBase64("AAAAPwAAgD4AAAC+");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, (std::vector<float>{0.5f, 0.25f, -0.125f}));
  EXPECT_FALSE(FloatsFromBase64("AACA").ok());      // 3 bytes: not a float32
  EXPECT_FALSE(FloatsFromBase64("AA*APw==").ok());  // not base64
}

TEST(OpenAiEmbeddingsEncode, NonFiniteBecomesZero) {
  std::string out;
  AppendFloat(out, std::numeric_limits<float>::quiet_NaN());
  out += ',';
  AppendFloat(out, std::numeric_limits<float>::infinity());
  EXPECT_EQ(out, "0,0");
}

// Every float written to a caller reads back as the same bits, whichever way it travels.
TEST(OpenAiEmbeddingsRoundTrip, FloatsAreExact) {
  std::vector<float> values;
  uint32_t state = 12345;
  for (int i = 0; i < 5000; ++i) {
    state = state * 1664525u + 1013904223u;
    uint32_t bits = state;
    float f;
    std::memcpy(&f, &bits, sizeof(f));
    if (std::isfinite(f)) values.push_back(f);
  }
  values.push_back(std::numeric_limits<float>::denorm_min());
  values.push_back(std::numeric_limits<float>::max());
  values.push_back(-0.0f);
  values.push_back(0.1f);
  values.push_back(1.0f / 3.0f);
  for (bool base64 : {false, true}) {
    EmbeddingResponse r;
    r.model = "m";
    r.data = {Embedding{0, values}};
    auto back = DecodeEmbeddingResponse(EncodeEmbeddingResponse(r, base64));
    ASSERT_TRUE(back.ok()) << back.error().message;
    ASSERT_EQ(back->data.size(), 1u);
    ASSERT_EQ(back->data[0].vector.size(), values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      uint32_t a, b;
      std::memcpy(&a, &values[i], 4);
      std::memcpy(&b, &back->data[0].vector[i], 4);
      ASSERT_EQ(a, b) << "value " << values[i] << " base64=" << base64;
    }
  }
}

TEST(OpenAiEmbeddingsUpstream, EncodeGolden) {
  EmbeddingRequest one;
  one.model = "openai/text-embedding-3-small";
  one.inputs = {"hi \"there\""};
  EXPECT_EQ(EncodeEmbeddingRequest(one, "text-embedding-3-small"),
            R"({"model":"text-embedding-3-small","input":"hi \"there\""})");
  EmbeddingRequest many;
  many.inputs = {"a", "b"};
  many.input_is_string = false;
  many.dimensions = 64;
  many.encoding_format = "base64";
  many.user = "u";
  EXPECT_EQ(EncodeEmbeddingRequest(many, "e"),
            R"({"model":"e","input":["a","b"],"dimensions":64,"encoding_format":"base64",)"
            R"("user":"u"})");
}

TEST(OpenAiEmbeddingsUpstream, DecodeFloatsBase64AndOrder) {
  auto r = DecodeEmbeddingResponse(
      R"({"object":"list","data":[{"object":"embedding","index":1,"embedding":"AACAPw=="},)"
      R"({"object":"embedding","index":0,"embedding":[0.25,-1]}],"model":"text-embedding-3-small",)"
      R"("usage":{"prompt_tokens":5,"total_tokens":5}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->model, "text-embedding-3-small");
  EXPECT_EQ(r->prompt_tokens, 5);
  ASSERT_EQ(r->data.size(), 2u);
  EXPECT_EQ(r->data[0].index, 0);
  EXPECT_EQ(r->data[0].vector, (std::vector<float>{0.25f, -1.0f}));
  EXPECT_EQ(r->data[1].index, 1);
  EXPECT_EQ(r->data[1].vector, (std::vector<float>{1.0f}));
}

TEST(OpenAiEmbeddingsUpstream, DecodeRejectsMalformed) {
  for (std::string_view body :
       {"nope", R"({"object":"list"})", R"({"data":[3]})", R"({"data":[{"index":0}]})",
        R"({"data":[{"embedding":["x"]}]})", R"({"data":[{"embedding":"@@@@"}]})",
        R"({"data":[{"embedding":[1e39]}]})"}) {
    auto r = DecodeEmbeddingResponse(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().kind, ErrorKind::kUpstreamError) << body;
    EXPECT_EQ(r.error().code, "bad_upstream_response") << body;
  }
}

TEST(OpenAiEmbeddingsUpstream, ThroughTheDialectInterface) {
  EmbeddingRequest req;
  req.model = "sim/e";
  req.inputs = {"x"};
  auto call = OpenAiUpstream().EncodeEmbeddings(req, {"e", false, ""});
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->method, "POST");
  EXPECT_EQ(call->path, "/embeddings");
  EXPECT_EQ(call->body, R"({"model":"e","input":"x"})");
  auto decoded = OpenAiUpstream().DecodeEmbeddings(R"({"data":[{"embedding":[1.5]}]})");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->data.at(0).vector, (std::vector<float>{1.5f}));
}

}  // namespace
}  // namespace modelmux::dialects::openai

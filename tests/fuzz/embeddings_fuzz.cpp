// libFuzzer target: the embeddings parsers of untrusted bytes. The input is a caller's
// /v1/embeddings body (whatever is accepted must encode upstream and read back the same), and an
// upstream answer in the OpenAI, Gemini and Qianfan shapes (whatever decodes must re-encode for
// the caller and decode again to the same floats, bit for bit).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "dialects/gemini/embeddings.hpp"
#include "dialects/openai/embeddings.hpp"
#include "dialects/qianfan/embeddings.hpp"

using namespace modelmux;  // NOLINT
namespace oa = modelmux::dialects::openai;

namespace {

void CheckRoundTrip(const EmbeddingResponse& r) {
  for (bool base64 : {false, true}) {
    auto back = oa::DecodeEmbeddingResponse(oa::EncodeEmbeddingResponse(r, base64));
    if (!back.ok() || back->data.size() != r.data.size()) __builtin_trap();
    for (size_t i = 0; i < r.data.size(); ++i) {
      const auto& a = r.data[i].vector;
      const auto& b = back->data[i].vector;
      if (a.size() != b.size()) __builtin_trap();
      for (size_t k = 0; k < a.size(); ++k) {
        if (!std::isfinite(a[k])) continue;  // written as 0
        if (std::memcmp(&a[k], &b[k], sizeof(float)) != 0) __builtin_trap();
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  auto req = oa::DecodeEmbeddingRequest(in);
  if (req.ok()) {
    auto again = oa::DecodeEmbeddingRequest(oa::EncodeEmbeddingRequest(*req, "fuzz-model"));
    if (!again.ok() || again->inputs != req->inputs) __builtin_trap();
    (void)dialects::gemini::EncodeBatchEmbedRequest(*req, "fuzz-model");
    (void)dialects::qianfan::EncodeEmbeddingsRequest(*req);
  }
  if (auto r = oa::DecodeEmbeddingResponse(in); r.ok()) CheckRoundTrip(*r);
  if (auto r = dialects::gemini::DecodeBatchEmbedResponse(in); r.ok()) CheckRoundTrip(*r);
  if (auto r = dialects::qianfan::DecodeEmbeddingsResponse(in); r.ok()) CheckRoundTrip(*r);
  (void)oa::FloatsFromBase64(in);
  return 0;
}

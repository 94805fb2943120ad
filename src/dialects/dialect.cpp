#include "dialects/dialect.hpp"

namespace modelmux::dialects {

Error UnsupportedEmbeddings(std::string_view dialect) {
  Error e;
  e.kind = ErrorKind::kInvalidRequest;
  e.code = "embeddings_not_supported";
  e.param = "model";
  e.message = "the " + std::string(dialect) + " API has no embeddings endpoint; route " +
              "`model` to a provider that has one";
  return e;
}

Result<WireCall> UpstreamDialect::EncodeEmbeddings(const EmbeddingRequest& /*request*/,
                                                   const CallOptions& /*options*/) const {
  return UnsupportedEmbeddings(name());
}

Result<EmbeddingResponse> UpstreamDialect::DecodeEmbeddings(std::string_view /*body*/) const {
  return UnsupportedEmbeddings(name());
}

}  // namespace modelmux::dialects

#pragma once
// The OpenAI Batch API on the gateway: the HTTP side of batch/service.hpp.
//
//   POST   /v1/files                 multipart/form-data: purpose=batch, file=<JSONL>
//   GET    /v1/files                 ?purpose=&limit=&after=
//   GET    /v1/files/{id}            DELETE /v1/files/{id}
//   GET    /v1/files/{id}/content    the bytes (input, or a job's results / errors)
//   POST   /v1/batches               {input_file_id, endpoint, completion_window, metadata}
//   GET    /v1/batches               ?limit=&after=
//   GET    /v1/batches/{id}          POST /v1/batches/{id}/cancel
//
// Errors are Error values (the gateway encodes them in the OpenAI shape): 400 invalid_purpose,
// missing_file, invalid_multipart, invalid_jsonl, invalid_request (bad JSON or fields); 404 for an
// unknown id or another owner's. A method the route does not take is an answer (405 + allow).

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "batch/service.hpp"
#include "core/result.hpp"

namespace modelmux::gateway {

struct BatchApiRequest {
  std::string method;
  std::string path;
  std::string query;
  std::string content_type;
  std::string body;
  batch::Principal who;
  batch::ModelCheck model_ok;  // the caller's model scope (may be empty)
};

struct BatchApiAnswer {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string allow;  // for 405
};

// True for /v1/files, /v1/files/..., /v1/batches, /v1/batches/...
[[nodiscard]] bool IsBatchApiPath(std::string_view path);

boost::asio::awaitable<Result<BatchApiAnswer>> ServeBatchApi(
    std::shared_ptr<batch::BatchService> service, BatchApiRequest request);

}  // namespace modelmux::gateway

#pragma once
// OpenAI error bodies <-> the Error taxonomy. Pure, thread-safe.

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace modelmux::dialects::openai {

// Maps an upstream error response to an Error. Reads {"error":{message,type,param,code}} (code
// may be a string or a number); provider_code = code, else type. Kind: 429 + insufficient_quota
// -> kQuotaExhausted, other 429 -> kRateLimited; code context_length_exceeded -> kContextLength;
// content_filter -> kContentFilter; else KindForHttpStatus(status). A non-JSON body gives a
// message of its printable bytes (at most 512). Messages and codes are masked of secrets.
[[nodiscard]] Error DecodeError(int http_status, std::string_view body, std::string_view provider);

// {"error":{"message","type","param","code"}}: type = e.OpenAiType(), param null when empty,
// code = e.code, else e.provider_code, else null. The message is masked of secrets.
[[nodiscard]] std::string EncodeError(const Error& e);

}  // namespace modelmux::dialects::openai

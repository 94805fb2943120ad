#pragma once
// Tencent Cloud API 3.0 error bodies (as Hunyuan sends them) -> the Error taxonomy. Pure,
// thread-safe.
//
// Wire shapes: {"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"..."},
// "RequestId":"..."}}, normally with HTTP 200 (so successful-looking bodies are always
// inspected); and, inside a stream, a chunk with {"ErrorMsg":{"Code":4000,"Msg":"..."}}.

#include <optional>
#include <string_view>

#include "core/error.hpp"

namespace modelmux::dialects::hunyuan {

// A Tencent Cloud error code (dotted, e.g. "AuthFailure.SignatureExpire") mapped by its prefix:
//   AuthFailure.UnauthorizedOperation, UnauthorizedOperation*      -> kPermission
//   AuthFailure.*                                                 -> kAuthentication
//   LimitExceeded*, RequestLimitExceeded*,
//   FailedOperation.EngineServerLimitExceeded                     -> kRateLimited
//   ResourceInsufficient.ChargeResourceSoldOut, ResourceUnavailable.InArrears,
//   ResourceUnavailable.LowBalance, FailedOperation.ServiceStopArrears,
//   FailedOperation.FreeResourcePackExhausted, FailedOperation.ResourcePackExhausted -> kBilling
//   FailedOperation.ServiceNotActivated, FailedOperation.ServiceStop,
//   ResourceUnavailable.NotExist, ResourceUnavailable.StopUsing   -> kPermission
//   OperationDenied.*Illegal*, OperationDenied.*Sensitive*        -> kContentFilter
//   OperationDenied.*                                             -> kPermission
//   InvalidParameter*, MissingParameter*, UnknownParameter*, InvalidAction, InvalidRequest,
//   UnsupportedOperation*, UnsupportedProtocol, UnsupportedRegion -> kInvalidRequest
//   RequestSizeLimitExceeded                                      -> kPayloadTooLarge
//   ResourceNotFound*                                             -> kNotFound
//   FailedOperation.EngineRequestTimeout                          -> kTimeout
//   ServiceUnavailable, ResourceUnavailable*                      -> kUnavailable
//   InternalError*, FailedOperation* and anything else            -> kUpstreamError (502, retried)
[[nodiscard]] ErrorKind KindForErrorCode(std::string_view code);

// The Error for a body holding Response.Error (or a bare top-level Error) or ErrorMsg (nullopt
// for any other body): kind per KindForErrorCode (ErrorMsg 4001 -> kTimeout, other ErrorMsg
// codes -> kUpstreamError), provider "hunyuan", provider_code = the code verbatim, message =
// Message masked with text::MaskSecrets, upstream_status = http_status. Error::code stays empty,
// so callers see Tencent's own code (e.g. "AuthFailure.SignatureExpire") as the error code.
[[nodiscard]] std::optional<Error> ErrorFromBody(std::string_view body, int http_status);

// An answer with a non-2xx status: ErrorFromBody when the body carries one, else a kind from the
// status (KindForHttpStatus) with the body's printable prefix as message.
[[nodiscard]] Error DecodeError(int http_status, std::string_view body);

}  // namespace modelmux::dialects::hunyuan

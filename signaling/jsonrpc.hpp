// JSON-RPC 2.0 envelopes of the signaling protocol (shared/PROTOCOL.md,
// "Transport and envelope"): request validation, results, errors with
// data.reason, notifications. Pure functions over text; no I/O.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace sfu::signaling {

using Json = nlohmann::json;

// Error codes: JSON-RPC's own plus the protocol's 4xxx/5xxx.
enum class RpcCode : int {
  parse_error = -32700,
  invalid_request = -32600,
  method_not_found = -32601,
  invalid_params = -32602,
  internal_error = -32603,
  unauthorized = 4001,
  forbidden = 4003,
  not_found = 4004,
  bad_state = 4009,
  room_full = 4013,
  consumer_limit = 4014,  // this server: the peer consumes max_consumers_per_peer already
  rate_limited = 4029,
  bad_sdp = 4100,
  unavailable = 5003,
};

// How deep `text` nests objects and arrays (outside strings). nlohmann's
// parser and dump recurse, and a 64 KiB frame could nest ~32k levels:
// input is refused above kMaxJsonDepth before it is parsed.
size_t json_nesting_depth(std::string_view text);
inline constexpr size_t kMaxJsonDepth = 64;

// The data.reason for a 4xxx/5xxx code (always this one), or the default
// snake_case cause for a JSON-RPC code.
std::string_view default_reason(RpcCode code);

// An error a handler raises; turned into one JSON-RPC error reply at the
// session boundary (STYLE.md §9). `data` may add fields next to reason.
struct RpcError {
  RpcCode code;
  std::string message;
  std::string reason;  // empty: default_reason(code)
  Json data = Json::object();
};

// A validated request or notification.
struct RpcRequest {
  Json id;  // number or string; null for a notification
  bool is_notification = false;
  std::string method;
  Json params;  // always an object (absent params → {})
};

// Result of reading one text frame: a request, or the error to answer with
// (and the id to echo: the request's when it could be read, else null).
struct RpcParseFailure {
  RpcError error;
  Json id;
  bool is_notification = false;  // a broken notification gets no reply
};
using RpcParsed = std::variant<RpcRequest, RpcParseFailure>;

// Parses one text frame. Checks: valid JSON (-32700), a single object (a
// batch array or anything else is -32600), "jsonrpc":"2.0", "method" a
// string, "id" absent or a number or string, "params" absent or an object
// (-32600 otherwise; params of the wrong type are -32602).
RpcParsed parse_request(std::string_view text);

std::string make_result(const Json& id, const Json& result);
std::string make_error(const Json& id, const RpcError& error);
std::string make_notification(std::string_view method, const Json& params);

// Param readers for handlers: throw RpcError -32602 naming the field.
const std::string& require_string(const Json& params, const char* field);
std::optional<std::string> optional_string(const Json& params, const char* field);
bool optional_bool(const Json& params, const char* field, bool fallback);
int64_t require_int(const Json& params, const char* field, int64_t min, int64_t max);

}  // namespace sfu::signaling

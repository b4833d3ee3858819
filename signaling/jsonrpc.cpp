#include "signaling/jsonrpc.hpp"

namespace sfu::signaling {

std::string_view default_reason(RpcCode code) {
  switch (code) {
    case RpcCode::parse_error: return "parse_error";
    case RpcCode::invalid_request: return "invalid_request";
    case RpcCode::method_not_found: return "method_not_found";
    case RpcCode::invalid_params: return "invalid_params";
    case RpcCode::internal_error: return "internal_error";
    case RpcCode::unauthorized: return "unauthorized";
    case RpcCode::forbidden: return "forbidden";
    case RpcCode::not_found: return "not_found";
    case RpcCode::bad_state: return "bad_state";
    case RpcCode::room_full: return "room_full";
    case RpcCode::consumer_limit: return "consumer_limit";
    case RpcCode::rate_limited: return "rate_limited";
    case RpcCode::bad_sdp: return "bad_sdp";
    case RpcCode::unavailable: return "unavailable";
  }
  return "error";
}

namespace {

RpcParseFailure failure(RpcCode code, std::string message, Json id = nullptr, bool notification = false) {
  return RpcParseFailure{RpcError{code, std::move(message), "", Json::object()}, std::move(id), notification};
}

bool valid_id(const Json& id) { return id.is_number_integer() || id.is_number_unsigned() || id.is_string() || id.is_number_float(); }

}  // namespace

size_t json_nesting_depth(std::string_view text) {
  size_t depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') max_depth = std::max(max_depth, ++depth);
    else if ((c == '}' || c == ']') && depth > 0) --depth;
  }
  return max_depth;
}

RpcParsed parse_request(std::string_view text) {
  if (json_nesting_depth(text) > kMaxJsonDepth) return failure(RpcCode::invalid_request, "JSON nested deeper than 64 levels");

  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return failure(RpcCode::parse_error, "frame is not valid JSON");
  if (doc.is_array()) return failure(RpcCode::invalid_request, "batches are not supported");
  if (!doc.is_object()) return failure(RpcCode::invalid_request, "a request must be a JSON object");

  Json id = nullptr;
  bool notification = true;
  if (auto it = doc.find("id"); it != doc.end()) {
    if (!valid_id(*it) && !it->is_null()) return failure(RpcCode::invalid_request, "id must be a number or a string");
    id = *it;
    notification = it->is_null();
  }
  auto jv = doc.find("jsonrpc");
  if (jv == doc.end() || !jv->is_string() || *jv != "2.0")
    return failure(RpcCode::invalid_request, "jsonrpc must be \"2.0\"", id, notification);
  auto m = doc.find("method");
  if (m == doc.end() || !m->is_string() || m->get_ref<const std::string&>().empty())
    return failure(RpcCode::invalid_request, "method must be a non-empty string", id, notification);
  RpcRequest req{id, notification, m->get<std::string>(), Json::object()};
  if (auto p = doc.find("params"); p != doc.end() && !p->is_null()) {
    if (!p->is_object()) return failure(RpcCode::invalid_params, "params must be an object", id, notification);
    req.params = std::move(*p);
  }
  return req;
}

// Objects are built key by key: brace-initialising a json from values that
// are themselves json can silently make arrays instead of objects.
namespace {
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }
}  // namespace

std::string make_result(const Json& id, const Json& result) {
  Json j = Json::object();
  j["jsonrpc"] = "2.0";
  j["id"] = id;
  j["result"] = result;
  return dump(j);
}

std::string make_error(const Json& id, const RpcError& e) {
  Json data = e.data.is_object() ? e.data : Json::object();
  data["reason"] = e.reason.empty() ? std::string(default_reason(e.code)) : e.reason;
  Json err = Json::object();
  err["code"] = int(e.code);
  err["message"] = e.message;
  err["data"] = std::move(data);
  Json j = Json::object();
  j["jsonrpc"] = "2.0";
  j["id"] = id;
  j["error"] = std::move(err);
  return dump(j);
}

std::string make_notification(std::string_view method, const Json& params) {
  Json j = Json::object();
  j["jsonrpc"] = "2.0";
  j["method"] = method;
  j["params"] = params;
  return dump(j);
}

namespace {
[[noreturn]] void bad_param(const char* field, const char* what) {
  Json data = Json::object();
  data["field"] = field;
  throw RpcError{RpcCode::invalid_params, std::string(field) + " " + what, "invalid_params", std::move(data)};
}
}  // namespace

const std::string& require_string(const Json& params, const char* field) {
  auto it = params.find(field);
  if (it == params.end() || !it->is_string()) bad_param(field, "must be a string");
  return it->get_ref<const std::string&>();
}

std::optional<std::string> optional_string(const Json& params, const char* field) {
  auto it = params.find(field);
  if (it == params.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) bad_param(field, "must be a string");
  return it->get<std::string>();
}

bool optional_bool(const Json& params, const char* field, bool fallback) {
  auto it = params.find(field);
  if (it == params.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) bad_param(field, "must be a boolean");
  return it->get<bool>();
}

int64_t require_int(const Json& params, const char* field, int64_t min, int64_t max) {
  auto it = params.find(field);
  if (it == params.end() || !it->is_number_integer()) bad_param(field, "must be an integer");
  const int64_t v = it->get<int64_t>();
  if (v < min || v > max) bad_param(field, "is out of range");
  return v;
}

}  // namespace sfu::signaling

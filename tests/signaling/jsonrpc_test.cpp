// JSON-RPC envelope rules from shared/PROTOCOL.md "Transport and envelope".
#include "signaling/jsonrpc.hpp"

#include <gtest/gtest.h>

namespace sfu::signaling {
namespace {

// By value: the parsed variant is a temporary at every call site.
RpcRequest ok(const RpcParsed& p) {
  EXPECT_TRUE(std::holds_alternative<RpcRequest>(p));
  return std::holds_alternative<RpcRequest>(p) ? std::get<RpcRequest>(p) : RpcRequest{};
}
RpcParseFailure bad(const RpcParsed& p) {
  EXPECT_TRUE(std::holds_alternative<RpcParseFailure>(p));
  return std::holds_alternative<RpcParseFailure>(p) ? std::get<RpcParseFailure>(p) : RpcParseFailure{};
}

TEST(JsonRpc, RequestWithNumberOrStringIdEchoedVerbatim) {
  auto a = ok(parse_request(R"({"jsonrpc":"2.0","id":7,"method":"join","params":{"room":"x"}})"));
  EXPECT_EQ(a.id, 7);
  EXPECT_FALSE(a.is_notification);
  EXPECT_EQ(a.method, "join");
  EXPECT_EQ(a.params["room"], "x");
  auto b = ok(parse_request(R"({"jsonrpc":"2.0","id":"abc-1","method":"leave"})"));
  EXPECT_EQ(b.id, "abc-1");
  EXPECT_TRUE(b.params.is_object());
  EXPECT_EQ(make_result(b.id, Json::object()), R"({"id":"abc-1","jsonrpc":"2.0","result":{}})");
}

TEST(JsonRpc, NotificationHasNoId) {
  auto n = ok(parse_request(R"({"jsonrpc":"2.0","method":"trickle","params":{}})"));
  EXPECT_TRUE(n.is_notification);
  auto f = bad(parse_request(R"({"jsonrpc":"2.0","method":5})"));
  EXPECT_TRUE(f.is_notification);  // a broken notification still gets no reply
}

TEST(JsonRpc, InvalidJsonIsParseErrorWithNullId) {
  auto f = bad(parse_request("{nope"));
  EXPECT_EQ(f.error.code, RpcCode::parse_error);
  EXPECT_TRUE(f.id.is_null());
  const Json reply = Json::parse(make_error(f.id, f.error));
  EXPECT_EQ(reply["error"]["code"], -32700);
  EXPECT_EQ(reply["error"]["data"]["reason"], "parse_error");
  EXPECT_TRUE(reply["id"].is_null());
}

TEST(JsonRpc, BatchesAndNonObjectsAreInvalidRequests) {
  for (const char* text : {R"([{"jsonrpc":"2.0","id":1,"method":"join"}])", "42", "\"join\"", "null", "[]"}) {
    auto f = bad(parse_request(text));
    EXPECT_EQ(f.error.code, RpcCode::invalid_request) << text;
  }
}

TEST(JsonRpc, EnvelopeFieldsAreChecked) {
  struct Case {
    const char* text;
    RpcCode code;
    Json id;
  } cases[] = {
      {R"({"id":1,"method":"join"})", RpcCode::invalid_request, 1},                       // no jsonrpc
      {R"({"jsonrpc":"1.0","id":1,"method":"join"})", RpcCode::invalid_request, 1},       // wrong version
      {R"({"jsonrpc":"2.0","id":1})", RpcCode::invalid_request, 1},                       // no method
      {R"({"jsonrpc":"2.0","id":1,"method":""})", RpcCode::invalid_request, 1},           // empty method
      {R"({"jsonrpc":"2.0","id":{},"method":"join"})", RpcCode::invalid_request, nullptr},  // object id
      {R"({"jsonrpc":"2.0","id":2,"method":"join","params":[1]})", RpcCode::invalid_params, 2},
      {R"({"jsonrpc":"2.0","id":"s","method":"join","params":"x"})", RpcCode::invalid_params, "s"},
  };
  for (const auto& c : cases) {
    auto f = bad(parse_request(c.text));
    EXPECT_EQ(f.error.code, c.code) << c.text;
    EXPECT_EQ(f.id, c.id) << c.text;  // id echoed whenever it can be read
  }
}

TEST(JsonRpc, DeepNestingIsRefusedWithoutRecursion) {
  std::string deep = R"({"jsonrpc":"2.0","id":1,"method":"relay","params":{"data":)";
  deep += std::string(20000, '[') + std::string(20000, ']') + "}}";
  auto f = bad(parse_request(deep));
  EXPECT_EQ(f.error.code, RpcCode::invalid_request);
  // Brackets inside strings do not count.
  std::string quoted = R"({"jsonrpc":"2.0","id":1,"method":"relay","params":{"data":")" + std::string(100, '[') + "\"}}";
  EXPECT_TRUE(std::holds_alternative<RpcRequest>(parse_request(quoted)));
}

TEST(JsonRpc, ErrorsCarryReasonAndData) {
  RpcError e{RpcCode::unavailable, "draining", "", Json::object()};
  e.data["retryUrl"] = "wss://b/ws";
  const Json reply = Json::parse(make_error(3, e));
  EXPECT_EQ(reply["error"]["code"], 5003);
  EXPECT_EQ(reply["error"]["data"]["reason"], "unavailable");
  EXPECT_EQ(reply["error"]["data"]["retryUrl"], "wss://b/ws");
  const Json tl = Json::parse(make_error(4, RpcError{RpcCode::invalid_request, "big", "too_large"}));
  EXPECT_EQ(tl["error"]["data"]["reason"], "too_large");
}

TEST(JsonRpc, ParamReaders) {
  const Json p = {{"room", "r"}, {"n", 5}, {"b", true}, {"bad", 1.5}};
  EXPECT_EQ(require_string(p, "room"), "r");
  EXPECT_EQ(optional_string(p, "missing"), std::nullopt);
  EXPECT_TRUE(optional_bool(p, "b", false));
  EXPECT_EQ(require_int(p, "n", 0, 10), 5);
  EXPECT_THROW(require_string(p, "n"), RpcError);
  EXPECT_THROW(require_int(p, "n", 6, 10), RpcError);
  EXPECT_THROW(require_int(p, "bad", 0, 10), RpcError);
  EXPECT_THROW(optional_bool(p, "room", false), RpcError);
  try {
    require_string(p, "zzz");
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code, RpcCode::invalid_params);
    EXPECT_EQ(e.data["field"], "zzz");
  }
}

TEST(JsonRpc, InvalidUtf8IsReplacedNotThrown) {
  Json params = {{"name", std::string("\xff\xfe", 2)}};
  EXPECT_NO_THROW(make_notification("peerJoined", params));
}

}  // namespace
}  // namespace sfu::signaling

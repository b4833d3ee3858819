#include "signaling/cluster_message.hpp"

#include <algorithm>
#include <array>

#include "signaling/auth.hpp"
#include "signaling/room.hpp"

namespace sfu::signaling {

namespace {

constexpr std::array<std::string_view, 10> kEventNames = {
    "peerJoined",        "peerLeft",           "producerAdded",       "producerRemoved", "producerPaused",
    "producerResumed",   "dataProducerAdded",  "dataProducerRemoved", "activeSpeaker",   "relay"};

// A string field of at most `max` bytes (ids: valid_cluster_id).
Result<std::string, std::string> string_field(const Json& data, const char* key, size_t max, bool id) {
  auto it = data.find(key);
  if (it == data.end() || !it->is_string()) return fail(std::string(key) + " must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (id ? !valid_cluster_id(s) : s.size() > max) return fail(std::string(key) + " is not valid");
  return s;
}

}  // namespace

std::string_view to_string(ClusterEvent e) { return kEventNames[size_t(e)]; }

std::optional<ClusterEvent> cluster_event_from(std::string_view name) {
  for (size_t i = 0; i < kEventNames.size(); ++i)
    if (kEventNames[i] == name) return ClusterEvent(i);
  return std::nullopt;
}

bool valid_cluster_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

Result<Json, std::string> checked_event_data(ClusterEvent event, const Json& data) {
  if (!data.is_object()) return fail(std::string("data must be an object"));
  Json out = Json::object();
  // Copies the listed fields, each checked; the first bad one fails.
  std::string error;
  auto copy = [&](const char* key, size_t max, bool id) {
    if (!error.empty()) return;
    auto v = string_field(data, key, max, id);
    if (!v) error = v.error();
    else out[key] = *v;
  };
  switch (event) {
    case ClusterEvent::peer_joined:
      copy("peerId", 0, true);
      copy("name", 256, false);
      break;
    case ClusterEvent::peer_left:
      copy("peerId", 0, true);
      break;
    case ClusterEvent::producer_added: {
      copy("producerId", 0, true);
      copy("peerId", 0, true);
      copy("kind", 5, false);
      copy("source", 64, false);
      if (!error.empty()) break;
      if (out["kind"] != "audio" && out["kind"] != "video") return fail(std::string("kind must be audio or video"));
      auto sim = data.find("simulcast");
      if (sim == data.end() || !sim->is_array() || sim->size() > 3 ||
          !std::all_of(sim->begin(), sim->end(), [](const Json& r) { return r.is_string() && valid_cluster_id(r.get_ref<const std::string&>()) && r.get_ref<const std::string&>().size() <= 16; }))
        return fail(std::string("simulcast must be up to 3 rids"));
      out["simulcast"] = *sim;
      auto paused = data.find("paused");
      if (paused == data.end() || !paused->is_boolean()) return fail(std::string("paused must be a boolean"));
      out["paused"] = *paused;
      break;
    }
    case ClusterEvent::producer_removed:
    case ClusterEvent::producer_paused:
    case ClusterEvent::producer_resumed:
      copy("producerId", 0, true);
      copy("peerId", 0, true);
      break;
    case ClusterEvent::data_producer_added:
    case ClusterEvent::data_producer_removed:
      copy("dataProducerId", 0, true);
      copy("peerId", 0, true);
      copy("label", 1024, false);
      break;
    case ClusterEvent::active_speaker: {
      copy("peerId", 0, true);
      auto level = data.find("audioLevel");
      if (level == data.end() || !level->is_number()) return fail(std::string("audioLevel must be a number"));
      out["audioLevel"] = *level;
      break;
    }
    case ClusterEvent::relay: {
      copy("from", 0, true);
      copy("to", 0, true);
      auto payload = data.find("data");
      if (payload == data.end()) return fail(std::string("data is required"));
      out["data"] = *payload;
      break;
    }
  }
  if (!error.empty()) return fail(std::move(error));
  return out;
}

std::string encode_cluster_message(const ClusterMessage& m, std::string_view secret) {
  Json body = Json::object();
  body["node"] = m.node;
  body["inst"] = m.instance;
  body["room"] = m.room;
  body["event"] = to_string(m.event);
  body["data"] = m.data;
  const std::string text = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return base64url_encode(hmac_sha256(secret, text)) + "." + text;
}

Result<ClusterMessage, std::string> decode_cluster_message(std::string_view wire, std::string_view secret) {
  if (wire.size() > kMaxClusterMessageBytes) return fail(std::string("message too large"));
  const size_t dot = wire.find('.');
  if (dot == std::string_view::npos) return fail(std::string("no MAC"));
  const auto mac = base64url_decode(wire.substr(0, dot));
  const std::string_view text = wire.substr(dot + 1);
  if (!mac || !constant_time_equal(*mac, hmac_sha256(secret, text))) return fail(std::string("bad MAC"));
  if (json_nesting_depth(text) > kMaxJsonDepth) return fail(std::string("JSON nested too deep"));
  Json body = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return fail(std::string("body is not a JSON object"));
  auto field = [&](const char* key) -> const std::string* {
    auto it = body.find(key);
    return it != body.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
  };
  const std::string *node = field("node"), *inst = field("inst"), *room = field("room"), *event = field("event");
  if (!node || !valid_cluster_id(*node)) return fail(std::string("node is not valid"));
  if (!inst || !valid_cluster_id(*inst)) return fail(std::string("inst is not valid"));
  if (!room || !valid_room_name(*room)) return fail(std::string("room is not valid"));
  auto ev = event ? cluster_event_from(*event) : std::nullopt;
  if (!ev) return fail(std::string("unknown event"));
  auto data = body.find("data");
  if (data == body.end()) return fail(std::string("data is required"));
  auto checked = checked_event_data(*ev, *data);
  if (!checked) return fail(std::string(*event) + ": " + checked.error());
  ClusterMessage m;
  m.node = *node;
  m.instance = *inst;
  m.room = *room;
  m.event = *ev;
  m.data = std::move(*checked);
  return m;
}

}  // namespace sfu::signaling

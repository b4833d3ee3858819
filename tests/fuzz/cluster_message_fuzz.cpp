// libFuzzer target for the messages between cluster nodes
// (signaling/cluster_message.hpp) and the room directory's entries
// (room_mirror.hpp). The input is tried as a whole wire message (the MAC
// check must refuse it), then signed with the test secret so the body
// parser sees it. A body that decodes must encode and decode to the same
// message, and apply to a mirror without trouble; the same text as a
// directory value must parse or be counted as malformed.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "signaling/auth.hpp"
#include "signaling/cluster_message.hpp"
#include "signaling/room_mirror.hpp"

using namespace sfu::signaling;

namespace {

constexpr std::string_view kSecret = "fuzzing-cluster-secret";

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)decode_cluster_message(text, kSecret);  // unsigned: refused, never trusted
  const std::string wire = base64url_encode(hmac_sha256(kSecret, text)) + "." + std::string(text);
  auto m = decode_cluster_message(wire, kSecret);
  if (m) {
    auto again = decode_cluster_message(encode_cluster_message(*m, kSecret), kSecret);
    check(again.ok());
    check(again->node == m->node && again->instance == m->instance && again->room == m->room &&
          again->event == m->event && again->data == m->data);
    RoomMirror mirror;
    (void)mirror.apply(*m);
    (void)mirror.apply(*m);
    (void)mirror.drop_node(m->node);
    check(mirror.nodes().empty());
  }
  uint64_t malformed = 0;
  const auto s = parse_room_snapshot({{"peer:p1", std::string(text)}, {"producer:pr1", std::string(text)},
                                      {"data:dp1", std::string(text)}},
                                     "self", &malformed);
  check(s.peers.size() + s.producers.size() + s.data_producers.size() + malformed <= 3);
  // What parsed is in its checked form already: checking again changes nothing.
  auto stable = [](ClusterEvent e, const std::map<std::string, RemoteEntry>& entries) {
    for (const auto& [id, entry] : entries) {
      auto again = checked_event_data(e, entry.json);
      check(again.ok() && *again == entry.json && directory_field(e, entry.json).ends_with(id));
    }
  };
  stable(ClusterEvent::peer_joined, s.peers);
  stable(ClusterEvent::producer_added, s.producers);
  stable(ClusterEvent::data_producer_added, s.data_producers);
  return 0;
}

// libFuzzer target for the DCEP codec (RFC 8832): any payload a peer could
// send with PPID 50. A message that parses must serialise back to exactly
// the same bytes (the parser accepts nothing it cannot reproduce), and the
// ChannelParams mapping must round-trip through the wire form too.
// Seeds in tests/fuzz/corpus/dcep/: an ACK and OPENs of every channel type.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/bytes.hpp"
#include "sctp/dcep.hpp"

using namespace sfu;
using namespace sfu::sctp;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes in(data, size);
  const auto msg = parse_dcep(in);
  if (!msg) return 0;
  if (msg->type == DcepMessage::Type::ack) {
    check(size == 1 && data[0] == kDcepAck);
    return 0;
  }
  const DataChannelOpen& open = msg->open;
  check(open.serialized_size() == size);
  std::vector<uint8_t> out(open.serialized_size());
  check(open.serialize_to(out));
  check(std::memcmp(out.data(), data, size) == 0);

  const ChannelParams params = to_params(open);
  const DataChannelOpen again = to_open(params);
  std::vector<uint8_t> out2(again.serialized_size());
  check(again.serialize_to(out2));
  const auto reparsed = parse_dcep(out2);
  check(reparsed.ok() && reparsed->type == DcepMessage::Type::open);
  check(to_params(reparsed->open) == params);
  return 0;
}

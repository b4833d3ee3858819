#include "sctp/stack.hpp"

#include <usrsctp.h>

#include <algorithm>
#include <limits>

namespace sfu::sctp {

namespace {

constexpr int64_t kClockRebaseUs = 5'000'000;

// Process-wide usrsctp settings, chosen for WebRTC peers (browsers run
// usrsctp or dcSCTP with similar values).
void configure_sysctls() {
  usrsctp_sysctl_set_sctp_ecn_enable(0);       // no ECN over DTLS/UDP
  usrsctp_sysctl_set_sctp_asconf_enable(0);    // one AF_CONN path, no address changes
  usrsctp_sysctl_set_sctp_auth_enable(0);      // DTLS already authenticates
  usrsctp_sysctl_set_sctp_pr_enable(1);        // RFC 3758 partial reliability (maxRetransmits, maxPacketLifeTime)
  usrsctp_sysctl_set_sctp_reconfig_enable(1);  // RFC 6525 stream reset (closing channels)
  usrsctp_sysctl_set_sctp_nrsack_enable(0);
  usrsctp_sysctl_set_sctp_pktdrop_enable(0);
  usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);  // ms
  usrsctp_sysctl_set_sctp_enable_sack_immediately(1);     // RFC 7053 I-bit
  // Retransmission timeouts (ms). RFC 4960's 1 s minimum is tuned for
  // kernels on shared links; data channels use a shorter one, as browsers do.
  usrsctp_sysctl_set_sctp_rto_initial_default(1000);
  usrsctp_sysctl_set_sctp_rto_min_default(200);
  usrsctp_sysctl_set_sctp_rto_max_default(10000);
  usrsctp_sysctl_set_sctp_init_rto_max_default(10000);
  // Send queue limit in chunks (default 512). Backpressure comes from
  // SO_SNDBUF (bytes) instead, so that small messages are not refused early.
  usrsctp_sysctl_set_sctp_max_chunks_on_queue(1u << 20);
}

}  // namespace

Stack& Stack::instance() {
  // Never destroyed: usrsctp may still call back during static destruction.
  static Stack* const stack = new Stack();
  return *stack;
}

Stack::Stack() {
  usrsctp_init_nothreads(0, &Stack::output, nullptr);
  configure_sysctls();
}

uintptr_t Stack::add(const Lock&, Mailbox* mailbox) {
  const uintptr_t id = next_id_++;
  mailboxes_.emplace(id, mailbox);
  usrsctp_register_address(reinterpret_cast<void*>(id));
  return id;
}

void Stack::remove(const Lock&, uintptr_t id) {
  if (mailboxes_.erase(id) != 0) usrsctp_deregister_address(reinterpret_cast<void*>(id));
}

void Stack::advance(const Lock&, Instant now) {
  const int64_t now_us = to_micros(now);
  if (!clock_us_) {
    clock_us_ = now_us;
    return;
  }
  if (now_us <= *clock_us_) {
    // Far behind: another clock altogether (a test's virtual clock after a
    // real one, or the reverse). Take it from here rather than stall every
    // timer until it catches up. Workers' real clocks differ by far less.
    if (*clock_us_ - now_us > kClockRebaseUs) clock_us_ = now_us;
    return;
  }
  const int64_t elapsed_ms = (now_us - *clock_us_) / 1000;
  if (elapsed_ms == 0) return;
  *clock_us_ += elapsed_ms * 1000;  // the sub-millisecond rest carries over
  usrsctp_handle_timers(uint32_t(std::min<int64_t>(elapsed_ms, std::numeric_limits<uint32_t>::max())));
}

Mailbox* Stack::find(uintptr_t id) const {
  const auto it = mailboxes_.find(id);
  return it == mailboxes_.end() ? nullptr : it->second;
}

// Called by usrsctp from inside a call we made, so the mutex is held.
int Stack::output(void* addr, void* buffer, size_t length, uint8_t /*tos*/, uint8_t /*set_df*/) {
  Mailbox* box = instance().find(reinterpret_cast<uintptr_t>(addr));
  if (box == nullptr) return 0;  // the association is gone: a late timer's packet
  if (box->packets.size() >= Mailbox::kMaxPackets) {
    ++box->packets_dropped;
    return 0;
  }
  box->packets.push(static_cast<const uint8_t*>(buffer), length);
  return 0;
}

// Called by usrsctp from inside a call we made, so the mutex is held.
void Stack::upcall(struct socket* /*sock*/, void* id, int /*flags*/) {
  if (Mailbox* box = instance().find(reinterpret_cast<uintptr_t>(id))) box->readable = true;
}

}  // namespace sfu::sctp

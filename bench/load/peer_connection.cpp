#include "bench/load/peer_connection.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bench/load/send_batch.hpp"

namespace sfu::load {

namespace {

constexpr Duration kFirstFrameCheck = milliseconds(10);
constexpr double kPacingFactor = 2.5;

std::optional<Instant> earliest(std::optional<Instant> a, std::optional<Instant> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

}  // namespace

PeerConnection::PeerConnection(PcKind kind, int participant, ice::IceCredentials local_ice,
                               std::shared_ptr<const dtls::Context> dtls_context, uint64_t seed, Instant joined)
    : kind_(kind), participant_(participant), seed_(seed), joined_(joined) {
  server::TransportConfig c;
  c.role = server::TransportRole::client;
  c.local_ice = std::move(local_ice);
  c.dtls_context = std::move(dtls_context);
  c.controlling_ice.seed = seed;
  transport_ = std::make_unique<server::Transport>(std::move(c));
}

PeerConnection::~PeerConnection() = default;

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) ::close(fd_);
}

UdpSocket& UdpSocket::operator=(UdpSocket&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    local_ = o.local_;
    o.fd_ = -1;
  }
  return *this;
}

Result<UdpSocket, std::string> UdpSocket::open(const std::string& bind_ip) {
  UdpSocket s;
  s.fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd_ < 0) return fail(std::string("socket: ") + std::strerror(errno));
  // Room for a key-frame burst of every layer in both directions.
  const int buf = 1 << 20;
  ::setsockopt(s.fd_, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  ::setsockopt(s.fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (::inet_pton(AF_INET, bind_ip.c_str(), &addr.sin_addr) != 1) return fail("bad bind address " + bind_ip);
  addr.sin_port = 0;
  if (::bind(s.fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return fail(std::string("bind ") + bind_ip + ": " + std::strerror(errno));
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  if (::getsockname(s.fd_, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
    return fail(std::string("getsockname: ") + std::strerror(errno));
  }
  auto local = ice::from_sockaddr(bound);
  if (!local) return fail(std::string("getsockname: not IPv4"));
  s.local_ = *local;
  return s;
}

void PeerConnection::set_remote(Instant now, const RemoteTransport& remote) {
  if (remote_set_) return;
  remote_set_ = true;
  // Our offers say actpass and our answers active: the remote's answer
  // decides only when it says active (then we are the DTLS server).
  if (remote.setup == signaling::sdp::Setup::active) transport_->set_dtls_role(dtls::Role::server);
  // The send PC offers: controlling. The receive PC answers the server's
  // offer: controlled unless the server is ICE-lite (ours; Janus is full).
  transport_->set_ice_controlling(kind_ == PcKind::send || remote.ice_lite);
  transport_->set_remote_parameters(remote.ice_ufrag, remote.ice_pwd, remote.fingerprint);
  for (const auto& c : remote.candidates) {
    transport_->add_remote_candidate(ice::Path{0, c.address}, c.priority);
  }
  transport_->start(now);
}

void PeerConnection::set_publisher(const client::PublisherConfig& config) {
  if (publisher_) return;
  publisher_.emplace(config);
  uint64_t bps = 0;
  if (config.video.enabled) {
    for (const auto& l : config.video.layers) bps += l.target_bps;
  }
  if (config.audio.enabled) bps += 50 * 8 * (config.audio.payload_size + 40);
  pacer_.set_rate(kPacingFactor * double(bps) / 8);
}

void PeerConnection::send_paced(Instant now, SendBatch& batch) {
  pacer_next_.reset();
  while (pacer_.may_send(now)) {
    auto p = publisher_->poll_rtp();
    if (!p) {
      pacer_.on_idle();
      return;
    }
    batch.add_rtp(*transport_, *p);
    pacer_.on_sent(p->size());
  }
  pacer_.on_out_of_budget();
  pacer_next_ = pacer_.next_send();
}

void PeerConnection::update_tracks(const std::vector<RemoteTrack>& tracks, uint8_t transport_cc_ext_id) {
  // The subscriber is made with the first offer that has tracks: an offer
  // with only the application section has no transport-cc id yet.
  if (!subscriber_ && tracks.empty()) return;
  if (!subscriber_) {
    client::SubscriberConfig c;
    c.rtcp_ssrc = uint32_t(seed_ * 2654435761u) | 1u;
    c.cname = "load-" + std::to_string(participant_);
    c.transport_cc_ext_id = transport_cc_ext_id;
    subscriber_.emplace(std::move(c));
  }
  // Drop the streams that went away, add the new ones.
  for (const auto& old : tracks_) {
    const bool kept = std::any_of(tracks.begin(), tracks.end(), [&](const RemoteTrack& t) { return t.ssrc == old.ssrc; });
    if (!kept) subscriber_->remove_stream(old.ssrc);
  }
  for (const auto& t : tracks) {
    const bool known = std::any_of(tracks_.begin(), tracks_.end(), [&](const RemoteTrack& o) { return o == t; });
    if (known) continue;
    client::ExpectedStream s;
    s.kind = t.kind;
    s.ssrc = t.ssrc;
    s.rtx_ssrc = t.rtx_ssrc;
    s.payload_type = t.payload_type;
    s.rtx_payload_type = t.rtx_payload_type;
    s.clock_rate = t.clock_rate;
    s.validate = full_check_;
    subscriber_->add_stream(s);
  }
  tracks_ = tracks;
  if (!first_frame_at_) next_first_frame_check_ = Instant{};
}

void PeerConnection::on_datagram(Instant now, const sockaddr_storage& from, MutBytes data) {
  ++sock_.datagrams_received;
  sock_.bytes_received += data.size();
  auto addr = ice::from_sockaddr(from);
  if (!addr) return;
  auto got = transport_->handle_datagram(now, ice::Path{0, *addr}, data);
  switch (got.kind) {
    case server::ReceivedMedia::Kind::rtp:
      if (!first_rtp_at_) first_rtp_at_ = now;
      if (subscriber_) subscriber_->handle_rtp(now, got.packet);
      break;
    case server::ReceivedMedia::Kind::rtcp:
      if (publisher_) publisher_->handle_rtcp(now, got.packet);
      if (subscriber_) subscriber_->handle_rtcp(now, got.packet);
      break;
    case server::ReceivedMedia::Kind::none:
      break;
  }
  drain_events(now);
}

void PeerConnection::drain_events(Instant now) {
  while (auto e = transport_->poll_event()) {
    if (e->type != server::TransportEvent::Type::state_changed) continue;
    if (e->state == server::TransportState::connected && !connected_at_) {
      connected_at_ = now;
      if (publisher_ && !publisher_started_) {
        publisher_started_ = true;
        publisher_->start(now);
      }
    } else if (e->state == server::TransportState::failed && !failed_) {
      failed_ = true;
      failure_ = "transport failed";
    }
  }
}

void PeerConnection::check_first_frame(Instant now) {
  if (first_frame_at_ || !subscriber_ || !first_rtp_at_) return;
  // A video frame when the offer has video (what a viewer waits for), else
  // an audio packet.
  const bool has_video = std::any_of(tracks_.begin(), tracks_.end(),
                                     [](const RemoteTrack& t) { return t.kind == server::media::MediaKind::video; });
  for (size_t i = 0; i < subscriber_->stream_count(); ++i) {
    auto st = subscriber_->stream_stats(subscriber_->stream_ssrc(i), now);
    if (!st) continue;
    const bool video = st->kind == server::media::MediaKind::video;
    const bool got = video ? st->first_frame_at.has_value() : !has_video && st->packets > 0;
    if (got) {
      // The frame's own completion time, not this periodic check's.
      first_frame_at_ = video ? *st->first_frame_at : now;
      next_first_frame_check_.reset();
      return;
    }
  }
}

void PeerConnection::on_timeout(Instant now) {
  if (auto t = transport_->poll_timeout(); t && *t <= now) transport_->handle_timeout(now);
  drain_events(now);
  if (publisher_ && publisher_started_) {
    if (auto t = publisher_->poll_timeout(); t && *t <= now) publisher_->handle_timeout(now);
  }
  if (next_first_frame_check_ && *next_first_frame_check_ <= now) {
    check_first_frame(now);
    if (!first_frame_at_) next_first_frame_check_ = now + kFirstFrameCheck;
  }
}

void PeerConnection::flush(Instant now, SendBatch& batch) {
  const auto path = transport_->send_path();
  bool begun = false;
  ice::Address current{};
  auto begin = [&](const ice::Address& to) {
    if (begun && current == to) return;
    batch.begin(socket_.fd(), to, sock_);
    begun = true;
    current = to;
  };
  while (auto tx = transport_->poll_transmit()) {
    begin(tx->path.remote);  // ICE checks go to every candidate
    batch.add_raw(tx->data);
  }
  if (transport_->state() == server::TransportState::connected && path) {
    begin(path->remote);
    if (publisher_) {
      send_paced(now, batch);
      while (auto p = publisher_->poll_rtcp()) batch.add_rtcp(*transport_, *p);
    }
    if (subscriber_) {
      while (auto p = subscriber_->poll_rtcp(now)) batch.add_rtcp(*transport_, *p);
    }
  }
  if (begun) batch.flush();
  deadline_ = compute_deadline();
}

std::optional<Instant> PeerConnection::compute_deadline() const {
  std::optional<Instant> t = transport_->poll_timeout();
  if (publisher_ && publisher_started_) t = earliest(t, publisher_->poll_timeout());
  if (subscriber_ && transport_->state() == server::TransportState::connected) t = earliest(t, subscriber_->poll_timeout());
  t = earliest(t, next_first_frame_check_);
  t = earliest(t, pacer_next_);
  return t;
}

void PeerConnection::stop_media() {
  if (publisher_) publisher_->stop();
}

}  // namespace sfu::load

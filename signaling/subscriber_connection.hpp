// A peer's subscriber connection (PROTOCOL.md "Session flow" 3): the
// server-owned PeerConnection the peer receives everyone else on, its
// consumers and data consumers, and the subscriberOffer / subscriberAnswer
// negotiation. The m-sections and the offer itself are pure
// (subscriber_sections.hpp); this class adds the transport, the timers and
// the media calls. Control thread only; owned by its Peer (peer.hpp).
//
//   stable ──change──► offer sent (awaiting answer) ──answer──► stable
//                         │  changes meanwhile are folded into the next offer
//                         └─ 20 s without an answer ──► kicked (negotiation_timeout)
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "signaling/jsonrpc.hpp"
#include "signaling/ws_session.hpp"
#include "signaling/room.hpp"
#include "signaling/sdp/sdp_model.hpp"
#include "signaling/subscriber_sections.hpp"

namespace sfu::signaling {

class Peer;

class SubscriberConnection {
 public:
  SubscriberConnection(Peer& peer, boost::asio::io_context& io);

  // Consumes `p` (a section for it, negotiated soon). False when the peer
  // is at max_consumers_per_peer.
  bool want(const std::shared_ptr<ProducerEntry>& p);
  void unwant(const std::string& producer_id);
  void want_data(const std::shared_ptr<DataProducerEntry>& dp);
  // Drops the consumer of that data producer (dataConsumerRemoved).
  void unwant_data(const std::string& data_producer_id);

  // subscribe / unsubscribe {producerIds, dataProducerIds}.
  Json subscribe(const Json& params, bool subscribe);
  // subscriberAnswer {sdp}.
  void answer(const Json& params, const Reply& reply);
  Json set_preferred_layers(const Json& params);
  Json pause_consumer(const Json& params, bool pause);
  Json restart_ice();
  // Consumer layer changes and data consumers the router closed.
  void on_media_event(const server::MediaEvent& e);
  // No more negotiation (the peer is leaving).
  void stop();

  const std::optional<server::TransportInfo>& transport() const { return transport_; }
  const SubscriberSections& sections() const { return sections_; }
  size_t data_consumer_count() const { return data_consumers_.size(); }

 private:
  struct DataConsumerEntry {
    std::string id;  // "dc_..."
    server::DataConsumerId num = 0;
    std::shared_ptr<DataProducerEntry> producer;
    bool created = false;  // exists on the router (once the subscriber accepted SCTP)
  };

  void schedule_negotiation();
  void negotiate();
  void ensure_transport();
  void send_offer();
  void on_negotiation_timeout();
  void create_accepted_consumers(const sdp::SessionDescription& answer);
  void on_data_answer(const sdp::SessionDescription& answer);
  void create_data_consumer(DataConsumerEntry& c);

  Peer& peer_;
  std::optional<server::TransportInfo> transport_;
  bool transport_pending_ = false;
  bool remote_known_ = false;
  std::string remote_ufrag_;
  SubscriberSections sections_;  // m-sections and offer/answer state
  std::set<std::string> wanted_;  // producer ids consumed
  bool sctp_ = false;             // the answer accepted the SCTP section
  std::vector<DataConsumerEntry> data_consumers_;
  bool negotiation_scheduled_ = false;
  boost::asio::steady_timer negotiation_timer_;
  boost::asio::steady_timer answer_timer_;
};

}  // namespace sfu::signaling

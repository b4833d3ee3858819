// The subscriber connection's negotiation state, without I/O: its
// m-sections (one per consumer, plus the SCTP section), the offers built
// from them and what an answer accepted (JSEP, RFC 8829; PROTOCOL.md
// "Session flow" 3). SubscriberConnection drives it (subscriber_connection.hpp): it decides
// when to offer (changes folded over 50 ms, never while an offer is
// outstanding) and runs the 20 s answer timer.
//
//   stable ──mark_changed──► changed ──make_offer──► offer outstanding ──answered──► stable
//                                 ▲                     │ changes meanwhile
//                                 └─────────────────────┘ wait for the next offer
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "server/ids.hpp"
#include "server/room_api.hpp"
#include "signaling/jsonrpc.hpp"
#include "signaling/room.hpp"
#include "signaling/sdp/sdp_model.hpp"

namespace sfu::signaling {

// One m-section of the subscriber connection. A removed consumer's section
// is offered with port 0; once an answer has accepted that, the section is
// recycled for the next new consumer, with a new mid (JSEP §5.2.2: a
// rejected m-section may be reused; mids are never reused). So the offer
// stays bounded by the live consumers, whatever the churn:
//   live ──unwant──► closed ──offer (port 0) answered──► reusable ──want──► live (new mid)
// A new section is appended only when none is reusable, so an offer holds
// at most the live consumers, those of the previous offer being removed and
// those of the one before whose removal awaits its answer: 3 × live + 1
// (the application section).
struct SubscriberSection {
  std::string mid;
  server::media::MediaKind kind = server::media::MediaKind::video;
  std::shared_ptr<ProducerEntry> producer;  // null once removed
  std::string consumer_id;                  // "c_..."
  server::ConsumerId consumer_num = 0;
  uint32_t ssrc = 0, rtx_ssrc = 0;
  bool paused = false;
  int preferred_spatial = 2, preferred_temporal = 3;  // setPreferredLayers, kept for creation
  int current_spatial = -1, current_temporal = -1;    // as the worker last reported (consumerLayersChanged)
  bool closed = false;
  bool created = false;      // the consumer exists on the router (once an answer accepted it)
  bool application = false;  // the SCTP (data channel) section, not a consumer
  // The mid this position had in the latest offer sent; empty for a section
  // the client has never seen. Differs from `mid` only while a recycled
  // section's new consumer has not been offered yet.
  std::string known_mid;
  uint64_t closed_in_offer = 0;  // the offer version that first carried it closed
  bool reusable = false;         // its removal is answered: free for a new consumer
};

class SubscriberSections {
 public:
  // The SCTP (data channel) section "0", first and never rejected: the
  // BUNDLE tag stays the same when every consumer is gone (a max-bundle
  // client needs a group, and Chrome rebuilds its DTLS transport when the
  // tag moves).
  void ensure_application();
  // A section for a new consumer: a reusable one (its removal answered) or
  // one the client has never seen, else a new one at the end; always with
  // a fresh mid and nothing of the old consumer but the position's known
  // mid. The caller fills in the consumer.
  SubscriberSection& add();
  // Sections with a live consumer.
  size_t live() const;
  // Closes every live section of `producer_id`, calling on_close(section)
  // for each first (the consumer goes). True when one was closed.
  template <class F>
  bool remove_producer(const std::string& producer_id, F&& on_close) {
    bool any = false;
    for (auto& s : sections_) {
      if (s.closed || s.application || !s.producer || s.producer->id != producer_id) continue;
      on_close(s);
      close(s);
      any = true;
    }
    return any;
  }
  // A live consumer's section, or nullptr.
  SubscriberSection* find(const std::string& consumer_id);
  std::vector<SubscriberSection>& sections() { return sections_; }
  const std::vector<SubscriberSection>& sections() const { return sections_; }

  // Something changed since the last offer.
  void mark_changed() { changed_ = true; }
  bool changed() const { return changed_; }
  bool offer_outstanding() const { return outstanding_; }
  uint64_t offer_version() const { return offer_version_; }

  // The next subscriberOffer: the SDP (every section in order on
  // `transport`, removed ones with port 0) and its consumers list
  // (PROTOCOL.md). Sections added and removed since the last offer are
  // dropped first, and new ones sit after those the client knows, so no
  // known m-line moves (JSEP §5.2.2). The offer is then outstanding.
  struct Offer {
    sdp::SessionDescription description;
    Json consumers = Json::array();
  };
  Offer make_offer(uint64_t session_id, const server::TransportInfo& transport);
  // The live sections the answer accepted (port != 0) whose consumer does
  // not exist yet: create them now, and mark them created.
  std::vector<SubscriberSection*> accepted(const sdp::SessionDescription& answer);
  // The outstanding offer is answered: sections whose removal it carried
  // are free for new consumers.
  void answered();

 private:
  void close(SubscriberSection& s);

  std::vector<SubscriberSection> sections_;
  uint64_t next_mid_ = 1;  // "0" is the application section
  uint64_t offer_version_ = 0;
  bool outstanding_ = false;
  bool changed_ = false;
};

}  // namespace sfu::signaling

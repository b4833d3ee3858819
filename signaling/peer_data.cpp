// Data channels (PROTOCOL.md "Data channels"): the m=application section of
// both connections, data producers (channels a peer opens on its publisher
// connection, reported by the router) and data consumers (channels the
// router opens on other peers' subscriber connections).
#include <algorithm>

#include "signaling/peer.hpp"
#include "signaling/sdp/sdp_session.hpp"

namespace sfu::signaling {

namespace {

constexpr uint16_t kDefaultSctpPort = 5000;
constexpr uint64_t kDefaultMaxMessageSize = 65536;  // RFC 8841 §6.1: absent attribute

Json consumer_json(const std::string& consumer_id, const DataProducerEntry& dp) {
  Json j = Json::object();
  j["dataConsumerId"] = consumer_id;
  j["dataProducerId"] = dp.id;
  j["peerId"] = dp.peer_id;
  j["label"] = dp.label;
  return j;
}

}  // namespace

bool Peer::answer_data_section(const sdp::MediaSection& offered, sdp::MediaSection& answer) {
  if (!offered.in_use() || !offered.mid || !is_data_section(offered) || !grants_.publish_data || !pub_transport_)
    return false;
  answer.protocol = offered.protocol;
  answer.formats = {"webrtc-datachannel"};
  answer.sctp_port = kDefaultSctpPort;
  answer.max_message_size = server::kSctpLocalMaxMessageSize;
  apply_transport(answer, *pub_transport_, sdp::Setup::passive);
  answer.rtcp_mux = false;
  if (!pub_sctp_) {
    pub_sctp_ = true;
    ctx_.rooms.media().enable_sctp(
        room_->id(), server::SctpSpec{pub_transport_->id, offered.sctp_port.value_or(kDefaultSctpPort),
                                      offered.max_message_size.value_or(kDefaultMaxMessageSize)});
  }
  return true;
}

void Peer::on_subscriber_data_answer(const sdp::SessionDescription& answer) {
  if (sub_sctp_ || !sub_transport_) return;
  for (const auto& m : answer.media) {
    if (!m.mid || *m.mid != "0") continue;
    if (m.port == 0 || !is_data_section(m)) return;
    sub_sctp_ = true;
    ctx_.rooms.media().enable_sctp(room_->id(),
                                   server::SctpSpec{sub_transport_->id, m.sctp_port.value_or(kDefaultSctpPort),
                                                    m.max_message_size.value_or(kDefaultMaxMessageSize)});
    for (auto& c : data_consumers_) create_data_consumer(c);
    return;
  }
}

void Peer::on_data_producer_added(const std::shared_ptr<DataProducerEntry>& dp) {
  if (!left_ && auto_subscribe_ && grants_.subscribe) want_data(dp);
}

void Peer::want_data(const std::shared_ptr<DataProducerEntry>& dp) {
  if (dp->peer_id == id_) return;
  for (const auto& c : data_consumers_)
    if (c.producer->id == dp->id) return;
  DataConsumerEntry c;
  c.id = ctx_.rooms.ids().next("dc");
  c.num = ctx_.rooms.ids().next_number();
  c.producer = dp;
  data_consumers_.push_back(std::move(c));
  if (sub_sctp_) return create_data_consumer(data_consumers_.back());
  // The first data consumer needs the SCTP association: the subscriber
  // offer's application section (PROTOCOL.md "Session flow" 3).
  sections_.ensure_application();
  sections_.mark_changed();
  schedule_negotiation();
}

void Peer::create_data_consumer(DataConsumerEntry& c) {
  if (c.created) return;
  c.created = true;
  ctx_.rooms.media().add_data_consumer(room_->id(),
                                       server::DataConsumerSpec{c.num, c.producer->num, sub_transport_->id, c.producer->peer_id});
  notify("dataConsumerAdded", consumer_json(c.id, *c.producer));
}

void Peer::unwant_data(const std::string& data_producer_id) {
  auto it = std::find_if(data_consumers_.begin(), data_consumers_.end(),
                         [&](const DataConsumerEntry& c) { return c.producer->id == data_producer_id; });
  if (it == data_consumers_.end()) return;
  if (it->created) {
    ctx_.rooms.media().close_data_consumer(room_->id(), it->num);
    notify("dataConsumerRemoved", consumer_json(it->id, *it->producer));
  }
  data_consumers_.erase(it);
}

void Peer::on_data_event(const server::MediaEvent& e) {
  if (left_ || !room_) return;
  if (const auto* opened = std::get_if<server::DataProducerOpenedEvent>(&e)) {
    if (!pub_transport_ || opened->transport != pub_transport_->id) return;
    auto entry = std::make_shared<DataProducerEntry>();
    entry->id = ctx_.rooms.ids().next("dp");
    entry->num = opened->producer;
    entry->peer_id = id_;
    entry->label = opened->params.label;
    room_->data_producers()[entry->id] = entry;
    my_data_producers_.push_back(entry->id);
    room_->announce("dataProducerAdded", entry->to_json());  // the owner too
    for (Peer* other : room_->peers())
      if (other != this) other->on_data_producer_added(entry);
  } else if (const auto* closed = std::get_if<server::DataProducerClosedEvent>(&e)) {
    if (!pub_transport_ || closed->transport != pub_transport_->id) return;
    for (const auto& id : my_data_producers_) {
      auto entry = room_->data_producers().find(id);
      if (entry != room_->data_producers().end() && entry->second->num == closed->producer) {
        close_data_producer(id);
        return;
      }
    }
  } else if (const auto* gone = std::get_if<server::DataConsumerClosedEvent>(&e)) {
    if (!sub_transport_ || gone->transport != sub_transport_->id) return;
    auto it = std::find_if(data_consumers_.begin(), data_consumers_.end(),
                           [&](const DataConsumerEntry& c) { return c.created && c.num == gone->consumer; });
    if (it == data_consumers_.end()) return;
    notify("dataConsumerRemoved", consumer_json(it->id, *it->producer));
    data_consumers_.erase(it);
  }
}

void Peer::close_data_producer(const std::string& data_producer_id) {
  if (!room_) return;
  auto it = room_->data_producers().find(data_producer_id);
  if (it == room_->data_producers().end()) return;
  const auto entry = it->second;
  ctx_.rooms.media().close_data_producer(room_->id(), entry->num);
  room_->data_producers().erase(it);
  std::erase(my_data_producers_, data_producer_id);
  for (Peer* other : room_->peers())
    if (other != this) other->unwant_data(entry->id);
  room_->announce("dataProducerRemoved", entry->to_json());
}

}  // namespace sfu::signaling

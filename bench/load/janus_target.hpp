// JanusTarget: the load generator's signaling for Janus' VideoRoom plugin
// (Janus 1.x, multistream), over Janus' WebSocket API (subprotocol
// "janus-protocol"), so the same scenarios run against Janus for comparison
// (bench/compare.sh, bench/janus/).
//
// Per participant: one WebSocket and one Janus session (keepalive every
// 25 s; Janus drops sessions idle for 60 s by default), and two handles on
// janus.plugin.videoroom:
//
//   publisher handle   create room (427 "already exists" is fine)
//                      join ptype:"publisher"  ─► joined {id, private_id, publishers[]}
//                      publish + jsep offer (rid_order "lmh")  ─► event + jsep answer
//                      events: publishers[] (new feeds), unpublished / leaving
//   subscriber handle  join ptype:"subscriber", streams:[{feed}...]  ─► attached + jsep offer
//                      subscribe streams:[{feed}] for later feeds   ─► updated + jsep offer
//                      start + jsep answer  ─► started
//
// Every participant joins as a publisher-type participant (that is how
// VideoRoom tells it about feeds) whether or not it publishes, and
// subscribes to every feed but its own. One subscription change is in
// flight at a time: feeds that appear meanwhile are batched into the next
// "subscribe". Candidates travel inside the SDP ("trickle": false both ways).
//
// Rooms are strings: the generated videoroom config sets string_ids (see
// bench/janus/janus-netns.sh). Runs on the load generator's control thread.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "bench/load/target.hpp"

namespace sfu::load {

struct LoadOptions;

struct JanusTargetOptions {
  std::string url = "ws://10.200.0.1:8188/";
  // Room settings used when a participant has to create the room.
  int max_publishers = 100;
  int bitrate_bps = 4'000'000;  // VideoRoom's per-publisher cap (REMB); high so it never binds
  int keepalive_seconds = 25;
  int layer = -1;  // >= 0: `configure` {substream: layer, temporal: 2} for every video
};

class JanusTarget : public Target {
 public:
  JanusTarget(boost::asio::io_context& io, JanusTargetOptions options);
  std::unique_ptr<TargetSession> create_session(int participant, SessionCallbacks callbacks) override;
  const char* name() const override { return "janus"; }

 private:
  boost::asio::io_context& io_;
  JanusTargetOptions options_;
};

// For sfu-load's main: `--target janus --url ws://10.200.0.1:8188/`.
std::unique_ptr<Target> make_janus_target(boost::asio::io_context& io, std::string url);
// The same from sfu-load's options (uses options.url).
std::unique_ptr<Target> make_janus_target(boost::asio::io_context& io, const LoadOptions& options);

}  // namespace sfu::load

// Multi-producer, single-consumer queue: the control thread (and anyone
// else) pushes commands, one media worker pops them. Lock-free: push is one
// atomic exchange and one store (Vyukov's node-based MPSC queue). One node
// allocation per push — this carries commands, not packets.
#pragma once

#include <atomic>
#include <optional>
#include <utility>

namespace sfu::server {

template <class T>
class MpscQueue {
 public:
  MpscQueue() : head_(new Node), tail_(head_.load(std::memory_order_relaxed)) {}
  ~MpscQueue() {
    while (pop()) {
    }
    delete tail_;
  }
  MpscQueue(const MpscQueue&) = delete;
  MpscQueue& operator=(const MpscQueue&) = delete;

  // Any thread. Never blocks.
  void push(T value) {
    Node* n = new Node;
    n->value.emplace(std::move(value));
    Node* prev = head_.exchange(n, std::memory_order_acq_rel);
    // Between the exchange and this store the queue looks shorter to the
    // consumer than it is; the producer's wake-up comes after the store, so
    // the consumer will look again.
    prev->next.store(n, std::memory_order_release);
  }

  // The consumer thread only. nullopt when empty (or a push is mid-way).
  std::optional<T> pop() {
    Node* tail = tail_;
    Node* next = tail->next.load(std::memory_order_acquire);
    if (!next) return std::nullopt;
    std::optional<T> out(std::move(next->value));
    next->value.reset();
    tail_ = next;  // `next` becomes the new stub
    delete tail;
    return out;
  }

 private:
  struct Node {
    std::atomic<Node*> next{nullptr};
    std::optional<T> value;
  };
  std::atomic<Node*> head_;  // last pushed; producers
  Node* tail_;               // stub before the oldest; consumer
};

}  // namespace sfu::server

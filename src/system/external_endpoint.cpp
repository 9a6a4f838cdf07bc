// Implements external_endpoint (see external_endpoint.hpp).
#include "system/external_endpoint.hpp"

#include "system/system_core.hpp"
#include "thespian/system_messages.hpp"

namespace thespian::detail {

external_endpoint::external_endpoint(system_core& core, std::uint64_t id)
    : endpoint(core.id(), id), core_(core) {}

bool external_endpoint::deliver(envelope&& e) {
  const Message& m = e.message;
  if (e.kind != envelope_kind::user || m.is<ActorExitRequest>() || m.is<ChildActorExited>() ||
      m.is<WakeupMessage>() || m.is<WatchMessage>() || m.is<StatusRequest>()) {
    return true;  // internal traffic never reaches code outside the actors
  }
  {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    inbox_.push_back(std::move(e.message));
    waiting_.store(inbox_.size(), std::memory_order_release);
  }
  core_.driver().notify();
  return true;
}

bool external_endpoint::has_message() { return waiting_.load(std::memory_order_acquire) != 0; }

std::optional<Message> external_endpoint::listen(clock::time_point deadline) {
  core_.driver().wait_until([this] { return has_message(); }, deadline);
  std::lock_guard lock(mutex_);
  if (inbox_.empty()) return std::nullopt;
  Message m = std::move(inbox_.front());
  inbox_.pop_front();
  waiting_.store(inbox_.size(), std::memory_order_relaxed);
  return m;
}

void external_endpoint::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  inbox_.clear();
  waiting_.store(0, std::memory_order_relaxed);
}

std::string external_endpoint::describe() const {
  return "ActorAddr-(external:" + endpoint::describe().substr(std::string_view("ActorAddr-(").size());
}

}  // namespace thespian::detail

// reply_endpoint: the one-shot address that a correlated ask (async_ask, Actor::ask) gives the
// asked actor as its sender. The first message delivered to it is the reply; after that, or
// once closed by the ask's timeout, it accepts nothing and later messages become dead letters.
#pragma once

#include <atomic>
#include <utility>

#include "core/endpoint.hpp"
#include "thespian/detail/unique_function.hpp"

namespace thespian::detail {

class reply_endpoint final : public endpoint {
 public:
  using on_reply = unique_function<void(envelope&&)>;

  reply_endpoint(std::uint64_t system_id, std::uint64_t id, on_reply callback)
      : endpoint(system_id, id), callback_(std::move(callback)) {}

  bool deliver(envelope&& e) override {
    if (answered_.exchange(true, std::memory_order_acq_rel)) return false;
    on_reply callback = std::move(callback_);  // only the winner of the exchange gets here
    callback(std::move(e));
    return true;
  }

  // true when this call closed it (no reply had arrived): the caller reports the timeout.
  bool close() {
    if (answered_.exchange(true, std::memory_order_acq_rel)) return false;
    on_reply released = std::move(callback_);
    return true;
  }

  std::string describe() const override { return "ActorAddr-(reply:" + endpoint::describe().substr(sizeof("ActorAddr-(") - 1); }

 private:
  std::atomic<bool> answered_{false};
  on_reply callback_;
};

}  // namespace thespian::detail

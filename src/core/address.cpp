// ActorAddress's printable and wire forms. An address leaves the process as (system id,
// endpoint id); the endpoint is entered in a process-wide table the first time it is written,
// so that decoding in this process finds the same endpoint (and equality still holds).
#include <atomic>
#include <map>
#include <mutex>
#include <ostream>

#include <absl/strings/str_format.h>

#include "core/endpoint.hpp"
#include "thespian/address.hpp"

namespace thespian::detail {
namespace {

// An address decoded here whose endpoint this process does not know: it accepts nothing.
class unknown_endpoint final : public endpoint {
 public:
  using endpoint::endpoint;
  bool deliver(envelope&&) override { return false; }
};

struct wire_table {
  std::mutex mutex;
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::weak_ptr<endpoint>> endpoints;
  std::size_t size_after_sweep = 0;
};

wire_table& table() {
  static wire_table t;
  return t;
}

// Drops the entries of endpoints that are gone, whenever the table has doubled since the
// last sweep, so it stays proportional to the live endpoints that were ever serialised.
void sweep_if_grown(wire_table& t) {
  if (t.endpoints.size() < 2 * t.size_after_sweep + 64) return;
  std::erase_if(t.endpoints, [](const auto& entry) { return entry.second.expired(); });
  t.size_after_sweep = t.endpoints.size();
}

std::atomic<remote_resolver> installed_resolver{nullptr};

void remember(const std::shared_ptr<endpoint>& ep) {
  auto& t = table();
  std::lock_guard lock(t.mutex);
  t.endpoints[{ep->system_id(), ep->id()}] = ep;
  sweep_if_grown(t);
}

std::shared_ptr<endpoint> resolve(std::uint64_t system_id, std::uint64_t id) {
  auto& t = table();
  std::lock_guard lock(t.mutex);
  auto& slot = t.endpoints[{system_id, id}];
  if (auto ep = slot.lock()) return ep;
  std::shared_ptr<endpoint> ep;
  if (auto resolver = installed_resolver.load(std::memory_order_acquire)) {
    ep = resolver(system_id, id);
  }
  if (!ep) ep = std::make_shared<unknown_endpoint>(system_id, id);
  slot = ep;
  sweep_if_grown(t);
  return ep;
}

}  // namespace

void set_remote_resolver(remote_resolver resolver) noexcept {
  installed_resolver.store(resolver, std::memory_order_release);
}

std::shared_ptr<endpoint> resolve_endpoint(std::uint64_t system_id, std::uint64_t id) {
  return resolve(system_id, id);
}

void remember_endpoint(const std::shared_ptr<endpoint>& ep) { remember(ep); }

std::string endpoint::describe() const {
  // The same text in every process: a multi-process system's id says how it is reached (see
  // system/multiproc/system_route.hpp; kind 1 is a UNIX socket, 2 TCP), an in-process one does not.
  constexpr int kind_shift = 56;
  if ((system_id_ >> kind_shift) == 1) {
    return absl::StrFormat("ActorAddr-(unix:%x/#%x)",
                           system_id_ & ((std::uint64_t{1} << kind_shift) - 1), id_);
  }
  if ((system_id_ >> kind_shift) == 2) {  // tcp: IPv4 address and port
    const auto ip = static_cast<std::uint32_t>(system_id_ >> 16);
    return absl::StrFormat("ActorAddr-(tcp:%d.%d.%d.%d:%d/#%x)", (ip >> 24) & 0xff,
                           (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff, system_id_ & 0xffff,
                           id_);
  }
  return absl::StrFormat("ActorAddr-(local:%d/#%d)", system_id_, id_);
}

}  // namespace thespian::detail

namespace thespian {

std::string ActorAddress::to_string() const {
  return endpoint_ ? endpoint_->describe() : std::string("ActorAddr-(null)");
}

std::ostream& operator<<(std::ostream& os, const ActorAddress& a) { return os << a.to_string(); }

// Presence travels as a byte, not a bool: a bool loaded from a byte other than 0 or 1 is
// undefined behaviour, and bytes on the wire are not to be trusted.
void ActorAddress::save(cereal::PortableBinaryOutputArchive& ar) const {
  const std::uint8_t present = endpoint_ ? 1 : 0;
  ar(present);
  if (!present) return;
  detail::remember(endpoint_);
  ar(endpoint_->system_id(), endpoint_->id());
}

void ActorAddress::load(cereal::PortableBinaryInputArchive& ar) {
  std::uint8_t present = 0;
  ar(present);
  if (present > 1) {
    throw cereal::Exception("malformed ActorAddress: presence byte " + std::to_string(present));
  }
  if (!present) {
    endpoint_.reset();
    return;
  }
  std::uint64_t system_id = 0, id = 0;
  ar(system_id, id);
  endpoint_ = detail::resolve(system_id, id);
}

}  // namespace thespian

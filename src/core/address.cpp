// ActorAddress's printable and wire forms. An address leaves the process as (system id,
// endpoint id); the endpoint is entered in a process-wide table the first time it is written,
// so that decoding in this process finds the same endpoint (and equality still holds).
//
// Every frame a transport decodes resolves its target through this table, so each thread keeps
// a small cache in front of it: (system id, endpoint id) -> weak reference to the endpoint the
// table gave. A cached entry is used only while its endpoint lives (a dead one is never handed
// out: the table decides what replaces it) and while the table has not replaced any live
// endpoint by another one since the entry was made (a process-wide epoch, bumped on each such
// replacement, e.g. a placeholder for an id that was not known yet giving way to the real
// endpoint). So the rule "same wire identity, same endpoint object while it lives" holds for
// cache hits as it does for the table.
#include <array>
#include <atomic>
#include <mutex>
#include <new>
#include <ostream>
#include <utility>

#include <absl/container/flat_hash_map.h>
#include <absl/strings/str_format.h>

#include "core/endpoint.hpp"
#include "thespian/detail/small_pool.hpp"
#include "thespian/address.hpp"

namespace thespian::detail {
namespace {

// An address decoded here whose endpoint this process does not know: it accepts nothing.
class unknown_endpoint final : public endpoint {
 public:
  using endpoint::endpoint;
  bool deliver(envelope&&) override { return false; }
};

// Gives an endpoint's block back: to the small pool when it came from there (`bytes`, see
// endpoint::pooled_block_bytes), else to operator delete.
void small_deallocate_or_delete(void* block, std::size_t bytes) noexcept {
  if (bytes) {
    small_deallocate(block, bytes);
  } else {
    ::operator delete(block);
  }
}

using wire_key = std::pair<std::uint64_t, std::uint64_t>;

struct wire_table {
  std::mutex mutex;
  absl::flat_hash_map<wire_key, endpoint_weak<endpoint>> endpoints;
  std::size_t size_after_sweep = 0;
};

wire_table& table() {
  static wire_table t;
  return t;
}

// Bumped (under the table's mutex) whenever a slot holding a live endpoint is given another
// one: every thread's cached entries made before then stop matching.
std::atomic<std::uint64_t> replacement_epoch{0};

// Drops the entries of endpoints that are gone, whenever the table has doubled since the
// last sweep, so it stays proportional to the live endpoints that were ever serialised.
void sweep_if_grown(wire_table& t) {
  if (t.endpoints.size() < 2 * t.size_after_sweep + 64) return;
  absl::erase_if(t.endpoints, [](const auto& entry) { return entry.second.expired(); });
  t.size_after_sweep = t.endpoints.size();
}

std::atomic<remote_resolver> installed_resolver{nullptr};

// Puts `ep` in `slot`, bumping the epoch when that evicts another live endpoint.
void assign_slot(endpoint_weak<endpoint>& slot, const endpoint_ref<endpoint>& ep) {
  if (auto old = slot.lock(); old && old != ep) {
    replacement_epoch.fetch_add(1, std::memory_order_acq_rel);
  }
  slot = ep;
}

// The calling thread's cache in front of the table: direct-mapped, a handful of entries (a
// decoding thread sees few distinct targets in a row). Holding weak references keeps at most
// this many endpoint blocks per thread from being freed early: bounded.
class thread_cache {
 public:
  struct entry {
    std::uint64_t system_id = 0;
    std::uint64_t id = 0;
    std::uint64_t epoch = 0;
    endpoint_weak<endpoint> ep;  // empty: the slot is unused
  };

  entry& slot(std::uint64_t system_id, std::uint64_t id) noexcept {
    const std::uint64_t mixed = (system_id ^ (id * 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;
    return entries_[mixed >> (64 - slot_bits)];
  }

 private:
  static constexpr int slot_bits = 4;
  std::array<entry, std::size_t{1} << slot_bits> entries_;
};

thread_cache& cache() {
  thread_local thread_cache c;
  return c;
}

bool same_key(const thread_cache::entry& e, std::uint64_t system_id, std::uint64_t id,
              std::uint64_t epoch) noexcept {
  return e.system_id == system_id && e.id == id && e.epoch == epoch;
}

void remember(const endpoint_ref<endpoint>& ep) {
  const std::uint64_t epoch = replacement_epoch.load(std::memory_order_acquire);
  auto& e = cache().slot(ep->system_id(), ep->id());
  // This thread entered this very endpoint (alive: the caller holds it) and nothing replaced a
  // live endpoint since, so the table still maps its identity to it.
  if (same_key(e, ep->system_id(), ep->id(), epoch) && e.ep.target() == ep.get()) {
    return;
  }
  {
    auto& t = table();
    std::lock_guard lock(t.mutex);
    assign_slot(t.endpoints[{ep->system_id(), ep->id()}], ep);
    sweep_if_grown(t);
  }
  // Tagged with the epoch read before the table was touched: a replacement in between makes
  // the entry stale at once, never wrong.
  e = {ep->system_id(), ep->id(), epoch, ep};
}

endpoint_ref<endpoint> resolve_in_table(std::uint64_t system_id, std::uint64_t id) {
  auto& t = table();
  std::lock_guard lock(t.mutex);
  auto& slot = t.endpoints[{system_id, id}];
  if (auto ep = slot.lock()) return ep;
  endpoint_ref<endpoint> ep;
  if (auto resolver = installed_resolver.load(std::memory_order_acquire)) {
    ep = resolver(system_id, id);
  }
  if (!ep) ep = make_endpoint<unknown_endpoint>(system_id, id);
  assign_slot(slot, ep);  // the old one is dead: no bump (a dead endpoint is never a cache hit)
  sweep_if_grown(t);
  return ep;
}

endpoint_ref<endpoint> resolve(std::uint64_t system_id, std::uint64_t id) {
  const std::uint64_t epoch = replacement_epoch.load(std::memory_order_acquire);
  auto& e = cache().slot(system_id, id);
  if (same_key(e, system_id, id, epoch)) {
    if (auto ep = e.ep.lock()) return ep;
  }
  auto ep = resolve_in_table(system_id, id);
  e = {system_id, id, epoch, ep};
  return ep;
}

}  // namespace

void set_remote_resolver(remote_resolver resolver) noexcept {
  installed_resolver.store(resolver, std::memory_order_release);
}

endpoint_ref<endpoint> resolve_endpoint(std::uint64_t system_id, std::uint64_t id) {
  return resolve(system_id, id);
}

void remember_endpoint(const endpoint_ref<endpoint>& ep) { remember(ep); }

void destroy_endpoint(endpoint* ep) noexcept {
  // Asked before the endpoint is gone; kept in the block (where the endpoint was) when weak
  // references outlive it, for the last of them to free the block with.
  const std::size_t bytes = ep->pooled_block_bytes();
  ep->~endpoint();
  ref_counts& counts = counts_of(ep);
  if (counts.weak.load(std::memory_order_acquire) != 1) {
    new (static_cast<void*>(ep)) std::size_t(bytes);
    if (counts.weak.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  }
  void* block = &counts;
  counts.~ref_counts();
  small_deallocate_or_delete(block, bytes);
}

void free_endpoint_block(endpoint* ep) noexcept {
  // Only after destroy_endpoint dropped the strong references' weak count.
  const std::size_t bytes = *std::launder(reinterpret_cast<std::size_t*>(ep));
  ref_counts& counts = counts_of(ep);
  void* block = &counts;
  counts.~ref_counts();
  small_deallocate_or_delete(block, bytes);
}

std::string endpoint::describe() const {
  // The same text in every process: a multi-process system's id says how it is reached (see
  // system/multiproc/system_route.hpp; kind 1 is a UNIX socket, 2 TCP, 3 UDP), an in-process one
  // does not.
  constexpr int kind_shift = 56;
  if ((system_id_ >> kind_shift) == 1) {
    return absl::StrFormat("ActorAddr-(unix:%x/#%x)",
                           system_id_ & ((std::uint64_t{1} << kind_shift) - 1), id_);
  }
  if (const auto kind = system_id_ >> kind_shift; kind == 2 || kind == 3) {  // IPv4 and port
    const auto ip = static_cast<std::uint32_t>(system_id_ >> 16);
    return absl::StrFormat("ActorAddr-(%s:%d.%d.%d.%d:%d/#%x)", kind == 2 ? "tcp" : "udp",
                           (ip >> 24) & 0xff,
                           (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff, system_id_ & 0xffff,
                           id_);
  }
  return absl::StrFormat("ActorAddr-(local:%d/#%d)", system_id_, id_);
}

}  // namespace thespian::detail

namespace thespian {

std::string ActorAddress::to_string() const {
  return bits_ ? endpoint()->describe() : std::string("ActorAddr-(null)");
}

std::ostream& operator<<(std::ostream& os, const ActorAddress& a) { return os << a.to_string(); }

// Presence travels as a byte, not a bool: a bool loaded from a byte other than 0 or 1 is
// undefined behaviour, and bytes on the wire are not to be trusted.
void ActorAddress::save(cereal::PortableBinaryOutputArchive& ar) const {
  const std::uint8_t present = bits_ ? 1 : 0;
  ar(present);
  if (!present) return;
  detail::remember(shared_endpoint());
  ar(endpoint()->system_id(), endpoint()->id());
}

void ActorAddress::load(cereal::PortableBinaryInputArchive& ar) {
  std::uint8_t present = 0;
  ar(present);
  if (present > 1) {
    throw cereal::Exception("malformed ActorAddress: presence byte " + std::to_string(present));
  }
  if (!present) {
    *this = ActorAddress();
    return;
  }
  std::uint64_t system_id = 0, id = 0;
  ar(system_id, id);
  *this = ActorAddress(detail::resolve(system_id, id));
}

}  // namespace thespian

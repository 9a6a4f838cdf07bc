// Unit tests of ActorAddress (include/thespian/address.hpp, src/core/address.cpp): the null
// address, value semantics (equality, ordering, std::hash and absl hash agree), the printable
// form, the cereal form that resolves back to the same endpoint inside one process, and
// borrowed addresses (ActorAddress::borrow), whose copies hold their own reference.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <absl/container/flat_hash_set.h>
#include <absl/hash/hash.h>

#include "../support.hpp"
#include "thespian/address.hpp"

namespace {

using thespian::ActorAddress;
using unit_support::make_recording_endpoint;
using unit_support::recording_endpoint;
using unit_support::round_trip;

// The wire form of an address that no endpoint of this process ever had.
std::string foreign_address_bytes(std::uint64_t system_id, std::uint64_t id) {
  std::stringstream buffer;
  {
    cereal::PortableBinaryOutputArchive out(buffer);
    out(true, system_id, id);
  }
  return buffer.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(core_address)

BOOST_AUTO_TEST_CASE(default_constructed_address_is_null_and_false) {
  const ActorAddress a;
  BOOST_TEST(!a);
  BOOST_TEST(a.endpoint() == nullptr);
}

BOOST_AUTO_TEST_CASE(null_addresses_are_equal_and_hash_alike) {
  const ActorAddress a, b;
  BOOST_TEST((a == b));
  BOOST_TEST(!(a < b));
  BOOST_TEST(std::hash<ActorAddress>{}(a) == std::hash<ActorAddress>{}(b));
  BOOST_TEST(absl::Hash<ActorAddress>{}(a) == absl::Hash<ActorAddress>{}(b));
}

BOOST_AUTO_TEST_CASE(null_address_prints_something_printable) {
  const std::string text = ActorAddress{}.to_string();
  BOOST_TEST(!text.empty());
  BOOST_TEST(unit_support::is_printable(text), text);
}

BOOST_AUTO_TEST_CASE(address_of_an_endpoint_is_true_and_differs_from_null) {
  auto ep = make_recording_endpoint();
  const ActorAddress a(ep);
  BOOST_TEST(static_cast<bool>(a));
  BOOST_TEST((a != ActorAddress{}));
  BOOST_TEST(a.to_string() != ActorAddress{}.to_string());
}

BOOST_AUTO_TEST_CASE(copies_are_equal_and_hash_alike_under_both_hashes) {
  auto ep = make_recording_endpoint();
  const ActorAddress a(ep);
  const ActorAddress b = a;  // NOLINT(performance-unnecessary-copy-initialization)
  BOOST_TEST((a == b));
  BOOST_TEST(!(a != b));
  BOOST_TEST(!(a < b));
  BOOST_TEST(!(b < a));
  BOOST_TEST(std::hash<ActorAddress>{}(a) == std::hash<ActorAddress>{}(b));
  BOOST_TEST(absl::Hash<ActorAddress>{}(a) == absl::Hash<ActorAddress>{}(b));
}

// A gathered run's envelopes borrow their sender's address (no reference count per message);
// whatever copies one, as a handler keeping `sender` does, must hold the endpoint itself.
BOOST_AUTO_TEST_CASE(a_copy_of_a_borrowed_address_holds_its_own_reference) {
  auto ep = make_recording_endpoint();
  const ActorAddress borrowed = ActorAddress::borrow(ep.get());
  BOOST_TEST(borrowed.borrowed());
  BOOST_TEST(ep.use_count() == 1);  // borrowing counts nothing
  const ActorAddress copy = borrowed;  // NOLINT(performance-unnecessary-copy-initialization)
  BOOST_TEST(!copy.borrowed());
  BOOST_TEST(ep.use_count() == 2);
  ActorAddress assigned;
  assigned = borrowed;
  BOOST_TEST(!assigned.borrowed());
  BOOST_TEST(ep.use_count() == 3);
  BOOST_TEST((borrowed.shared_endpoint() == ep));  // a counted reference too
  BOOST_TEST((copy == borrowed));
  BOOST_TEST((assigned == ActorAddress(ep)));
  BOOST_TEST(std::hash<ActorAddress>{}(borrowed) == std::hash<ActorAddress>{}(copy));
  BOOST_TEST(borrowed.to_string() == copy.to_string());
  BOOST_TEST(!ActorAddress(ep).borrowed());
  BOOST_TEST(!ActorAddress{}.borrowed());
}

// Handlers get a gathered run's sender as `const ActorAddress&` (on_message) or a copy
// (receive): std::move of the const reference selects the copy, so user code can never carry
// the borrowed (uncounted) address itself out of the handler.
BOOST_AUTO_TEST_CASE(moving_a_borrowed_address_through_a_const_reference_claims_a_reference) {
  auto ep = make_recording_endpoint();
  const ActorAddress borrowed = ActorAddress::borrow(ep.get());
  const ActorAddress& as_a_handler_sees_it = borrowed;
  ActorAddress kept = std::move(as_a_handler_sees_it);  // NOLINT(performance-move-const-arg)
  BOOST_TEST(!kept.borrowed());
  BOOST_TEST(ep.use_count() == 2);
  ActorAddress assigned;
  assigned = std::move(as_a_handler_sees_it);  // NOLINT(performance-move-const-arg)
  BOOST_TEST(!assigned.borrowed());
  BOOST_TEST(ep.use_count() == 3);
}

// An endpoint goes with its last strong reference, even while weak ones remain (the wire
// table's and the thread caches' are weak); those keep only its block, so lock() fails and
// the block is freed with the last of them (ASan sees a use after free or a leak).
BOOST_AUTO_TEST_CASE(an_endpoint_goes_with_its_last_address_and_weak_references_keep_its_block) {
  struct counted_endpoint final : thespian::detail::endpoint {
    counted_endpoint(std::uint64_t system_id, int& alive)
        : endpoint(system_id, 1), alive_(alive) {
      ++alive_;
    }
    ~counted_endpoint() override { --alive_; }
    bool deliver(thespian::detail::envelope&&) override { return true; }
    int& alive_;
  };
  int alive = 0;
  auto ep = thespian::detail::make_endpoint<counted_endpoint>(unit_support::fresh_system_id(),
                                                               alive);
  BOOST_TEST(alive == 1);
  thespian::detail::endpoint_weak<counted_endpoint> weak(ep);
  thespian::detail::endpoint_weak<counted_endpoint> weak_copy = weak;
  BOOST_TEST(!weak.expired());
  ActorAddress a(ep);
  BOOST_TEST(ep.use_count() == 2);
  ep.reset();
  BOOST_TEST(alive == 1);  // the address still holds it
  {
    auto locked = weak.lock();
    BOOST_REQUIRE(locked);
    BOOST_TEST(locked.use_count() == 2);
    BOOST_TEST(static_cast<const void*>(locked.get()) == static_cast<const void*>(a.endpoint()));
  }
  a = ActorAddress();
  BOOST_TEST(alive == 0);
  BOOST_TEST(weak.expired());
  BOOST_TEST(!weak.lock());
  BOOST_TEST(!weak_copy.lock());
  BOOST_TEST(weak.target() != nullptr);  // still names the (dead) endpoint's block
}

// lock() racing the last strong release on another thread (the wire table's lookups race
// exits so): it gets the endpoint, alive until it lets go, or nothing, never a destroyed one;
// and the block goes with whichever reference is last, strong or weak (ASan and TSan watch).
BOOST_AUTO_TEST_CASE(a_weak_lock_racing_the_last_release_gets_a_live_endpoint_or_none) {
  struct counted_endpoint final : thespian::detail::endpoint {
    counted_endpoint(std::uint64_t system_id, std::atomic<int>& alive)
        : endpoint(system_id, 1), alive_(alive) {
      alive_.fetch_add(1);
    }
    ~counted_endpoint() override { alive_.fetch_sub(1); }
    bool deliver(thespian::detail::envelope&&) override { return true; }
    std::atomic<int>& alive_;
    const int value = 42;
  };
  std::atomic<int> alive{0};
  int locked = 0;
  for (int i = 0; i < 2000; ++i) {
    auto ep = thespian::detail::make_endpoint<counted_endpoint>(unit_support::fresh_system_id(),
                                                                 alive);
    thespian::detail::endpoint_weak<counted_endpoint> weak(ep);
    std::atomic<bool> ready{false}, go{false};
    int seen = -1;
    std::thread racer([&ready, &go, &seen, mine = weak] {
      ready.store(true);
      while (!go.load()) {
        // spin: a yield here makes the release win every time
      }
      if (auto strong = mine.lock()) seen = strong->value;
    });  // drops its weak copy as it ends: sometimes the block's last reference
    while (!ready.load()) std::this_thread::yield();
    go.store(true);
    ep.reset();
    racer.join();
    BOOST_REQUIRE(seen == -1 || seen == 42);
    if (seen == 42) ++locked;
    BOOST_REQUIRE(weak.expired());
  }
  BOOST_TEST(alive.load() == 0);
  BOOST_TEST_MESSAGE(locked << " of 2000 locks won the race");
}

// A reference to an endpoint is one pointer, counted in front of the endpoint; converting to
// the base endpoint type and back keeps the count.
BOOST_AUTO_TEST_CASE(an_address_is_one_word_and_references_convert_without_recounting) {
  BOOST_TEST(sizeof(ActorAddress) == sizeof(void*));
  BOOST_TEST(sizeof(unit_support::recording_ref) == sizeof(void*));
  auto ep = make_recording_endpoint();
  thespian::detail::endpoint_ref<thespian::detail::endpoint> base = ep;
  BOOST_TEST(ep.use_count() == 2);
  auto back = thespian::detail::endpoint_cast<recording_endpoint>(std::move(base));
  BOOST_TEST(!base);
  BOOST_TEST(back.use_count() == 2);
  BOOST_TEST((back == ep));
}

BOOST_AUTO_TEST_CASE(addresses_of_distinct_endpoints_are_unequal_and_strictly_ordered) {
  auto e1 = make_recording_endpoint();
  auto e2 = make_recording_endpoint();
  const ActorAddress a(e1), b(e2);
  BOOST_TEST((a != b));
  BOOST_TEST(((a < b) != (b < a)));  // exactly one of them is less
  BOOST_TEST(!(a < a));
  const ActorAddress null;
  BOOST_TEST(((null < a) != (a < null)));
}

BOOST_AUTO_TEST_CASE(equal_addresses_collapse_in_ordered_and_hashed_sets) {
  auto e1 = make_recording_endpoint();
  auto e2 = make_recording_endpoint();
  const ActorAddress a(e1), a_copy(a), b(e2);
  const std::set<ActorAddress> ordered{a, a_copy, b, ActorAddress{}};
  const std::unordered_set<ActorAddress> hashed{a, a_copy, b, ActorAddress{}};
  const absl::flat_hash_set<ActorAddress> absl_hashed{a, a_copy, b, ActorAddress{}};
  BOOST_TEST(ordered.size() == 3u);
  BOOST_TEST(hashed.size() == 3u);
  BOOST_TEST(absl_hashed.size() == 3u);
  BOOST_TEST(absl_hashed.contains(a_copy));
  BOOST_TEST(hashed.count(a_copy) == 1u);
}

BOOST_AUTO_TEST_CASE(to_string_is_printable_and_stable_across_calls_and_copies) {
  auto ep = make_recording_endpoint();
  const ActorAddress a(ep);
  const std::string first = a.to_string();
  BOOST_TEST(!first.empty());
  BOOST_TEST(unit_support::is_printable(first), first);
  BOOST_TEST(a.to_string() == first);
  BOOST_TEST(ActorAddress(a).to_string() == first);
}

BOOST_AUTO_TEST_CASE(to_string_tells_distinct_endpoints_apart) {
  auto e1 = make_recording_endpoint();
  auto e2 = make_recording_endpoint();
  BOOST_TEST(ActorAddress(e1).to_string() != ActorAddress(e2).to_string());
}

BOOST_AUTO_TEST_CASE(stream_output_writes_to_string) {
  auto ep = make_recording_endpoint();
  const ActorAddress a(ep);
  std::ostringstream out;
  out << a << '|' << ActorAddress{};
  BOOST_TEST(out.str() == a.to_string() + "|" + ActorAddress{}.to_string());
}

BOOST_AUTO_TEST_CASE(cereal_round_trip_resolves_to_the_same_address_in_process) {
  auto ep = make_recording_endpoint();
  const ActorAddress a(ep);
  const ActorAddress back = round_trip(a);
  BOOST_TEST((back == a));
  BOOST_TEST(back.endpoint() == ep.get());
  BOOST_TEST(back.to_string() == a.to_string());
  BOOST_TEST(std::hash<ActorAddress>{}(back) == std::hash<ActorAddress>{}(a));
}

BOOST_AUTO_TEST_CASE(decoded_address_delivers_to_the_original_endpoint) {
  auto ep = make_recording_endpoint();
  const ActorAddress back = round_trip(ActorAddress(ep));
  thespian::detail::envelope e{std::string("via the wire"), ActorAddress{},
                               thespian::detail::envelope_kind::user, 0};
  BOOST_TEST(back.endpoint()->deliver(std::move(e)));
  BOOST_REQUIRE(ep->received().size() == 1u);
  BOOST_TEST(ep->received().front().message.as<std::string>() == "via the wire");
}

BOOST_AUTO_TEST_CASE(cereal_round_trip_keeps_the_null_address_null) {
  BOOST_TEST(!round_trip(ActorAddress{}));
}

BOOST_AUTO_TEST_CASE(unknown_wire_address_decodes_to_one_address_that_accepts_nothing) {
  const std::uint64_t system_id = unit_support::fresh_system_id();
  const std::string bytes = foreign_address_bytes(system_id, 77);
  const auto first = unit_support::decode<ActorAddress>(bytes);
  const auto second = unit_support::decode<ActorAddress>(bytes);
  BOOST_TEST(static_cast<bool>(first));
  BOOST_TEST((first == second));
  thespian::detail::envelope e{std::string("lost"), ActorAddress{},
                               thespian::detail::envelope_kind::user, 0};
  BOOST_TEST(!first.endpoint()->deliver(std::move(e)));
  BOOST_TEST(unit_support::is_printable(first.to_string()), first.to_string());
}

BOOST_AUTO_TEST_CASE(address_decoded_after_its_endpoint_is_gone_does_not_reach_it) {
  auto ep = make_recording_endpoint();
  const std::string bytes = unit_support::encode(ActorAddress(ep));
  thespian::detail::endpoint_weak<recording_endpoint> weak = ep;
  ep.reset();
  BOOST_REQUIRE(weak.expired());  // the wire table must not keep the endpoint alive
  const auto back = unit_support::decode<ActorAddress>(bytes);
  BOOST_TEST(static_cast<bool>(back));
  thespian::detail::envelope e{std::string("late"), ActorAddress{},
                               thespian::detail::envelope_kind::user, 0};
  BOOST_TEST(!back.endpoint()->deliver(std::move(e)));
}

// The per-thread cache in front of the wire table (address.cpp) must answer as the table does.

BOOST_AUTO_TEST_CASE(a_decode_right_after_a_cached_one_never_returns_the_endpoint_that_died_since) {
  auto ep = make_recording_endpoint();
  const std::string bytes = unit_support::encode(ActorAddress(ep));
  {
    const auto first = unit_support::decode<ActorAddress>(bytes);
    const auto second = unit_support::decode<ActorAddress>(bytes);  // from this thread's cache
    BOOST_TEST(first.endpoint() == ep.get());
    BOOST_TEST(second.endpoint() == ep.get());
  }
  thespian::detail::endpoint_weak<recording_endpoint> weak = ep;
  ep.reset();
  BOOST_REQUIRE(weak.expired());  // the cache must not keep it alive either
  const auto late = unit_support::decode<ActorAddress>(bytes);
  BOOST_REQUIRE(static_cast<bool>(late));
  thespian::detail::envelope e{std::string("late"), ActorAddress{},
                               thespian::detail::envelope_kind::user, 0};
  BOOST_TEST(!late.endpoint()->deliver(std::move(e)));
  BOOST_TEST((unit_support::decode<ActorAddress>(bytes) == late));  // and it is cached as such
}

BOOST_AUTO_TEST_CASE(a_placeholder_decoded_and_cached_gives_way_to_the_real_endpoint_once_it_is_written) {
  const std::uint64_t system_id = unit_support::fresh_system_id();
  const std::string bytes = foreign_address_bytes(system_id, 1);
  const auto placeholder = unit_support::decode<ActorAddress>(bytes);  // kept alive on purpose
  BOOST_TEST((unit_support::decode<ActorAddress>(bytes) == placeholder));
  auto real = thespian::detail::make_endpoint<recording_endpoint>(system_id, 1);
  (void)unit_support::encode(ActorAddress(real));  // enters it in the wire table
  const auto back = unit_support::decode<ActorAddress>(bytes);
  BOOST_TEST(back.endpoint() == real.get());
  BOOST_TEST((back != placeholder));
}

BOOST_AUTO_TEST_CASE(an_endpoint_written_again_after_another_thread_replaced_it_is_entered_again) {
  const std::uint64_t system_id = unit_support::fresh_system_id();
  auto mine = thespian::detail::make_endpoint<recording_endpoint>(system_id, 5);
  const std::string bytes = unit_support::encode(ActorAddress(mine));  // this thread remembers it
  auto theirs = thespian::detail::make_endpoint<recording_endpoint>(system_id, 5);
  std::thread([&] { (void)unit_support::encode(ActorAddress(theirs)); }).join();
  BOOST_TEST(unit_support::decode<ActorAddress>(bytes).endpoint() == theirs.get());
  // This thread wrote `mine` before: it must not trust that the table still maps it.
  (void)unit_support::encode(ActorAddress(mine));
  BOOST_TEST(unit_support::decode<ActorAddress>(bytes).endpoint() == mine.get());
}

BOOST_AUTO_TEST_CASE(every_thread_decodes_an_identity_to_the_same_endpoint) {
  auto ep = make_recording_endpoint();
  const std::string bytes = unit_support::encode(ActorAddress(ep));
  std::vector<const void*> seen(4, nullptr);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int round = 0; round < 100; ++round) {
        const auto back = unit_support::decode<ActorAddress>(bytes);
        if (round == 0 || seen[i] == back.endpoint()) seen[i] = back.endpoint();
        else seen[i] = nullptr;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const void* p : seen) BOOST_TEST(p == static_cast<const void*>(ep.get()));
}

BOOST_AUTO_TEST_CASE(many_identities_decoded_in_turn_each_find_their_own_endpoint) {
  // More identities than the per-thread cache has slots: evictions must not mix them up.
  std::vector<unit_support::recording_ref> endpoints;
  std::vector<std::string> wire;
  for (int i = 0; i < 100; ++i) {
    endpoints.push_back(make_recording_endpoint());
    wire.push_back(unit_support::encode(ActorAddress(endpoints.back())));
  }
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
      BOOST_TEST(unit_support::decode<ActorAddress>(wire[i]).endpoint() == endpoints[i].get());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(loading_an_address_with_a_presence_byte_other_than_0_or_1_is_refused) {
  std::stringstream bytes;
  {
    cereal::PortableBinaryOutputArchive out(bytes);
    out(std::uint8_t{2});
  }
  cereal::PortableBinaryInputArchive in(bytes);
  thespian::ActorAddress address;
  BOOST_CHECK_THROW(address.load(in), cereal::Exception);
  BOOST_TEST(!address);
}

// Unit tests of child_list (src/core/actor_cell.hpp), an actor's children in 8 bytes each: a
// removed child's entry becomes a tombstone that releases the child and keeps its id, so that
// later removals still find their entries by id, whatever the order children leave in.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "../support.hpp"
#include "core/actor_cell.hpp"

namespace {

using thespian::ActorAddress;
using thespian::detail::child_list;

using child_ref = unit_support::recording_ref;

std::vector<child_ref> make_children(std::size_t n, std::uint64_t stride = 3) {
  std::vector<child_ref> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(thespian::detail::make_endpoint<unit_support::recording_endpoint>(
        1, 10 + stride * i));
  }
  return out;
}

std::vector<std::uint64_t> listed_ids(const child_list& list) {
  std::vector<std::uint64_t> ids;
  list.for_each([&ids](const ActorAddress& child) { ids.push_back(child.endpoint()->id()); });
  return ids;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(child_list_unit)

// Stride 1 too: ids of children made one after another are consecutive, and a tombstone must
// keep its id whole (odd ones included) to stay apart from its neighbours'.
BOOST_AUTO_TEST_CASE(children_leaving_in_any_order_are_each_found_and_released) {
  for (unsigned seed : {1u, 2u, 3u, 4u}) {
    BOOST_TEST_CONTEXT("seed " << seed) {
      auto children = make_children(1000, seed == 4 ? 1 : 3);
      child_list list;
      for (const auto& c : children) list.add(c->id(), ActorAddress(c));
      std::vector<std::size_t> order(children.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      if (seed > 1) std::shuffle(order.begin(), order.end(), std::mt19937(seed));
      if (seed == 4) {  // every other child first (odd ids), then the rest
        std::stable_partition(order.begin(), order.end(), [](std::size_t i) { return i % 2; });
      }
      if (seed == 3) std::reverse(order.begin(), order.end());
      std::vector<bool> left(children.size(), false);
      for (std::size_t k = 0; k < order.size(); ++k) {
        const auto& c = children[order[k]];
        BOOST_TEST(c.use_count() == 2);  // ours and the list's
        list.remove(c->id(), ActorAddress(c));
        left[order[k]] = true;
        BOOST_TEST(c.use_count() == 1);  // the list released it
        BOOST_TEST(list.size() == children.size() - k - 1);
        if (k % 97 == 0) {
          std::vector<std::uint64_t> expected;
          for (std::size_t i = 0; i < children.size(); ++i) {
            if (!left[i]) expected.push_back(children[i]->id());
          }
          BOOST_TEST(listed_ids(list) == expected, "in creation order, without the ones gone");
        }
      }
      BOOST_TEST(list.empty());
    }
  }
}

// Ids that use all 64 bits (a remote child's id is random), in pairs that differ only in their
// lowest bit, which a tombstone does not keep: each child is still found, and only it.
BOOST_AUTO_TEST_CASE(children_with_any_64_bit_ids_are_each_found_and_released) {
  std::mt19937_64 random(7);
  std::vector<child_ref> children;
  for (int i = 0; i < 400; ++i) {
    const std::uint64_t id = random() | (i % 2 ? std::uint64_t{1} << 63 : 0);
    children.push_back(
        thespian::detail::make_endpoint<unit_support::recording_endpoint>(1, id & ~std::uint64_t{1}));
    children.push_back(
        thespian::detail::make_endpoint<unit_support::recording_endpoint>(1, id | 1));
  }
  child_list list;
  for (const auto& c : children) list.add(c->id(), ActorAddress(c));
  BOOST_TEST(list.size() == children.size());
  std::vector<std::size_t> order(children.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(11));
  std::vector<bool> left(children.size(), false);
  for (std::size_t k = 0; k < order.size(); ++k) {
    const auto& c = children[order[k]];
    BOOST_TEST_CONTEXT("child " << k << ", id " << c->id()) {
      // Listing it again changes nothing.
      list.add(c->id(), ActorAddress(c));
      BOOST_TEST(list.size() == children.size() - k);
      list.remove(c->id(), ActorAddress(c));
      BOOST_TEST(c.use_count() == 1);  // the list released it
    }
    left[order[k]] = true;
    BOOST_REQUIRE(list.size() == children.size() - k - 1);
    if (k % 89 == 0) {
      std::vector<std::uint64_t> expected;
      for (std::size_t i = 0; i < children.size(); ++i) {
        if (!left[i]) expected.push_back(children[i]->id());
      }
      std::vector<std::uint64_t> listed = listed_ids(list);
      std::sort(expected.begin(), expected.end());
      std::sort(listed.begin(), listed.end());
      BOOST_TEST(listed == expected);
    }
  }
  BOOST_TEST(list.empty());
}

BOOST_AUTO_TEST_CASE(a_removed_child_can_be_listed_again_and_a_stranger_is_not_removed) {
  auto children = make_children(4);
  child_list list;
  for (const auto& c : children) list.add(c->id(), ActorAddress(c));
  list.remove(children[1]->id(), ActorAddress(children[1]));
  // Another endpoint under a listed id is not that child: nothing happens.
  auto stranger =
      thespian::detail::make_endpoint<unit_support::recording_endpoint>(2, children[2]->id());
  list.remove(stranger->id(), ActorAddress(stranger));
  BOOST_TEST(list.size() == 3u);
  // Removing it twice, or an id never listed, changes nothing either.
  list.remove(children[1]->id(), ActorAddress(children[1]));
  list.remove(5, ActorAddress(stranger));
  BOOST_TEST(list.size() == 3u);
  list.add(children[1]->id(), ActorAddress(children[1]));  // over its own tombstone
  BOOST_TEST(list.size() == 4u);
  BOOST_TEST(listed_ids(list) == (std::vector<std::uint64_t>{10, 13, 16, 19}));
  list.clear();
  BOOST_TEST(children[0].use_count() == 1);
}

BOOST_AUTO_TEST_SUITE_END()

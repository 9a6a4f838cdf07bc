// Port of Thespian's message equality tests, to the rules API.md fixes for Message: same type and
// equal values; string literals are std::strings; std::int64_t{1} is not true; a type without ==
// equals only copies of one Message; system messages compare as Thespian's do. A message that has
// travelled through an actor still compares equal (an unregistered type travels only within one
// process: the multi-process bases refuse to send it).
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace message_equality_test {

using thespian::ActorAddress;
using thespian::Message;

struct Registered {
  std::int64_t value = 0;
  friend bool operator==(const Registered&, const Registered&) = default;
  template <class A>
  void serialize(A& ar) {
    ar(value);
  }
};
struct Unregistered {
  std::string text;
  friend bool operator==(const Unregistered&, const Unregistered&) = default;
};
struct NoEquality {
  std::int64_t value = 0;
};

}  // namespace message_equality_test

THESPIAN_MESSAGE(message_equality_test::Registered);

using namespace message_equality_test;
using thespian_test::patience;

BOOST_FIXTURE_TEST_SUITE(message_equality, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(empty_messages_are_empty_and_equal) {
  Message a, b;
  BOOST_TEST(a.empty());
  BOOST_CHECK(a == b);
  BOOST_CHECK(!(a == Message(std::string())));
  BOOST_TEST(!Message(std::string()).empty());
}

BOOST_AUTO_TEST_CASE(string_literal_is_stored_as_std_string) {
  const Message m = "hello";
  BOOST_TEST(m.is<std::string>());
  BOOST_TEST(m.as<std::string>() == "hello");
  BOOST_CHECK(m == Message(std::string("hello")));
}

BOOST_AUTO_TEST_CASE(const_char_pointer_is_stored_as_std_string) {
  const char* text = "pointer";
  const Message m = text;
  BOOST_TEST(m.is<std::string>());
  BOOST_TEST(!m.is<const char*>());
  BOOST_CHECK(m == Message(std::string("pointer")));
}

BOOST_AUTO_TEST_CASE(int64_one_is_not_equal_to_true) {
  BOOST_CHECK(!(Message(std::int64_t{1}) == Message(true)));
  BOOST_CHECK(!(Message(std::int64_t{1}) == Message(1.0)));
  BOOST_CHECK(Message(std::int64_t{1}) == Message(std::int64_t{1}));
  BOOST_CHECK(Message(true) == Message(true));
}

BOOST_AUTO_TEST_CASE(same_type_compares_by_value) {
  BOOST_CHECK(Message(Unregistered{"a"}) == Message(Unregistered{"a"}));
  BOOST_CHECK(!(Message(Unregistered{"a"}) == Message(Unregistered{"b"})));
  BOOST_CHECK(Message(std::vector<std::string>{"x", "y"}) ==
              Message(std::vector<std::string>{"x", "y"}));
  BOOST_CHECK(!(Message(std::vector<std::string>{"x"}) == Message(std::vector<std::string>{"y"})));
}

BOOST_AUTO_TEST_CASE(different_types_are_never_equal) {
  BOOST_CHECK(!(Message(Registered{1}) == Message(std::int64_t{1})));
  BOOST_CHECK(!(Message(std::string("1")) == Message(std::int64_t{1})));
  BOOST_CHECK(!(Message(Unregistered{""}) == Message(std::string(""))));
}

BOOST_AUTO_TEST_CASE(type_without_equality_is_equal_only_to_copies_of_one_message) {
  const Message original = NoEquality{7};
  const Message copy = original;
  BOOST_CHECK(copy == original);
  BOOST_CHECK(!(Message(NoEquality{7}) == original));
}

BOOST_AUTO_TEST_CASE(registered_type_name_is_the_macro_text) {
  BOOST_TEST(Message(Registered{1}).type_name() == "message_equality_test::Registered");
}

BOOST_AUTO_TEST_CASE(unregistered_type_name_is_the_demangled_cpp_name) {
  BOOST_TEST(Message(Unregistered{}).type_name() == "message_equality_test::Unregistered");
}

BOOST_AUTO_TEST_CASE(empty_message_has_an_empty_type_name) {
  BOOST_TEST(Message{}.type_name() == "");
}

BOOST_AUTO_TEST_CASE(all_actor_exit_requests_are_equal) {
  BOOST_CHECK(Message(thespian::ActorExitRequest{true}) == Message(thespian::ActorExitRequest{false}));
  BOOST_CHECK(thespian::ActorExitRequest{true} == thespian::ActorExitRequest{false});
}

BOOST_AUTO_TEST_CASE(poison_messages_compare_only_the_poison) {
  const thespian::PoisonMessage a{std::string("bad"), "details one"};
  const thespian::PoisonMessage b{std::string("bad"), "details two"};
  const thespian::PoisonMessage c{std::string("worse"), "details one"};
  BOOST_CHECK(a == b);
  BOOST_CHECK(!(a == c));
  BOOST_CHECK(Message(a) == Message(b));
}

BOOST_AUTO_TEST_CASE(validate_source_messages_compare_only_the_source_hash) {
  BOOST_CHECK((thespian::ValidateSource{"h1", "data a", "info a"} ==
               thespian::ValidateSource{"h1", "data b", "info b"}));
  BOOST_CHECK(!(thespian::ValidateSource{"h1", "d", "i"} == thespian::ValidateSource{"h2", "d", "i"}));
  BOOST_CHECK((thespian::ValidatedSource{"h1", std::string("x"), "a"} ==
               thespian::ValidatedSource{"h1", std::nullopt, "b"}));
  BOOST_CHECK(!(thespian::ValidatedSource{"h1", std::nullopt, "a"} ==
                thespian::ValidatedSource{"h2", std::nullopt, "a"}));
}

BOOST_AUTO_TEST_CASE(other_system_messages_compare_every_field) {
  auto a = sys.create_actor<thespian_test::echo_actor>();
  auto b = sys.create_actor<thespian_test::echo_actor>();
  BOOST_CHECK(thespian::ChildActorExited{a} == thespian::ChildActorExited{a});
  BOOST_CHECK(!(thespian::ChildActorExited{a} == thespian::ChildActorExited{b}));
  BOOST_CHECK((thespian::DeadEnvelope{a, std::string("m")} == thespian::DeadEnvelope{a, std::string("m")}));
  BOOST_CHECK(!(thespian::DeadEnvelope{a, std::string("m")} == thespian::DeadEnvelope{b, std::string("m")}));
  BOOST_CHECK(!(thespian::DeadEnvelope{a, std::string("m")} == thespian::DeadEnvelope{a, std::string("n")}));
  using std::chrono::milliseconds;
  BOOST_CHECK((thespian::WakeupMessage{milliseconds(5), std::string("p")} ==
               thespian::WakeupMessage{milliseconds(5), std::string("p")}));
  BOOST_CHECK(!(thespian::WakeupMessage{milliseconds(5), std::string("p")} ==
                thespian::WakeupMessage{milliseconds(6), std::string("p")}));
  BOOST_CHECK(!(thespian::WakeupMessage{milliseconds(5), std::string("p")} ==
                thespian::WakeupMessage{milliseconds(5), std::string("q")}));
  BOOST_CHECK((thespian::LoadedSource{"h", "i"} == thespian::LoadedSource{"h", "i"}));
  BOOST_CHECK(!(thespian::LoadedSource{"h", "i"} == thespian::LoadedSource{"h", "j"}));
}

BOOST_AUTO_TEST_CASE(message_is_still_equal_after_a_round_trip_through_an_actor) {
  auto echo = sys.create_actor<thespian_test::echo_actor>();
  for (const Message& sent : {Message(std::string("text")), Message(std::int64_t{-5}), Message(true),
                              Message(2.5), Message(Registered{9})}) {
    auto back = sys.ask(echo, sent, patience);
    BOOST_REQUIRE(back.has_value());
    BOOST_CHECK_MESSAGE(*back == sent, "round trip changed a " << sent.type_name());
  }
  // An unregistered type travels within one process only; the multi-process bases refuse to
  // send it, clearly (message.hpp: THESPIAN_MESSAGE is what lets a type cross processes).
  const Message unregistered = Unregistered{"u"};
  if (thespian_test::is_multiprocess()) {
    BOOST_CHECK_THROW((void)sys.ask(echo, unregistered, patience), thespian::UnserializableMessage);
  } else {
    auto back = sys.ask(echo, unregistered, patience);
    BOOST_REQUIRE(back.has_value());
    BOOST_CHECK_MESSAGE(*back == unregistered, "round trip changed an unregistered type");
  }
}

BOOST_AUTO_TEST_CASE(receiver_never_sees_a_later_change_by_the_sender) {
  auto echo = sys.create_actor<thespian_test::echo_actor>();
  std::vector<std::string> lines{"original"};
  const Message sent = lines;
  lines[0] = "changed";
  sys.tell(echo, sent);
  lines.push_back("more");
  auto back = thespian_test::reply_as<std::vector<std::string>>(sys.listen(patience));
  BOOST_TEST(back == std::vector<std::string>{"original"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

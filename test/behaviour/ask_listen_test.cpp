// Thespian's ask/listen semantics on the system's shared endpoint: ask = tell + listen, returning
// the next message that reaches the endpoint (which need not be the reply); extra replies wait for
// later listen calls; system messages sent to the endpoint do not break it.
#include <optional>
#include <string>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace ask_listen_test {

using namespace std::chrono_literals;
using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

class Chatty : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "emit")) {
      send(from, std::string("unsolicited"));
    } else if (is_text(m, "question")) {
      send(from, std::string("answer"));
    } else if (is_text(m, "twice")) {
      send(from, std::string("first"));
      send(from, std::string("second"));
    } else if (is_text(m, "thrice")) {
      for (const char* word : {"one", "two", "three"}) send(from, std::string(word));
    } else if (is_text(m, "rude")) {
      send(from, thespian::ActorExitRequest{});
      send(from, std::string("still here"));
    } else if (is_text(m, "slow")) {
      pending_ = from;
      wakeup_after(300ms);
    } else if (m.is<thespian::WakeupMessage>()) {
      send(pending_, std::string("slow answer"));
    }
    co_return;
  }

 private:
  ActorAddress pending_;
};

}  // namespace ask_listen_test

using namespace ask_listen_test;
using thespian_test::brief;
using thespian_test::patience;
using thespian_test::text_of;

BOOST_FIXTURE_TEST_SUITE(ask_listen, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(ask_returns_the_next_message_reaching_the_endpoint_even_if_not_the_reply) {
  auto chatty = sys.create_actor<Chatty>();
  sys.tell(chatty, "emit");
  BOOST_TEST(text_of(sys.ask(chatty, "question", patience)) == "unsolicited");
  BOOST_TEST(text_of(sys.listen(patience)) == "answer");
}

BOOST_AUTO_TEST_CASE(actor_replying_twice_ask_gets_the_first_and_listen_the_second) {
  auto chatty = sys.create_actor<Chatty>();
  BOOST_TEST(text_of(sys.ask(chatty, "twice", patience)) == "first");
  BOOST_TEST(text_of(sys.listen(patience)) == "second");
  BOOST_TEST(!sys.listen(brief).has_value());
}

BOOST_AUTO_TEST_CASE(extra_replies_wait_for_later_listen_calls_in_order) {
  auto chatty = sys.create_actor<Chatty>();
  BOOST_TEST(text_of(sys.ask(chatty, "thrice", patience)) == "one");
  BOOST_TEST(text_of(sys.ask(chatty, "question", patience)) == "two");
  BOOST_TEST(text_of(sys.listen(patience)) == "three");
  BOOST_TEST(text_of(sys.listen(patience)) == "answer");
}

BOOST_AUTO_TEST_CASE(actor_exit_request_sent_to_the_external_endpoint_does_not_break_it) {
  auto chatty = sys.create_actor<Chatty>();
  BOOST_TEST(text_of(sys.ask(chatty, "rude", patience)) == "still here");
  BOOST_TEST(text_of(sys.ask(chatty, "question", patience)) == "answer");
}

BOOST_AUTO_TEST_CASE(actor_exit_request_sent_to_a_private_context_does_not_break_it) {
  auto chatty = sys.create_actor<Chatty>();
  auto ctx = sys.private_context();
  BOOST_TEST(text_of(ctx.ask(chatty, "rude", patience)) == "still here");
  BOOST_TEST(text_of(ctx.ask(chatty, "question", patience)) == "answer");
}

BOOST_AUTO_TEST_CASE(late_reply_to_a_timed_out_ask_is_returned_by_a_later_listen) {
  auto chatty = sys.create_actor<Chatty>();
  BOOST_TEST(!sys.ask(chatty, "slow", 50ms).has_value());
  BOOST_TEST(text_of(sys.listen(patience)) == "slow answer");
}

BOOST_AUTO_TEST_CASE(listen_on_another_thread_receives_the_reply_to_a_tell) {
  auto chatty = sys.create_actor<Chatty>();
  sys.tell(chatty, "question");
  std::optional<Message> heard;
  std::thread listener([&] { heard = sys.listen(patience); });
  listener.join();
  BOOST_TEST(text_of(heard) == "answer");
}

BOOST_AUTO_TEST_SUITE_END()

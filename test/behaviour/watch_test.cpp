// watch(fd): on a base with "Thespian Watch Supported" (the multi-process bases), a descriptor
// the actor opened in its own process delivers WatchMessage{{fd}} once per readiness, again
// after each handled message while it stays readable, and never after unwatch(fd); watching
// it anew resumes. Elsewhere watch() is refused with ActorSystemFailure naming the capability.
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <variant>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace watch_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

// One WatchMessage as the watcher saw it: whether it named the watched descriptor, and the one
// byte the watcher then read from it ('\0' when nothing could be read).
struct Ready {
  bool names_the_socket = false;
  char byte = '\0';
  template <class A> void serialize(A& ar) { ar(names_the_socket, byte); }
};

// Owns a connected pair of UNIX stream sockets and watches one end. It reads one byte per
// WatchMessage, so two bytes written at once must give two messages: one per readiness,
// re-armed after each. Sockets rather than a pipe: a pipe signals readiness again after every
// partial read, a socket does not, so a watch that only waits for the next edge fails here.
class PipeWatcher : public thespian::Actor {
 public:
  ~PipeWatcher() override {
    if (fds_[0] >= 0) ::close(fds_[0]);
    if (fds_[1] >= 0) ::close(fds_[1]);
  }

  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "watch")) {
      reporter_ = from;
      if (fds_[0] < 0 &&
          ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds_) != 0) {
        send(from, std::string("socketpair failed"));
        co_return;
      }
      try {
        watch(fds_[0]);
        send(from, std::string("watching"));
      } catch (const thespian::ActorSystemFailure& e) {
        send(from, std::string("refused: ") + e.what());
      }
    } else if (const auto* text = m.get<std::string>(); text && text->rfind("write ", 0) == 0) {
      const std::string bytes = text->substr(6);
      const bool all = ::write(fds_[1], bytes.data(), bytes.size()) ==
                       static_cast<ssize_t>(bytes.size());
      send(from, std::string(all ? "written" : "write failed"));
    } else if (is_text(m, "unwatch")) {
      unwatch(fds_[0]);
      send(from, std::string("unwatched"));
    } else if (const auto* w = m.get<thespian::WatchMessage>()) {
      Ready ready;
      ready.names_the_socket = w->ready.size() == 1 && w->ready.front() == fds_[0];
      if (::read(fds_[0], &ready.byte, 1) != 1) ready.byte = '\0';
      send(reporter_, ready);
    }
    co_return;
  }

 private:
  int fds_[2] = {-1, -1};
  ActorAddress reporter_;
};

bool watch_supported(const thespian::ActorSystem& sys) {
  const auto caps = sys.capabilities();
  const auto it = caps.find("Thespian Watch Supported");
  return it != caps.end() && it->second == thespian::CapabilityValue(true);
}

}  // namespace watch_test

THESPIAN_MESSAGE(watch_test::Ready);

using namespace watch_test;
using thespian_test::brief;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

BOOST_FIXTURE_TEST_SUITE(watch, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(the_capability_says_which_bases_watch) {
  BOOST_TEST(watch_supported(sys) == thespian_test::is_multiprocess());
}

BOOST_AUTO_TEST_CASE(watch_is_refused_clearly_where_it_is_not_supported) {
  if (watch_supported(sys)) return;
  auto watcher = sys.create_actor<PipeWatcher>();
  const std::string reply = text_of(sys.ask(watcher, std::string("watch"), patience));
  BOOST_TEST(reply.rfind("refused: ", 0) == 0, reply);
  BOOST_TEST(reply.find("Thespian Watch Supported") != std::string::npos, reply);
}

BOOST_AUTO_TEST_CASE(a_readable_descriptor_gives_one_watch_message_per_readiness) {
  if (!watch_supported(sys)) return;
  auto watcher = sys.create_actor<PipeWatcher>();
  BOOST_REQUIRE(text_of(sys.ask(watcher, std::string("watch"), patience)) == "watching");
  BOOST_TEST(!sys.listen(brief).has_value(), "a WatchMessage for an empty socket");

  BOOST_REQUIRE(text_of(sys.ask(watcher, std::string("write ab"), patience)) == "written");
  const auto first = reply_as<Ready>(sys.listen(patience));
  BOOST_TEST(first.names_the_socket);
  BOOST_TEST(first.byte == 'a');
  // Still readable after the first was handled: a second message, for the second byte.
  const auto second = reply_as<Ready>(sys.listen(patience));
  BOOST_TEST(second.names_the_socket);
  BOOST_TEST(second.byte == 'b');
  BOOST_TEST(!sys.listen(brief).has_value(), "a WatchMessage after the socket was drained");
}

BOOST_AUTO_TEST_CASE(unwatch_stops_the_messages_and_watch_resumes_them) {
  if (!watch_supported(sys)) return;
  auto watcher = sys.create_actor<PipeWatcher>();
  BOOST_REQUIRE(text_of(sys.ask(watcher, std::string("watch"), patience)) == "watching");
  BOOST_REQUIRE(text_of(sys.ask(watcher, std::string("unwatch"), patience)) == "unwatched");
  BOOST_REQUIRE(text_of(sys.ask(watcher, std::string("write c"), patience)) == "written");
  BOOST_TEST(!sys.listen(brief).has_value(), "a WatchMessage after unwatch");

  BOOST_REQUIRE(text_of(sys.ask(watcher, std::string("watch"), patience)) == "watching");
  const auto ready = reply_as<Ready>(sys.listen(patience));
  BOOST_TEST(ready.names_the_socket);
  BOOST_TEST(ready.byte == 'c');
}

BOOST_AUTO_TEST_SUITE_END()

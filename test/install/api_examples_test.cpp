// API.md's examples, compiled OUTSIDE the project: check_install.sh builds this file against an
// installed prefix with only `pkg-config --cflags --libs thespian`, and it runs each example on
// every in-process base. It includes nothing but the umbrella header (and Asio/Boost.Test).
#define BOOST_TEST_MODULE thespian_installed_api
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <future>
#include <string>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <thespian/thespian.hpp>

using namespace std::chrono_literals;

namespace app {

struct Greeting {
  std::string text;
  friend bool operator==(const Greeting&, const Greeting&) = default;
  template <class A> void serialize(A& ar) { ar(text); }
};

class Hello : public thespian::ActorTypeDispatcher<Hello, Greeting, thespian::WakeupMessage> {
 public:
  asio::awaitable<void> on(const Greeting& g, const thespian::ActorAddress& from) {
    send(from, "Hello, " + g.text);
    co_return;
  }
  void on(const thespian::WakeupMessage& w, const thespian::ActorAddress&) {
    send(waiter_, w.payload);
  }
  void on_unrecognized(const thespian::Message& m, const thespian::ActorAddress& from) {
    if (m.is<std::string>() && m.as<std::string>() == "wake me") {
      waiter_ = from;
      wakeup_after(10ms, std::string("woken"));
    }
  }

 private:
  thespian::ActorAddress waiter_;
};

class Gpu : public thespian::Actor {
 public:
  asio::awaitable<void> receive(thespian::Message, thespian::ActorAddress from) override {
    send(from, true);
    co_return;
  }
};

}  // namespace app

THESPIAN_MESSAGE(app::Greeting);
THESPIAN_ACTOR(app::Hello);
THESPIAN_ACTOR_REQUIRES(app::Gpu, "GPU");

namespace {

const char* const kBases[] = {"simpleSystemBase", "multithreadBase"};

asio::awaitable<void> ask_from_coroutine(thespian::ActorSystem& sys, thespian::ActorAddress addr,
                                         std::string& out) {
  app::Greeting hi{"coroutine"};
  auto reply = co_await sys.async_ask(addr, hi, 5s, asio::use_awaitable);
  if (reply) out = reply->as<std::string>();
}

}  // namespace

BOOST_AUTO_TEST_CASE(messages_carry_registered_wire_names_and_values) {
  thespian::Message m = app::Greeting{"hi"};
  BOOST_TEST(m.is<app::Greeting>());
  BOOST_TEST(m.type_name() == "app::Greeting");
  BOOST_TEST(m.as<app::Greeting>().text == "hi");
  BOOST_TEST(m.get<std::string>() == nullptr);
  BOOST_CHECK_THROW(m.as<std::string>(), thespian::BadMessageCast);
  BOOST_TEST((thespian::Message("text") == thespian::Message(std::string("text"))));
  BOOST_TEST(!(thespian::Message(std::int64_t{1}) == thespian::Message(true)));
}

BOOST_AUTO_TEST_CASE(hello_actor_answers_ask_on_every_base) {
  for (const char* base : kBases) {
    thespian::ActorSystem sys(base);
    auto hello = sys.create_actor<app::Hello>();
    BOOST_TEST(static_cast<bool>(hello));
    auto reply = sys.ask(hello, app::Greeting{"world"}, 5s);
    BOOST_REQUIRE_MESSAGE(reply.has_value(), base);
    BOOST_TEST(reply->as<std::string>() == "Hello, world");
    sys.shutdown();
  }
}

BOOST_AUTO_TEST_CASE(actors_are_created_by_registered_name_on_every_base) {
  for (const char* base : kBases) {
    thespian::ActorSystem sys(base);
    auto hello = sys.create_actor("app::Hello");
    auto reply = sys.ask(hello, app::Greeting{"by name"}, 5s);
    BOOST_REQUIRE_MESSAGE(reply.has_value(), base);
    BOOST_TEST(reply->as<std::string>() == "Hello, by name");
    BOOST_CHECK_THROW(sys.create_actor("app::Nobody"), thespian::InvalidActorSpecification);
  }
}

BOOST_AUTO_TEST_CASE(async_ask_works_with_use_awaitable_and_use_future_on_every_base) {
  for (const char* base : kBases) {
    thespian::ActorSystem sys(base);
    auto hello = sys.create_actor<app::Hello>();
    asio::io_context app_context;
    std::string from_coroutine;
    asio::co_spawn(app_context, ask_from_coroutine(sys, hello, from_coroutine), asio::detached);
    app_context.run();
    BOOST_TEST(from_coroutine == "Hello, coroutine");
    std::future<std::optional<thespian::Message>> future =
        sys.async_ask(hello, app::Greeting{"future"}, 5s, asio::use_future);
    BOOST_REQUIRE(future.wait_for(10s) == std::future_status::ready);
    auto reply = future.get();
    BOOST_REQUIRE_MESSAGE(reply.has_value(), base);
    BOOST_TEST(reply->as<std::string>() == "Hello, future");
  }
}

BOOST_AUTO_TEST_CASE(wakeups_deliver_their_payload_on_every_base) {
  for (const char* base : kBases) {
    thespian::ActorSystem sys(base);
    auto hello = sys.create_actor<app::Hello>();
    auto reply = sys.ask(hello, std::string("wake me"), 5s);
    BOOST_REQUIRE_MESSAGE(reply.has_value(), base);
    BOOST_TEST(reply->as<std::string>() == "woken");
  }
}

BOOST_AUTO_TEST_CASE(requirements_decide_placement_on_every_base) {
  for (const char* base : kBases) {
    thespian::ActorSystem plain(base);
    BOOST_CHECK_THROW(plain.create_actor<app::Gpu>(), thespian::NoCompatibleSystemForActor);
    thespian::ActorSystem gpu(base, thespian::Capabilities{{"GPU", true}});
    auto actor = gpu.create_actor<app::Gpu>();
    auto reply = gpu.ask(actor, std::string("?"), 5s);
    BOOST_REQUIRE_MESSAGE(reply.has_value(), base);
    BOOST_TEST(reply->as<bool>());
  }
}

BOOST_AUTO_TEST_CASE(status_reports_the_base_and_actor_count) {
  for (const char* base : kBases) {
    thespian::ActorSystem sys(base);
    sys.create_actor<app::Hello>();
    thespian::SystemStatus status = sys.status();
    BOOST_TEST(status.base == base);
    BOOST_TEST(status.actor_count == 1u);
    BOOST_TEST(!status.format().empty());
  }
}

// Port of Thespian's Romeo and Juliet tests: a director casts two players, who speak the lines of a
// script to each other (the dialogue so far travels with each cue, player to player). Each line is
// also reported to the director; after the last line the director dismisses the players and
// reports the dialogue as the players passed it on. Only per-sender order is relied upon.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace romeo_juliet_test {

using thespian::ActorAddress;
using thespian::Message;

struct Line {
  std::string speaker;
  std::string text;
  friend bool operator==(const Line&, const Line&) = default;
  template <class A> void serialize(A& ar) { ar(speaker, text); }
};
using Script = std::vector<Line>;

// director -> player: who you are, what is said, to whom you speak, whom you report to.
struct Role {
  std::string name;
  Script script;
  ActorAddress partner;
  ActorAddress director;
  template <class A> void serialize(A& ar) { ar(name, script, partner, director); }
};
// director -> first speaker: the play begins.
struct Curtain {
  template <class A> void serialize(A&) {}
};
// player -> player: "I have just said line `index`"; the dialogue so far, in the order spoken.
struct Said {
  std::size_t index = 0;
  Script dialogue;
  template <class A> void serialize(A& ar) { ar(index, dialogue); }
};
// last speaker -> director: the whole dialogue.
struct Finale {
  Script dialogue;
  template <class A> void serialize(A& ar) { ar(dialogue); }
};
// player -> director: the line as it was spoken.
struct Spoken {
  std::size_t index = 0;
  Line line;
  template <class A> void serialize(A& ar) { ar(index, line); }
};
// outside -> director, and director -> outside when the play is over.
struct Perform {
  Script script;
  template <class A> void serialize(A& ar) { ar(script); }
};
struct Performance {
  Script transcript;                // as passed from player to player
  std::vector<std::size_t> heard;   // how often the director was told of each line
  int players_exited = 0;
  template <class A> void serialize(A& ar) { ar(transcript, heard, players_exited); }
};

class Player : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* role = m.get<Role>()) {
      role_ = *role;
      // Order is promised per sender only: the partner's first Said (or the Curtain) may come
      // before the director's Role, e.g. when the processes of both players are still starting.
      for (const auto& cue : early_cues_) play(cue);
      early_cues_.clear();
    } else if (m.is<Curtain>() || m.is<Said>()) {
      if (role_.name.empty()) {
        early_cues_.push_back(m);
      } else {
        play(m);
      }
    }
    co_return;
  }

 private:
  void play(const Message& cue) {
    if (cue.is<Curtain>()) {
      speak_from(0, {});
    } else if (const auto* said = cue.get<Said>()) {
      speak_from(said->index + 1, said->dialogue);
    }
  }

  // Speaks every line from `index` on that is ours, stopping at the partner's next line.
  void speak_from(std::size_t index, Script dialogue) {
    while (index < role_.script.size() && role_.script[index].speaker == role_.name) {
      const Line line{role_.name, role_.script[index].text};
      dialogue.push_back(line);
      send(role_.director, Spoken{index, line});
      if (index + 1 == role_.script.size()) {
        send(role_.director, Finale{dialogue});
      } else {
        send(role_.partner, Said{index, dialogue});
      }
      ++index;
    }
  }

  Role role_;
  std::vector<Message> early_cues_;  // cues that came before the Role
};

class Director : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* perform = m.get<Perform>()) {
      audience_ = from;
      script_ = perform->script;
      result_.heard.assign(script_.size(), 0);
      romeo_ = create_actor<Player>();
      juliet_ = create_actor<Player>();
      send(romeo_, Role{"Romeo", script_, juliet_, my_address()});
      send(juliet_, Role{"Juliet", script_, romeo_, my_address()});
      send(script_.front().speaker == "Romeo" ? romeo_ : juliet_, Curtain{});
    } else if (const auto* spoken = m.get<Spoken>()) {
      if (spoken->index < script_.size() && spoken->line == script_[spoken->index]) {
        ++result_.heard[spoken->index];
      }
      ++spoken_;
      dismiss_when_done();
    } else if (const auto* finale = m.get<Finale>()) {
      result_.transcript = finale->dialogue;
      finale_ = true;
      dismiss_when_done();
    } else if (const auto* exited = m.get<thespian::ChildActorExited>()) {
      if (exited->child == romeo_ || exited->child == juliet_) ++result_.players_exited;
      if (result_.players_exited == 2) send(audience_, result_);
    }
    co_return;
  }

 private:
  void dismiss_when_done() {
    if (finale_ && spoken_ == script_.size()) {
      send(romeo_, thespian::ActorExitRequest{});
      send(juliet_, thespian::ActorExitRequest{});
    }
  }

  ActorAddress audience_, romeo_, juliet_;
  Script script_;
  std::size_t spoken_ = 0;
  bool finale_ = false;
  Performance result_;
};

Script balcony_scene() {
  return {
      {"Romeo", "But, soft! what light through yonder window breaks?"},
      {"Romeo", "It is the east, and Juliet is the sun."},
      {"Juliet", "Ay me!"},
      {"Romeo", "She speaks: O, speak again, bright angel!"},
      {"Juliet", "O Romeo, Romeo! wherefore art thou Romeo?"},
      {"Juliet", "Deny thy father and refuse thy name;"},
      {"Romeo", "Shall I hear more, or shall I speak at this?"},
      {"Juliet", "'Tis but thy name that is my enemy;"},
      {"Juliet", "What's in a name? that which we call a rose"},
      {"Juliet", "By any other name would smell as sweet;"},
      {"Romeo", "I take thee at thy word:"},
      {"Romeo", "Call me but love, and I'll be new baptized;"},
      {"Juliet", "What man art thou that thus bescreen'd in night"},
      {"Juliet", "So stumblest on my counsel?"},
      {"Romeo", "By a name I know not how to tell thee who I am:"},
  };
}

// A long script whose speakers follow a fixed irregular pattern.
Script long_scene(std::size_t lines) {
  Script script;
  for (std::size_t i = 0; i < lines; ++i) {
    const bool romeo = (i * 7 + i / 3) % 5 < 3;
    script.push_back({romeo ? "Romeo" : "Juliet", "line " + std::to_string(i)});
  }
  return script;
}

}  // namespace romeo_juliet_test

THESPIAN_MESSAGE(romeo_juliet_test::Line);
THESPIAN_MESSAGE(romeo_juliet_test::Role);
THESPIAN_MESSAGE(romeo_juliet_test::Curtain);
THESPIAN_MESSAGE(romeo_juliet_test::Said);
THESPIAN_MESSAGE(romeo_juliet_test::Finale);
THESPIAN_MESSAGE(romeo_juliet_test::Spoken);
THESPIAN_MESSAGE(romeo_juliet_test::Perform);
THESPIAN_MESSAGE(romeo_juliet_test::Performance);

using namespace romeo_juliet_test;
using thespian_test::patience;
using thespian_test::reply_as;

BOOST_FIXTURE_TEST_SUITE(romeo_juliet, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(romeo_and_juliet_perform_the_balcony_scene_in_order) {
  auto director = sys.create_actor<Director>();
  auto result = reply_as<Performance>(sys.ask(director, Perform{balcony_scene()}, patience));
  BOOST_TEST(result.transcript.size() == balcony_scene().size());
  BOOST_CHECK(result.transcript == balcony_scene());
}

BOOST_AUTO_TEST_CASE(director_is_told_of_every_line_exactly_once) {
  auto director = sys.create_actor<Director>();
  auto result = reply_as<Performance>(sys.ask(director, Perform{balcony_scene()}, patience));
  const std::vector<std::size_t> once(balcony_scene().size(), 1);
  BOOST_TEST(result.heard == once, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(each_player_speaks_only_its_own_lines) {
  auto director = sys.create_actor<Director>();
  auto result = reply_as<Performance>(sys.ask(director, Perform{balcony_scene()}, patience));
  const auto script = balcony_scene();
  BOOST_REQUIRE(result.transcript.size() == script.size());
  for (std::size_t i = 0; i < script.size(); ++i) {
    BOOST_TEST(result.transcript[i].speaker == script[i].speaker);
  }
}

BOOST_AUTO_TEST_CASE(director_learns_that_both_players_exited_after_the_curtain) {
  auto director = sys.create_actor<Director>();
  auto result = reply_as<Performance>(sys.ask(director, Perform{balcony_scene()}, patience));
  BOOST_TEST(result.players_exited == 2);
}

BOOST_AUTO_TEST_CASE(a_long_dialogue_of_five_hundred_lines_arrives_complete_and_in_order) {
  auto director = sys.create_actor<Director>();
  const auto script = long_scene(500);
  auto result = reply_as<Performance>(sys.ask(director, Perform{script}, patience));
  BOOST_TEST(result.transcript.size() == script.size());
  BOOST_CHECK(result.transcript == script);
}

BOOST_AUTO_TEST_CASE(two_companies_perform_at_once_without_mixing_their_lines) {
  auto first = sys.create_actor<Director>();
  auto second = sys.create_actor<Director>();
  const auto balcony = balcony_scene();
  const auto other = long_scene(60);
  sys.tell(first, Perform{balcony});
  sys.tell(second, Perform{other});
  std::set<std::size_t> sizes;
  for (int i = 0; i < 2; ++i) {
    auto result = reply_as<Performance>(sys.listen(patience));
    sizes.insert(result.transcript.size());
    if (result.transcript.size() == balcony.size()) {
      BOOST_CHECK(result.transcript == balcony);
    } else {
      BOOST_CHECK(result.transcript == other);
    }
  }
  BOOST_TEST(sizes.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

// 05-multi-process: the same actors as before, each in an OS process of its own. On a
// multi-process base (multiprocQueueBase: one host, UNIX sockets) a supervisor actor starts two
// worker actors, every actor reports its pid, one worker crashes (SIGKILL on itself), its
// supervisor gets ChildActorExited and tells the program, the other worker keeps answering, and
// shutdown() ends every actor process. Exits 0 only if all of that happened.
//
//   05-multi-process [base]     (default multiprocQueueBase)
//
// What a multi-process program adds to the earlier examples:
// - serve_actor_process(argc, argv) as the first line of main(), so that a copy of this program
//   started to host an actor becomes that host and never runs the rest of main();
// - THESPIAN_ACTOR for every actor type and THESPIAN_MESSAGE for every message type of our own
//   (with a cereal serialize()): they cross processes by their registered names.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <thespian/thespian.hpp>

using namespace std::chrono_literals;

namespace multi {

using thespian::ActorAddress;

// Our messages: plain structs with a cereal serialize(), registered below with THESPIAN_MESSAGE.
struct Pid {  // the answer to "pid"
  std::int64_t value = 0;
  template <class A> void serialize(A& ar) { ar(value); }
};
struct Team {  // the answer to "start": the workers' addresses
  std::vector<ActorAddress> workers;
  template <class A> void serialize(A& ar) { ar(workers); }
};
struct WorkerLost {  // supervisor -> whoever sent "start", when a worker's process has ended
  ActorAddress worker;
  template <class A> void serialize(A& ar) { ar(worker); }
};

// "pid" -> Pid; "crash" ends its own process at once, as a segfault or the OOM killer would.
class Worker : public thespian::ActorTypeDispatcher<Worker, std::string> {
 public:
  void on(const std::string& command, const ActorAddress& from) {
    if (command == "pid") send(from, Pid{::getpid()});
    if (command == "crash") ::raise(SIGKILL);
  }
};

// "start" -> creates two Worker children (two more processes) and answers a Team;
// "pid" -> Pid. A child that exits, however it ends, arrives here as ChildActorExited.
class Supervisor
    : public thespian::ActorTypeDispatcher<Supervisor, std::string, thespian::ChildActorExited> {
 public:
  void on(const std::string& command, const ActorAddress& from) {
    if (command == "pid") send(from, Pid{::getpid()});
    if (command == "start") {
      owner_ = from;
      Team team;
      for (int i = 0; i < 2; ++i) team.workers.push_back(create_actor<Worker>());
      send(from, team);
    }
  }
  void on(const thespian::ChildActorExited& exited, const ActorAddress&) {
    if (owner_) send(owner_, WorkerLost{exited.child});
  }

 private:
  ActorAddress owner_;
};

// The pid an actor reports, or 0 when it does not answer in time.
std::int64_t pid_of(thespian::ActorSystem& sys, const ActorAddress& actor) {
  auto reply = sys.ask(actor, std::string("pid"), 10s);
  const auto* pid = reply ? reply->get<Pid>() : nullptr;
  return pid ? pid->value : 0;
}

// Whether the process has ended and been reaped (a zombie still counts) by `deadline`.
bool gone_by(std::int64_t pid, std::chrono::steady_clock::time_point deadline) {
  if (pid <= 0) return false;  // never got it (and kill(0, ...) would mean our process group)
  while (::kill(static_cast<pid_t>(pid), 0) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

}  // namespace multi

THESPIAN_ACTOR(multi::Worker);
THESPIAN_ACTOR(multi::Supervisor);
THESPIAN_MESSAGE(multi::Pid);
THESPIAN_MESSAGE(multi::Team);
THESPIAN_MESSAGE(multi::WorkerLost);

namespace {

int run(const std::string& base) {
  thespian::ActorSystem sys(base);  // also starts the admin and logger processes
  std::cout << "main: pid " << ::getpid() << " on " << sys.base() << std::endl;

  auto supervisor = sys.create_actor<multi::Supervisor>();
  auto team = sys.ask(supervisor, std::string("start"), 10s);
  if (!team || !team->is<multi::Team>() || team->as<multi::Team>().workers.size() != 2) {
    std::cout << "no team\n";
    return 1;
  }
  const auto workers = team->as<multi::Team>().workers;
  const std::vector<std::int64_t> pids = {multi::pid_of(sys, supervisor),
                                          multi::pid_of(sys, workers[0]),
                                          multi::pid_of(sys, workers[1])};
  std::cout << "supervisor: pid " << pids[0] << "\nworker 1: pid " << pids[1]
            << "\nworker 2: pid " << pids[2] << std::endl;
  std::set<std::int64_t> distinct(pids.begin(), pids.end());
  distinct.insert(::getpid());
  const bool separate = !distinct.contains(0) && distinct.size() == 4;

  // Worker 1 crashes; its supervisor (another process) learns it from the base and tells us.
  sys.tell(workers[0], std::string("crash"));
  auto lost = sys.listen(10s);
  const bool reported = lost && lost->is<multi::WorkerLost>() &&
                        lost->as<multi::WorkerLost>().worker == workers[0];
  std::cout << "supervisor reports: " << (reported ? "worker 1 lost" : "(nothing)") << std::endl;
  const bool survivor_ok = multi::pid_of(sys, workers[1]) == pids[2];
  std::cout << "worker 2 still answers: " << (survivor_ok ? "yes" : "no") << std::endl;

  sys.shutdown();  // asks every actor to exit, then ends the admin and logger processes
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  bool all_gone = true;
  for (auto pid : pids) all_gone = multi::gone_by(pid, deadline) && all_gone;
  std::cout << "after shutdown: actor processes " << (all_gone ? "all gone" : "still there")
            << std::endl;
  return separate && reported && survivor_ok && all_gone ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  thespian::serve_actor_process(argc, argv);  // first: an actor host never returns from it
  const std::string base = argc > 1 ? argv[1] : "multiprocQueueBase";
  try {
    return run(base);
  } catch (const thespian::ActorSystemException& e) {  // e.g. a base that does not exist (yet)
    std::cout << "05-multi-process: " << e.what() << "\n";
    return 1;
  }
}

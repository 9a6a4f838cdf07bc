// simpleSystemBase's driver: no threads of its own. Actors run on the calling thread during
// tell/ask/listen/status, until they are quiet or the caller's wait is over.
#include "core/outbox.hpp"
#include "system/base_driver.hpp"

#include <asio/post.hpp>

namespace thespian::detail {
namespace {

class simple_driver final : public base_driver {
 public:
  static constexpr std::size_t kBatch = 256;

  simple_driver(asio::io_context& context, std::size_t run_limit)
      : context_(context), run_limit_(run_limit) {}

  bool wait_until(const std::function<bool()>& pred, clock::time_point deadline) override {
    flush_gathered_sends_here();  // called from inside an actor: what it waits for may need them
    while (!pred()) {
      if (clock::now() >= deadline) return false;
      if (context_.stopped()) context_.restart();
      // A batch of ready handlers between checks (checking after each one would cost a lock
      // and a clock read per message), bounded so that a loop that never goes quiet cannot
      // keep the deadline from being seen.
      std::size_t ran = 0;
      while (ran < kBatch && context_.poll_one() > 0) ++ran;
      if (ran > 0) continue;
      if (context_.stopped()) context_.restart();
      if (context_.run_one_until(deadline) == 0 && context_.stopped()) {
        // No outstanding work: no actor is alive and no timer is pending, so nothing on
        // this system can make pred() true any more.
        return pred();
      }
    }
    return true;
  }

  void run_until_quiet() override {
    if (context_.stopped()) context_.restart();
    for (std::size_t ran = 0; ran < run_limit_; ++ran) {
      if (context_.poll_one() == 0) break;
    }
  }

  void notify() override {
    // A delivery from another thread must wake a caller blocked in run_one_until.
    if (!context_.get_executor().running_in_this_thread()) asio::post(context_, [] {});
  }

  void stop() override { context_.stop(); }
  std::size_t thread_count() const override { return 0; }

 private:
  asio::io_context& context_;
  std::size_t run_limit_;
};

}  // namespace

std::unique_ptr<base_driver> make_simple_driver(asio::io_context& context, std::size_t run_limit) {
  return std::make_unique<simple_driver>(context, run_limit);
}

}  // namespace thespian::detail

// Implements host_entry.hpp: a name -> function map behind a mutex.
#include "system/process/host_entry.hpp"

#include <map>
#include <mutex>

namespace thespian::detail::process {
namespace {

struct entries {
  std::mutex mutex;
  std::map<std::string, host_entry, std::less<>> by_name;
};

entries& all_entries() {
  static entries e;
  return e;
}

}  // namespace

void register_host_entry(std::string name, host_entry entry) {
  auto& e = all_entries();
  std::lock_guard lock(e.mutex);
  e.by_name.insert_or_assign(std::move(name), entry);
}

host_entry find_host_entry(std::string_view name) {
  auto& e = all_entries();
  std::lock_guard lock(e.mutex);
  auto it = e.by_name.find(name);
  return it == e.by_name.end() ? nullptr : it->second;
}

}  // namespace thespian::detail::process

// Implements thread_count.hpp by counting the entries of /proc/self/task.
#include "system/process/thread_count.hpp"

#include <dirent.h>

#include <cerrno>
#include <system_error>

namespace thespian::detail::process {

std::size_t current_thread_count() {
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) {
    throw std::system_error(errno, std::generic_category(), "opendir(/proc/self/task)");
  }
  std::size_t count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count;
}

}  // namespace thespian::detail::process

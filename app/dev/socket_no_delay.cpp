#include "app/dev/socket_no_delay.hpp"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>
#include <memory>

#include "common/thread_name.hpp"

namespace tastesync {
namespace {

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};

// A descriptor of this process that is a TCP socket (stream, IPv4 or IPv6).
bool is_tcp_socket(int fd) {
  int type = 0;
  socklen_t size = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) != 0 || type != SOCK_STREAM) return false;
  int domain = 0;
  size = sizeof(domain);
  return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &size) == 0 &&
         (domain == AF_INET || domain == AF_INET6);
}

}  // namespace

SocketNoDelaySweeper::SocketNoDelaySweeper(std::chrono::milliseconds period)
    : period_(period), thread_([this](const std::stop_token& stop) { run(stop); }) {
  (void)sweep_once();
}

SocketNoDelaySweeper::~SocketNoDelaySweeper() {
  thread_.request_stop();
  stopped_.notify_all();
}

int SocketNoDelaySweeper::sweep_once() {
  const std::unique_ptr<DIR, DirCloser> dir(opendir("/proc/self/fd"));
  if (!dir) return 0;
  int set = 0;
  while (const dirent* entry = readdir(dir.get())) {
    int fd = -1;
    const char* end = entry->d_name + std::strlen(entry->d_name);
    if (std::from_chars(entry->d_name, end, fd).ptr != end || fd < 0) continue;
    // A descriptor closed (or reused) since readdir saw it fails these calls or gets a harmless
    // option: nothing here can act on a file that is not a TCP socket.
    if (!is_tcp_socket(fd)) continue;
    int delay_off = 0;
    socklen_t size = sizeof(delay_off);
    if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &delay_off, &size) == 0 && delay_off != 0) {
      continue;
    }
    const int on = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == 0) ++set;
  }
  return set;
}

void SocketNoDelaySweeper::run(const std::stop_token& stop) {
  name_this_thread("mock-nodelay");
  std::unique_lock lock(mutex_);
  // The constructor made the first sweep.
  while (!stop.stop_requested()) {
    stopped_.wait_for(lock, stop, period_, [] { return false; });
    if (stop.stop_requested()) break;
    lock.unlock();
    (void)sweep_once();
    lock.lock();
  }
}

}  // namespace tastesync

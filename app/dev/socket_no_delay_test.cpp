// SocketNoDelaySweeper (docs/platform.md#mock-latency) on a real loopback connection.
#include "app/dev/socket_no_delay.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace tastesync {
namespace {

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

bool no_delay(int fd) {
  int value = 0;
  socklen_t size = sizeof(value);
  EXPECT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &size), 0);
  return value != 0;
}

// A connected pair over loopback: [listener, client, accepted].
struct Connection {
  Socket listener{socket(AF_INET, SOCK_STREAM, 0)};
  Socket client{socket(AF_INET, SOCK_STREAM, 0)};
  std::unique_ptr<Socket> accepted;

  Connection() {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(address);
    EXPECT_EQ(bind(listener.fd(), reinterpret_cast<sockaddr*>(&address), size), 0);
    EXPECT_EQ(listen(listener.fd(), 1), 0);
    EXPECT_EQ(getsockname(listener.fd(), reinterpret_cast<sockaddr*>(&address), &size), 0);
    EXPECT_EQ(connect(client.fd(), reinterpret_cast<sockaddr*>(&address), size), 0);
    accepted = std::make_unique<Socket>(accept(listener.fd(), nullptr, nullptr));
    EXPECT_GE(accepted->fd(), 0);
  }
};

TEST(SocketNoDelay, ASweepTurnsNagleOffOnEveryTcpSocketOfTheProcess) {
  const Connection connection;
  ASSERT_FALSE(no_delay(connection.accepted->fd()));
  ASSERT_FALSE(no_delay(connection.client.fd()));
  EXPECT_GE(SocketNoDelaySweeper::sweep_once(), 2);
  EXPECT_TRUE(no_delay(connection.accepted->fd()));
  EXPECT_TRUE(no_delay(connection.client.fd()));
  // Nothing left to set: a second pass changes nothing it has already changed.
  const Connection other;
  EXPECT_EQ(SocketNoDelaySweeper::sweep_once(), 3);  // other's listener, client and accepted
}

TEST(SocketNoDelay, OtherDescriptorsAreLeftAlone) {
  int pipe_ends[2] = {-1, -1};
  ASSERT_EQ(pipe(pipe_ends), 0);
  const Socket read_end(pipe_ends[0]);
  const Socket write_end(pipe_ends[1]);
  const Socket local(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_GE(local.fd(), 0);
  EXPECT_EQ(SocketNoDelaySweeper::sweep_once(), 0);
  char byte = 'x';
  EXPECT_EQ(write(write_end.fd(), &byte, 1), 1);
  EXPECT_EQ(read(read_end.fd(), &byte, 1), 1);
}

TEST(SocketNoDelay, TheSweeperSetsConnectionsMadeWhileItRuns) {
  const SocketNoDelaySweeper sweeper(std::chrono::milliseconds(1));
  const Connection connection;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!no_delay(connection.accepted->fd()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(no_delay(connection.accepted->fd()));
}

}  // namespace
}  // namespace tastesync

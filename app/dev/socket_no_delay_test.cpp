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

// A TCP listener on a free loopback port.
struct Listener {
  Socket socket{::socket(AF_INET, SOCK_STREAM, 0)};
  sockaddr_in address{};

  Listener() {
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(address);
    EXPECT_EQ(bind(socket.fd(), reinterpret_cast<sockaddr*>(&address), size), 0);
    EXPECT_EQ(listen(socket.fd(), 1), 0);
    EXPECT_EQ(getsockname(socket.fd(), reinterpret_cast<sockaddr*>(&address), &size), 0);
  }

  // Connects `client` and returns the socket accept() gives for it.
  std::unique_ptr<Socket> accept_from(const Socket& client) const {
    EXPECT_EQ(connect(client.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)),
              0);
    auto accepted = std::make_unique<Socket>(accept(socket.fd(), nullptr, nullptr));
    EXPECT_GE(accepted->fd(), 0);
    return accepted;
  }
};

// A connected pair over loopback: [listener, client, accepted].
struct Connection {
  Listener listener;
  Socket client{socket(AF_INET, SOCK_STREAM, 0)};
  std::unique_ptr<Socket> accepted = listener.accept_from(client);
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

TEST(SocketNoDelay, TheSweeperHasSweptOnceWhenItsConstructorReturns) {
  const Connection connection;
  ASSERT_FALSE(no_delay(connection.listener.socket.fd()));
  const SocketNoDelaySweeper sweeper(std::chrono::hours(1));
  EXPECT_TRUE(no_delay(connection.listener.socket.fd()));
  EXPECT_TRUE(no_delay(connection.accepted->fd()));
  EXPECT_TRUE(no_delay(connection.client.fd()));
}

// What lets the sweeper sweep seldom: a connection accepted after its listener was set has
// TCP_NODELAY from the start (Linux copies it from the listener).
TEST(SocketNoDelay, ASweptListenerPassesItToTheConnectionsItAcceptsLater) {
  const Listener listener;
  EXPECT_GE(SocketNoDelaySweeper::sweep_once(), 1);
  ASSERT_TRUE(no_delay(listener.socket.fd()));

  const Socket client(socket(AF_INET, SOCK_STREAM, 0));
  const auto accepted = listener.accept_from(client);
  EXPECT_TRUE(no_delay(accepted->fd()));
  EXPECT_FALSE(no_delay(client.fd()));  // not accepted: a socket of its own, never swept
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

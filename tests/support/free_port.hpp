#pragma once

namespace tastesync::testing {

// A TCP port on 127.0.0.1 nobody listens on right now. Another process could take it before the
// caller binds it; the test servers survive that by trying another.
int free_loopback_port();

}  // namespace tastesync::testing

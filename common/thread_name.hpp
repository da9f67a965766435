#pragma once

#include <pthread.h>

namespace tastesync {

// Names the calling thread as `top -H`, perf and /proc/PID/task/*/comm show it, so an operator
// (and bench/headline.py's CPU breakdown) can tell the pipeline thread from librdkafka's and
// RocksDB's, which name theirs. At most 15 characters: Linux cuts the rest.
inline void name_this_thread(const char* name) {
  (void)pthread_setname_np(pthread_self(), name);
}

}  // namespace tastesync

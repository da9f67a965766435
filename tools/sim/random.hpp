#pragma once

#include <cstdint>
#include <random>

namespace tastesync::sim {

// The simulator's only source of randomness. Each customer gets its own stream, derived from the
// run's seed and the customer's number, so a knob that changes one customer's draws (or adds a
// customer) leaves every other customer's visit as it was.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  // SplitMix64 (Steele, Lea, Flood 2014): well-spread seeds from consecutive stream numbers.
  static Rng stream(std::uint64_t seed, std::uint64_t stream_number) {
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (stream_number + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return Rng(z ^ (z >> 31));
  }

  double uniform(double low, double high) {
    return std::uniform_real_distribution<double>(low, high)(engine_);
  }
  double normal(double mean, double sigma) {
    return sigma <= 0.0 ? mean : std::normal_distribution<double>(mean, sigma)(engine_);
  }
  bool chance(double probability) { return uniform(0.0, 1.0) < probability; }
  std::size_t index(std::size_t size) {
    return std::uniform_int_distribution<std::size_t>(0, size - 1)(engine_);
  }
  std::uint64_t bits() { return engine_(); }

 private:
  std::mt19937_64 engine_;
};

}  // namespace tastesync::sim

#include "config/redactor.hpp"

#include <algorithm>
#include <optional>

namespace tastesync {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The lengths of text, from its start, that spell `byte` in one of the forms Redactor accepts;
// 0 marks no form.
struct Spellings {
  std::size_t lengths[4] = {0, 0, 0, 0};
};

Spellings spellings_of(std::string_view text, char byte) {
  Spellings found;
  std::size_t count = 0;
  if (text.empty()) return found;
  if (text[0] == byte) found.lengths[count++] = 1;
  if (text[0] == '%' && text.size() >= 3) {
    const int high = hex_value(text[1]);
    const int low = hex_value(text[2]);
    if (high >= 0 && low >= 0 && static_cast<char>(high * 16 + low) == byte) {
      found.lengths[count++] = 3;
    }
  }
  if (text[0] == '\\' && text.size() >= 2 && text[1] == byte) found.lengths[count++] = 2;
  if (byte == '\'' && text.size() >= 2 && text[0] == '\'' && text[1] == '\'') {
    found.lengths[count++] = 2;
  }
  if (byte == ' ' && text[0] == '+') found.lengths[count++] = 1;
  return found;
}

// The end of the longest spelling of `secret` that starts at `start`, if there is one. The
// forms overlap (a backslash is itself a byte a secret may hold), so every reachable position is
// followed, not only the first that fits.
std::optional<std::size_t> match_at(std::string_view text, std::size_t start,
                                    std::string_view secret) {
  // Most positions of a log line start no spelling at all: decided without allocating.
  const char first = text[start];
  if (first != secret.front() && first != '%' && first != '\\' && first != '\'' && first != '+') {
    return std::nullopt;
  }
  std::vector<std::size_t> positions = {start};
  std::vector<std::size_t> next;
  for (const char byte : secret) {
    next.clear();
    for (const std::size_t position : positions) {
      const Spellings found = spellings_of(text.substr(position), byte);
      for (const std::size_t length : found.lengths) {
        if (length != 0) next.push_back(position + length);
      }
    }
    if (next.empty()) return std::nullopt;
    std::sort(next.begin(), next.end());
    next.erase(std::unique(next.begin(), next.end()), next.end());
    std::swap(positions, next);
  }
  return positions.back();
}

}  // namespace

Redactor::Redactor(std::vector<std::string> secrets) : secrets_(std::move(secrets)) {
  std::erase_if(secrets_, [](const std::string& secret) { return secret.empty(); });
  std::sort(secrets_.begin(), secrets_.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  secrets_.erase(std::unique(secrets_.begin(), secrets_.end()), secrets_.end());
}

std::string Redactor::redact(std::string_view text) const {
  if (secrets_.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  std::size_t position = 0;
  while (position < text.size()) {
    std::optional<std::size_t> end;
    for (const std::string& secret : secrets_) {
      end = match_at(text, position, secret);
      if (end) break;
    }
    if (end) {
      out.append(kMask);
      position = *end;
    } else {
      out.push_back(text[position]);
      ++position;
    }
  }
  return out;
}

}  // namespace tastesync

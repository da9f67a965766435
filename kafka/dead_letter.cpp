#include "kafka/dead_letter.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace tastesync {
namespace {

// What librdkafka adds to a record's key, value and headers when it checks message.max.bytes
// (RD_KAFKAP_MESSAGE_V2_MAX_OVERHEAD: 36 bytes), with room for the batch around it.
constexpr std::size_t kRecordOverheadBytes = 1024;
// A header costs its name, its value and two length varints of at most 5 bytes each.
constexpr std::size_t kHeaderOverheadBytes = 10;
// librdkafka's default message.max.bytes.
constexpr std::size_t kDefaultMaxMessageBytes = 1000000;

constexpr std::string_view kTruncated = "dlq.truncated";
constexpr std::string_view kOriginalKeyBytes = "dlq.original.key.bytes";
constexpr std::string_view kOriginalValueBytes = "dlq.original.value.bytes";
constexpr std::string_view kOriginalHeadersCount = "dlq.original.headers.count";
constexpr std::string_view kOriginalHeadersBytes = "dlq.original.headers.bytes";
// Room kept for the five headers above: names, 20-digit values and their varints.
constexpr std::size_t kSizeHeadersBytes = 5 * (32 + 20 + kHeaderOverheadBytes);

// The dlq.* header names are the dead letter's own: an original header in that namespace (a
// dead letter dead-lettered again, or a producer imitating one) is kept under this prefix, so
// that what a dead letter says about itself can always be told from what it carries.
constexpr std::string_view kOwnPrefix = "dlq.";
constexpr std::string_view kRenamedPrefix = "original.";

std::string original_name(std::string_view name) {
  if (!name.starts_with(kOwnPrefix)) return std::string(name);
  std::string renamed(kRenamedPrefix);
  renamed.append(name);
  return renamed;
}

std::size_t header_bytes(std::string_view name, std::size_t value_size) {
  return name.size() + value_size + kHeaderOverheadBytes;
}

std::size_t header_bytes(const Header& header) {
  return header_bytes(header.name, header.value ? header.value->size() : 0);
}

// As it will go out, renamed if it must be.
std::size_t header_bytes(const HeaderView& header) {
  const std::size_t renaming = header.name.starts_with(kOwnPrefix) ? kRenamedPrefix.size() : 0;
  return header_bytes(header.name, header.value ? header.value->size() : 0) + renaming;
}

std::optional<std::string> copy(const std::optional<std::string_view>& bytes, std::size_t at_most) {
  if (!bytes) return std::nullopt;
  return std::string(bytes->substr(0, at_most));
}

// Shares `budget` between parts so that the largest are cut first and nothing is cut more than
// it must be ("max-min fair"): returns the cap each part is cut to.
std::size_t fair_cap(std::array<std::size_t, 3> sizes, std::size_t budget) {
  std::sort(sizes.begin(), sizes.end());
  std::size_t remaining = budget;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const std::size_t parts_left = sizes.size() - i;
    if (sizes[i] * parts_left > remaining) return remaining / parts_left;
    remaining -= sizes[i];
  }
  return budget;
}

struct OriginalSizes {
  std::optional<std::size_t> key_bytes;
  std::optional<std::size_t> value_bytes;
  std::size_t header_count = 0;
  std::size_t header_bytes = 0;
};

void add_size_headers(std::vector<Header>& headers, const OriginalSizes& sizes,
                      std::string_view truncated) {
  headers.push_back({std::string(kTruncated), std::string(truncated)});
  if (sizes.key_bytes) {
    headers.push_back({std::string(kOriginalKeyBytes), std::to_string(*sizes.key_bytes)});
  }
  if (sizes.value_bytes) {
    headers.push_back({std::string(kOriginalValueBytes), std::to_string(*sizes.value_bytes)});
  }
  headers.push_back({std::string(kOriginalHeadersCount), std::to_string(sizes.header_count)});
  headers.push_back({std::string(kOriginalHeadersBytes), std::to_string(sizes.header_bytes)});
}

bool is_size_header(std::string_view name) {
  return name == kTruncated || name == kOriginalKeyBytes || name == kOriginalValueBytes ||
         name == kOriginalHeadersCount || name == kOriginalHeadersBytes;
}

const Header* last_header(const std::vector<Header>& headers, std::string_view name) {
  const auto it = std::find_if(headers.rbegin(), headers.rend(),
                               [&](const Header& header) { return header.name == name; });
  return it == headers.rend() ? nullptr : &*it;
}

std::optional<std::size_t> size_from(const Header* header) {
  if (header == nullptr || !header->value) return std::nullopt;
  std::size_t size = 0;
  const char* end = header->value->data() + header->value->size();
  const auto [ptr, ec] = std::from_chars(header->value->data(), end, size);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return size;
}

}  // namespace

std::size_t DeadLetter::wire_bytes() const {
  std::size_t bytes = kRecordOverheadBytes + (key ? key->size() : 0) + (value ? value->size() : 0);
  for (const Header& header : headers) bytes += header_bytes(header);
  return bytes;
}

DeadLetter make_dead_letter(const RecordBytes& original, std::vector<Header> dlq_headers,
                            std::size_t max_message_bytes) {
  OriginalSizes sizes;
  if (original.key) sizes.key_bytes = original.key->size();
  if (original.value) sizes.value_bytes = original.value->size();
  sizes.header_count = original.headers.size();
  for (const HeaderView& header : original.headers) sizes.header_bytes += header_bytes(header);
  std::size_t dlq_bytes = 0;
  for (const Header& header : dlq_headers) dlq_bytes += header_bytes(header);

  const std::size_t key_bytes = sizes.key_bytes.value_or(0);
  const std::size_t value_bytes = sizes.value_bytes.value_or(0);
  DeadLetter letter;
  const std::size_t whole =
      kRecordOverheadBytes + key_bytes + value_bytes + sizes.header_bytes + dlq_bytes;
  if (whole <= max_message_bytes) {
    letter.key = copy(original.key, key_bytes);
    letter.value = copy(original.value, value_bytes);
    for (const HeaderView& header : original.headers) {
      letter.headers.push_back({original_name(header.name), copy(header.value, std::string::npos)});
    }
    letter.headers.insert(letter.headers.end(), std::make_move_iterator(dlq_headers.begin()),
                          std::make_move_iterator(dlq_headers.end()));
    return letter;
  }

  const std::size_t fixed = kRecordOverheadBytes + dlq_bytes + kSizeHeadersBytes;
  const std::size_t budget = max_message_bytes > fixed ? max_message_bytes - fixed : 0;
  const std::size_t cap = fair_cap({key_bytes, value_bytes, sizes.header_bytes}, budget);
  letter.key = copy(original.key, std::min(key_bytes, cap));
  letter.value = copy(original.value, std::min(value_bytes, cap));
  std::size_t header_budget = std::min(sizes.header_bytes, cap);
  for (const HeaderView& header : original.headers) {
    const std::size_t bytes = header_bytes(header);
    if (bytes > header_budget) break;
    header_budget -= bytes;
    letter.headers.push_back({original_name(header.name), copy(header.value, std::string::npos)});
  }
  std::string truncated;
  const auto note = [&truncated](std::string_view part) {
    truncated.append(truncated.empty() ? "" : ",").append(part);
  };
  if (letter.key && letter.key->size() < key_bytes) note("key");
  if (letter.value && letter.value->size() < value_bytes) note("value");
  if (letter.headers.size() < sizes.header_count) note("headers");
  letter.headers.insert(letter.headers.end(), std::make_move_iterator(dlq_headers.begin()),
                        std::make_move_iterator(dlq_headers.end()));
  add_size_headers(letter.headers, sizes, truncated);
  return letter;
}

DeadLetter metadata_only(const DeadLetter& letter) {
  // Every dlq.* header is the letter's own (originals in that namespace were renamed), so the
  // sizes come from its size headers when it was cut already, else from the letter itself, which
  // then holds the original whole.
  OriginalSizes sizes;
  const bool was_cut = last_header(letter.headers, kTruncated) != nullptr;
  if (was_cut) {
    sizes.key_bytes = size_from(last_header(letter.headers, kOriginalKeyBytes));
    sizes.value_bytes = size_from(last_header(letter.headers, kOriginalValueBytes));
    sizes.header_count = size_from(last_header(letter.headers, kOriginalHeadersCount)).value_or(0);
    sizes.header_bytes = size_from(last_header(letter.headers, kOriginalHeadersBytes)).value_or(0);
  } else {
    if (letter.key) sizes.key_bytes = letter.key->size();
    if (letter.value) sizes.value_bytes = letter.value->size();
  }
  DeadLetter bare;
  for (const Header& header : letter.headers) {
    if (!header.name.starts_with(kOwnPrefix)) {
      if (!was_cut) {
        ++sizes.header_count;
        sizes.header_bytes += header_bytes(header);
      }
      continue;
    }
    if (is_size_header(header.name)) continue;
    // Bounded whatever built the letter: a metadata-only letter must always fit.
    Header kept{header.name, std::nullopt};
    if (header.value) kept.value = bounded_reason(*header.value);
    bare.headers.push_back(std::move(kept));
  }
  add_size_headers(bare.headers, sizes, "key,value,headers");
  return bare;
}

DeadLetter whole(const RecordBytes& record) {
  DeadLetter letter;
  letter.key = copy(record.key, std::string::npos);
  letter.value = copy(record.value, std::string::npos);
  for (const HeaderView& header : record.headers) {
    letter.headers.push_back({std::string(header.name), copy(header.value, std::string::npos)});
  }
  return letter;
}

std::size_t max_message_bytes(const std::map<std::string, std::string>& producer_properties) {
  const auto it = producer_properties.find("message.max.bytes");
  if (it == producer_properties.end()) return kDefaultMaxMessageBytes;
  std::size_t bytes = 0;
  const char* end = it->second.data() + it->second.size();
  const auto [ptr, ec] = std::from_chars(it->second.data(), end, bytes);
  return ec == std::errc() && ptr == end ? bytes : kDefaultMaxMessageBytes;
}

std::string bounded_reason(std::string_view reason) {
  if (reason.size() <= kMaxDeadLetterReasonBytes) return std::string(reason);
  std::size_t cut = kMaxDeadLetterReasonBytes;
  // Back off continuation bytes (10xxxxxx) so the cut never splits a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) --cut;
  return std::string(reason.substr(0, cut));
}

}  // namespace tastesync

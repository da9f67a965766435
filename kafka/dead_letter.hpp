#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tastesync {

// One Kafka header. A null value is not an empty one: both survive a dead letter as they were.
struct Header {
  std::string name;
  std::optional<std::string> value;
};

struct HeaderView {
  std::string_view name;
  std::optional<std::string_view> value;
};

// The bytes of a record as Kafka delivered it (null key and value stay null).
struct RecordBytes {
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  std::vector<HeaderView> headers;
};

// No Kafka types here (kafka/kafka.hpp converts): this is pure, and fuzzed.

// A dead letter as it goes to a dead-letter topic (docs/design.md, "Dead letters that always
// fit"): as much of the original key, value and headers as fits the producer's
// message.max.bytes, then the `dlq.*` headers saying why and from where. When something was cut,
// `dlq.truncated` names what (key, value, headers) and `dlq.original.key.bytes`,
// `dlq.original.value.bytes` (absent for a null one), `dlq.original.headers.count` and
// `dlq.original.headers.bytes` give the original sizes; a cut value or key is its first bytes,
// cut headers are the last ones, dropped whole. The dlq.* names are the letter's own: an original
// header called dlq.<x> is kept as original.dlq.<x>.
struct DeadLetter {
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<Header> headers;  // the original's kept headers, then the dlq.* ones

  // What librdkafka counts against message.max.bytes (its per-record overhead included).
  std::size_t wire_bytes() const;
};

// The most a dlq.error.message / dlq.reason carries: a reason, not a copy of the record.
inline constexpr std::size_t kMaxDeadLetterReasonBytes = 1024;

// Builds the dead letter of `original` with `dlq_headers` (code, message, source...) appended,
// cut to fit `max_message_bytes`. Never larger than that, whatever the original: when not even
// the dlq.* headers and the size headers fit, it holds those alone (metadata only).
DeadLetter make_dead_letter(const RecordBytes& original, std::vector<Header> dlq_headers,
                            std::size_t max_message_bytes);

// The same dead letter without anything of the original: its dlq.* headers, and the size
// headers saying everything was cut. For a letter the broker refused as too large even so, and
// for a retry copy the retry buffer has no room for.
DeadLetter metadata_only(const DeadLetter& letter);

// The record as it is, nothing cut (a copy of a dead letter librdkafka failed to deliver).
DeadLetter whole(const RecordBytes& record);

// The producer's message.max.bytes (librdkafka's default when the properties do not set it).
std::size_t max_message_bytes(const std::map<std::string, std::string>& producer_properties);

// A reason cut to kMaxDeadLetterReasonBytes at a UTF-8 boundary.
std::string bounded_reason(std::string_view reason);

}  // namespace tastesync

#pragma once

#include <string>
#include <string_view>

namespace tastesync {

// Lower-case hex SHA-256 of a customer id: how the log and the sinks' list of erased customers
// name a customer after an erasure, without keeping the id itself (docs/operations.md#forget).
// PostgreSQL's encode(sha256(convert_to(id, 'UTF8')), 'hex') gives the same text.
std::string customer_hash(std::string_view customer_id);

// Its first 12 characters: enough to find the request's lines in a log.
std::string customer_hash_short(std::string_view customer_id);

}  // namespace tastesync

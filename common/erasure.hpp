#pragma once

#include <string>
#include <string_view>

// What every layer agrees on about an erasure (docs/operations.md#forget): the request's
// headers, what a request id may be, and how a customer is named once erased.
namespace tastesync {

// An erasure request (on the input topic) and its tombstone (on the output topic) are records
// with no value, keyed by the customer, carrying these headers: the request id, and the
// request's time (epoch ms, decimal).
inline constexpr const char* kForgetHeader = "tastesync-forget";
inline constexpr const char* kForgetAtHeader = "tastesync-forget-at";

// 1 to 64 printable ASCII characters without spaces: it goes into logs, headers and a
// varchar(64) column as it is.
bool valid_erasure_request_id(std::string_view request_id);

// Lower-case hex SHA-256 of a customer id: how the log and the sinks' list of erased customers
// name a customer after an erasure, without keeping the id itself.
// PostgreSQL's encode(sha256(convert_to(id, 'UTF8')), 'hex') gives the same text.
std::string customer_hash(std::string_view customer_id);

// Its first 12 characters: enough to find the request's lines in a log.
std::string customer_hash_short(std::string_view customer_id);

}  // namespace tastesync

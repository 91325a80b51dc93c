// How the workload names the errors its clients see, and which of them leave
// the outcome of the statement in flight unknown.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace cutover::workload {

// The key an error is counted under in WorkloadReport::errors: the error
// number and the start of the message, without the parts that vary (quoted
// values, the server's address): "1927 Connection was killed",
// "2013 Lost connection to server during query", "1062 Duplicate entry".
// Connector/C's client errors (kIo) carry no number in db::Error; it is
// recovered from the message text when known, else the key starts with "io".
// `where` is the prefix the connection puts in front of its messages.
std::string ErrorKey(const Error& error, std::string_view where);

// True when the connection is gone or unusable after `error`: the client
// reconnects, and a statement that was in flight may or may not have been
// committed. That is every kIo error, a server error of SQLSTATE class 08
// (connection exception), ER_CONNECTION_KILLED (1927, which the proxy sends
// when it loses the database under a query), ER_SERVER_SHUTDOWN (1053) and
// ER_ABORTING_CONNECTION (1152).
bool ConnectionLost(const Error& error);

}  // namespace cutover::workload

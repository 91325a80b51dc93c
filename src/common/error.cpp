#include "common/error.h"

namespace cutover {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kIncomplete: return "incomplete";
    case ErrorCode::kMalformed: return "malformed";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kServer: return "server";
    case ErrorCode::kPrecondition: return "precondition";
    case ErrorCode::kCancelled: return "cancelled";
    case ErrorCode::kConfig: return "config";
  }
  return "unknown";
}

}  // namespace cutover

#include "logging/log_context.hpp"

namespace llmproxy {

namespace {
thread_local const std::string* this_thread_request_id = nullptr;
}  // namespace

const std::string* current_request_id() {
    return this_thread_request_id;
}

void set_current_request_id(const std::string* id) {
    this_thread_request_id = id;
}

}  // namespace llmproxy

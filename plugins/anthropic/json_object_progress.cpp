#include "anthropic/json_object_progress.hpp"

namespace anthropic {

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

void JsonObjectProgress::feed(std::string_view piece) {
    for (char c : piece) {
        switch (state_) {
            case State::broken:
                return;
            case State::before:
                if (c == '{') {
                    state_ = State::inside;
                    depth_ = 1;
                } else if (!is_space(c)) {
                    state_ = State::broken;
                }
                break;
            case State::complete:
                if (!is_space(c))
                    state_ = State::broken;
                break;
            case State::inside:
                if (in_string_) {
                    if (escaped_)
                        escaped_ = false;
                    else if (c == '\\')
                        escaped_ = true;
                    else if (c == '"')
                        in_string_ = false;
                } else if (c == '"') {
                    in_string_ = true;
                } else if (c == '{' || c == '[') {
                    ++depth_;
                } else if ((c == '}' || c == ']') && --depth_ == 0) {
                    state_ = State::complete;
                }
                break;
        }
    }
}

}  // namespace anthropic

#include "http/hang_up_watch.hpp"

namespace llmproxy {

void HangUpWatch::set(std::shared_ptr<Cancellation> cancellation) {
    current_ = std::move(cancellation);
    client_.on_hang_up(current_ ? this : nullptr);
}

void HangUpWatch::hung_up() {
    if (current_)
        current_->cancel();
}

}  // namespace llmproxy

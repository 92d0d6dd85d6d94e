#include "balance/attempt_record.hpp"

namespace llmproxy {

AttemptRecord::AttemptRecord(ModelHealth* health, std::size_t index, Clock::time_point started,
                             bool reserved)
    : health_(health), index_(index), started_(started) {
    if (health_ && !reserved)
        health_->attempt_started(index_);
}

AttemptRecord::~AttemptRecord() {
    end();
}

void AttemptRecord::end() {
    if (health_)
        health_->attempt_ended(index_, verdict_, cool_ms_, Clock::now());
    health_ = nullptr;
}

void AttemptRecord::head(int status, std::optional<std::int64_t> retry_after_ms,
                         Clock::time_point now) {
    verdict_ = verdict_of_status(status);
    if (!health_)
        return;
    if (status < 400)
        health_->head_arrived(
            index_, std::chrono::duration<double, std::milli>(now - started_).count(), now);
    else
        cool_ms_ = retry_after_ms;
}

}  // namespace llmproxy

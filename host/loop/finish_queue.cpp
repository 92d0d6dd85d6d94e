#include "loop/finish_queue.hpp"

#include <spdlog/spdlog.h>

#include <future>

namespace llmproxy {

FinishQueue::FinishQueue() : thread_([this] { run(); }) {}

FinishQueue::~FinishQueue() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void FinishQueue::submit(std::function<void()> job) {
    {
        std::lock_guard lock(mutex_);
        if (jobs_.size() < kMaxWaiting) {
            jobs_.push_back(std::move(job));
            wake_.notify_one();
            return;
        }
    }
    job();
}

void FinishQueue::drain() {
    std::promise<void> done;
    std::future<void> ran = done.get_future();
    submit([&done] { done.set_value(); });
    ran.wait();
}

void FinishQueue::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty())
            return;  // stopping, and nothing left
        {
            auto job = std::move(jobs_.front());
            jobs_.pop_front();
            lock.unlock();
            try {
                job();
            } catch (const std::exception& e) {
                spdlog::error("end-of-request work failed: {}", e.what());
            }
        }  // what the job held (a runtime, maybe its last reference) goes before the lock
        lock.lock();
    }
}

}  // namespace llmproxy

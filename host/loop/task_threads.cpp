#include "loop/task_threads.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>

namespace llmproxy {

namespace {

// An idle thread beyond these ends after this long without a task.
constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr int kThreadsKept = 2;

}  // namespace

TaskThreads::TaskThreads(int max_threads, std::size_t stack_bytes)
    : max_threads_(max_threads), stack_bytes_(stack_bytes) {}

TaskThreads::~TaskThreads() {
    stop();
}

bool TaskThreads::start_thread() {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, stack_bytes_);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    int error = pthread_create(&thread, &attr, &TaskThreads::thread_main, this);
    pthread_attr_destroy(&attr);
    if (error != 0) {
        spdlog::error("cannot start a task thread ({} running): {}", threads_,
                      std::strerror(error));
        return false;
    }
    ++threads_;
    ++starting_;
    return true;
}

bool TaskThreads::submit(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    if (stopping_)
        return false;
    // Idle and starting threads are spoken for by the tasks already waiting.
    int unclaimed_idle = idle_ + starting_ - static_cast<int>(queue_.size());
    if (unclaimed_idle <= 0 && threads_ < max_threads_ && !start_thread() && threads_ == 0)
        return false;
    queue_.push_back(std::move(task));
    work_ready_.notify_one();
    return true;
}

int TaskThreads::busy() const {
    std::lock_guard lock(mutex_);
    return threads_ - idle_ - starting_;
}

int TaskThreads::queued() const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(queue_.size());
}

void TaskThreads::stop() {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    work_ready_.notify_all();
    all_exited_.wait(lock, [&] { return threads_ == 0; });
}

void* TaskThreads::thread_main(void* self) {
    static_cast<TaskThreads*>(self)->work();
    return nullptr;
}

void TaskThreads::work() {
    std::unique_lock lock(mutex_);
    --starting_;
    while (true) {
        ++idle_;
        bool woken =
            work_ready_.wait_for(lock, kIdleTimeout, [&] { return stopping_ || !queue_.empty(); });
        --idle_;
        if (queue_.empty()) {
            if (stopping_ || (!woken && threads_ > kThreadsKept))
                break;
            continue;
        }
        std::function<void()> task = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        task();
        task = nullptr;  // its captures are released outside the lock
        lock.lock();
    }
    --threads_;
    // Notified with the mutex held: stop() cannot return, and destroy this object, before this
    // thread has released the mutex and touches nothing more.
    all_exited_.notify_all();
}

}  // namespace llmproxy

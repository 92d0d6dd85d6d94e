#include "http/worker_threads.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace llmproxy {

namespace {

// An idle thread beyond these ends after this long without a connection.
constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr int kThreadsKept = 2;

}  // namespace

WorkerThreads::WorkerThreads(int max_threads, std::size_t stack_bytes,
                             std::function<void(int fd)> serve)
    : max_threads_(max_threads), stack_bytes_(stack_bytes), serve_(std::move(serve)) {}

WorkerThreads::~WorkerThreads() {
    stop();
}

bool WorkerThreads::start_thread() {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, stack_bytes_);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    int error = pthread_create(&thread, &attr, &WorkerThreads::thread_main, this);
    pthread_attr_destroy(&attr);
    if (error != 0) {
        spdlog::error("cannot start a worker thread ({} running): {}", threads_,
                      std::strerror(error));
        return false;
    }
    ++threads_;
    ++starting_;
    return true;
}

bool WorkerThreads::submit(int fd) {
    std::lock_guard lock(mutex_);
    if (stopping_)
        return false;
    // Idle and starting threads are spoken for by the connections already waiting.
    int unclaimed_idle = idle_ + starting_ - static_cast<int>(queue_.size());
    if (unclaimed_idle <= 0 && threads_ < max_threads_ && !start_thread() && threads_ == 0)
        return false;
    queue_.push_back(fd);
    work_ready_.notify_one();
    return true;
}

int WorkerThreads::busy() const {
    std::lock_guard lock(mutex_);
    return threads_ - idle_ - starting_;
}

int WorkerThreads::queued() const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(queue_.size());
}

void WorkerThreads::stop() {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    for (int fd : queue_)
        ::close(fd);
    queue_.clear();
    work_ready_.notify_all();
    all_exited_.wait(lock, [&] { return threads_ == 0; });
}

void* WorkerThreads::thread_main(void* self) {
    static_cast<WorkerThreads*>(self)->work();
    return nullptr;
}

void WorkerThreads::work() {
    std::unique_lock lock(mutex_);
    --starting_;
    while (true) {
        ++idle_;
        bool woken =
            work_ready_.wait_for(lock, kIdleTimeout, [&] { return stopping_ || !queue_.empty(); });
        --idle_;
        if (stopping_ || (!woken && threads_ > kThreadsKept))
            break;
        if (queue_.empty())
            continue;
        int fd = queue_.front();
        queue_.pop_front();
        lock.unlock();
        serve_(fd);
        lock.lock();
    }
    --threads_;
    // Notified with the mutex held: stop() cannot return, and destroy this object, before this
    // thread has released the mutex and touches nothing more.
    all_exited_.notify_all();
}

}  // namespace llmproxy

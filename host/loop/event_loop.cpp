#include "loop/event_loop.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <cerrno>
#include <chrono>
#include <system_error>

#include "logging/log_context.hpp"
#include "loop/task_threads.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace llmproxy {

namespace ctx = boost::context;

namespace {

// What tells that a watched socket's peer is gone.
constexpr std::uint32_t kHangUp = EPOLLRDHUP | EPOLLHUP | EPOLLERR;

// What ends a wait for events: the events, and whatever makes them never come. A peer that has
// closed its side (EPOLLRDHUP) makes the socket readable for good (reads return the end), and on
// an edge-triggered socket that edge comes once, often with the last data: a reader that drains
// the data and waits again must not wait for an edge that will never come.
std::uint32_t ends_wait_for(std::uint32_t events) {
    return events | EPOLLERR | EPOLLHUP | ((events & EPOLLIN) ? std::uint32_t{EPOLLRDHUP} : 0u);
}
// Timeout lengths are grouped by this granularity: a deadline may fire up to this much late.
constexpr int kTimeoutGrainMs = 8;
constexpr int kEventBatch = 256;
// Stacks of ended fibers kept for new ones (an mmap and an mprotect saved per connection).
constexpr std::size_t kStacksKept = 64;

thread_local EventLoop* this_thread_loop = nullptr;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// AddressSanitizer must be told when the thread changes stacks, or it takes the fiber's frames
// for overflows of the thread's stack. No-ops in other builds.
void start_switch([[maybe_unused]] void** fake_stack_save, [[maybe_unused]] const void* bottom,
                  [[maybe_unused]] std::size_t size) {
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
#endif
}

void finish_switch([[maybe_unused]] void* fake_stack_save, [[maybe_unused]] const void** bottom_old,
                   [[maybe_unused]] std::size_t* size_old) {
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_finish_switch_fiber(fake_stack_save, bottom_old, size_old);
#endif
}

// ThreadSanitizer must be told which fiber runs, or it takes the fibers of a thread for one flow
// of execution with one call stack: its reports then show frames of other fibers, and since a
// fiber's entry frame never returns, that stack grows by a frame per fiber until the sanitizer
// aborts (after 65,536). Each fiber gets a context of its own; switching orders what ran before
// the switch before what runs after it, as on one thread. Switch just before control moves.
// No-ops (and null contexts) in other builds.
void* current_race_context() {
#if defined(__SANITIZE_THREAD__)
    return __tsan_get_current_fiber();
#else
    return nullptr;
#endif
}

void* new_race_context() {
#if defined(__SANITIZE_THREAD__)
    return __tsan_create_fiber(0);
#else
    return nullptr;
#endif
}

void switch_race_context([[maybe_unused]] void* to) {
#if defined(__SANITIZE_THREAD__)
    __tsan_switch_to_fiber(to, 0);
#endif
}

void destroy_race_context([[maybe_unused]] void* context) {
#if defined(__SANITIZE_THREAD__)
    __tsan_destroy_fiber(context);
#endif
}

}  // namespace

// Fiber stacks: guarded, and recycled on this loop's thread.
struct EventLoop::Stacks {
    explicit Stacks(std::size_t bytes) : make(bytes) {}
    ~Stacks() {
        for (auto& stack : kept)
            make.deallocate(stack);
    }
    ctx::protected_fixedsize_stack make;
    std::vector<ctx::stack_context> kept;
    ctx::stack_context last{};  // the stack most recently handed out
};

namespace {

// Boost.Context's StackAllocator interface over EventLoop::Stacks.
template <typename Stacks>
class RecyclingStack {
  public:
    explicit RecyclingStack(Stacks& stacks) : stacks_(&stacks) {}
    ctx::stack_context allocate() {
        if (stacks_->kept.empty()) {
            stacks_->last = stacks_->make.allocate();
        } else {
            stacks_->last = stacks_->kept.back();
            stacks_->kept.pop_back();
        }
        return stacks_->last;
    }
    void deallocate(ctx::stack_context& stack) noexcept {
        if (stacks_->kept.size() < kStacksKept)
            stacks_->kept.push_back(stack);
        else
            stacks_->make.deallocate(stack);
    }

  private:
    Stacks* stacks_;
};

}  // namespace

struct EventLoop::Fiber {
    explicit Fiber(std::function<void()> t) : task(std::move(t)) {}

    std::function<void()> task;
    ctx::fiber context;  // the fiber, while it is suspended
    ctx::fiber loop;     // the loop, while the fiber runs
    const void* stack_bottom = nullptr;
    std::size_t stack_size = 0;
    void* fake_stack = nullptr;               // the sanitizer's, while suspended
    void* race_context = nullptr;             // ThreadSanitizer's, for the fiber
    const std::string* request_id = nullptr;  // its log lines', while it is suspended
    bool done = false;
    bool wakeable = false;  // in park() or a socket wait: wake_up() may end it
    // While waiting for a socket:
    int fd = -1;
    std::uint32_t events = 0;
    bool timed_out = false;
    std::int64_t deadline_ms = -1;  // -1: none
    TimeoutList* timeout_list = nullptr;
    Fiber* previous_timed = nullptr;
    Fiber* next_timed = nullptr;
};

EventLoop::EventLoop(std::size_t stack_bytes, TaskThreads& blocking)
    : blocking_(blocking), stacks_(std::make_unique<Stacks>(stack_bytes)) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ >= 0)
        epoll_ = std::make_shared<EpollSet>(epoll_fd_);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epoll_fd_ < 0 || wake_fd_ < 0)
        throw std::system_error(errno, std::generic_category(), "cannot create an event loop");
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = wake_fd_;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event) < 0)
        throw std::system_error(errno, std::generic_category(), "cannot create an event loop");
}

EventLoop::~EventLoop() {
    stop();
    ::close(wake_fd_);
}

EpollSet::~EpollSet() {
    ::close(fd);
}

void EventLoop::start() {
    thread_ = std::thread([this] { run(); });
}

bool EventLoop::spawn(std::function<void()> task) {
    if (this_thread_loop == this) {  // from one of this loop's fibers: no hand-over needed
        if (stopping_)
            return false;
        ++fibers_;
        ready_.push_back(new_fiber(std::move(task)));
        return true;
    }
    {
        std::lock_guard lock(incoming_mutex_);
        if (stopping_)
            return false;
        new_tasks_.push_back(std::move(task));
        ++fibers_;
    }
    wake();
    return true;
}

void EventLoop::stop() {
    {
        std::lock_guard lock(incoming_mutex_);
        stopping_ = true;
    }
    wake();
    if (thread_.joinable())
        thread_.join();
}

EventLoop* EventLoop::current() {
    EventLoop* loop = this_thread_loop;
    return loop && loop->running_ ? loop : nullptr;
}

void EventLoop::wake() {
    if (wake_pending_.exchange(true))
        return;  // a wake-up is on its way already
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void EventLoop::post_resume(Fiber* fiber) {
    // Woken with the mutex held: the loop cannot take the fiber, let it end, stop and be
    // destroyed before this thread has stopped touching the loop.
    std::lock_guard lock(incoming_mutex_);
    resumed_.push_back(fiber);
    wake();
}

void EventLoop::run() {
    this_thread_loop = this;
    thread_race_context_ = current_race_context();
    epoll_event events[kEventBatch];
    while (true) {
        take_incoming();
        run_ready();
        if (stopping_ && fibers_ == 0)
            break;
        int n = ::epoll_wait(epoll_fd_, events, kEventBatch, epoll_timeout_ms());
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == wake_fd_) {
                std::uint64_t count;
                [[maybe_unused]] ssize_t r = ::read(wake_fd_, &count, sizeof count);
                continue;  // take_incoming() picks up the news
            }
            if (static_cast<std::size_t>(fd) >= waiting_on_fd_.size())
                continue;
            std::uint32_t ready = events[i].events;
            if ((ready & kHangUp) && hang_up_[fd]) {
                HangUpListener* listener = hang_up_[fd];
                hang_up_[fd] = nullptr;
                listener->hung_up();
            }
            Fiber* fiber = waiting_on_fd_[fd];
            if (!fiber || !(ready & ends_wait_for(fiber->events))) {
                // A watched socket's edge comes once: kept for the next wait. (For one-shot
                // registrations it means a wait that timed out since; dropped at the next watch.)
                readiness_[fd] |= ready;
                continue;
            }
            readiness_[fd] |= ready & ~fiber->events;
            waiting_on_fd_[fd] = nullptr;
            fiber->wakeable = false;
            forget_timeout(fiber);
            ready_.push_back(fiber);
        }
        expire_timeouts();
    }
    this_thread_loop = nullptr;
}

void EventLoop::take_incoming() {
    std::vector<std::function<void()>> tasks;
    {
        wake_pending_ = false;  // before taking: a wake-up for anything added later is not lost
        std::lock_guard lock(incoming_mutex_);
        tasks.swap(new_tasks_);
        ready_.insert(ready_.end(), resumed_.begin(), resumed_.end());
        resumed_.clear();
    }
    for (auto& task : tasks)
        ready_.push_back(new_fiber(std::move(task)));
}

EventLoop::Fiber* EventLoop::new_fiber(std::function<void()> task) {
    auto* fiber = new Fiber(std::move(task));
    fiber->race_context = new_race_context();
    // Making the fiber enters its stack once and comes back: that runs as the new fiber.
    void* maker = current_race_context();
    switch_race_context(fiber->race_context);
    fiber->context = ctx::fiber(
        std::allocator_arg, RecyclingStack<Stacks>(*stacks_), [this, fiber](ctx::fiber&& loop) {
            fiber->loop = std::move(loop);
            finish_switch(nullptr, &thread_stack_bottom_, &thread_stack_size_);
            try {
                fiber->task();
            } catch (const std::exception& e) {
                spdlog::error("a connection ended on an unexpected error: {}", e.what());
            } catch (...) {
                spdlog::error("a connection ended on an unexpected error");
            }
            fiber->task = nullptr;
            fiber->done = true;
            start_switch(nullptr, thread_stack_bottom_, thread_stack_size_);  // for good
            return std::move(fiber->loop);  // resume() switches the race context back
        });
    switch_race_context(maker);
    fiber->stack_bottom = static_cast<char*>(stacks_->last.sp) - stacks_->last.size;
    fiber->stack_size = stacks_->last.size;
    return fiber;
}

void EventLoop::run_ready() {
    // Fibers made ready while these run wait for the next round, after the sockets are polled.
    round_.swap(ready_);
    for (Fiber* fiber : round_)
        resume(fiber);
    round_.clear();
}

void EventLoop::resume(Fiber* fiber) {
    running_ = fiber;
    set_current_request_id(fiber->request_id);
    start_switch(&thread_fake_stack_, fiber->stack_bottom, fiber->stack_size);
    switch_race_context(fiber->race_context);
    fiber->context = std::move(fiber->context).resume();
    finish_switch(thread_fake_stack_, nullptr, nullptr);
    fiber->request_id = current_request_id();
    set_current_request_id(nullptr);
    running_ = nullptr;
    if (fiber->done) {
        // Only now: the ended fiber's last frames unwind after it has left its stack.
        switch_race_context(thread_race_context_);
        destroy_race_context(fiber->race_context);
        delete fiber;
        --fibers_;
    }
}

void EventLoop::suspend() {
    Fiber* fiber = running_;
    start_switch(&fiber->fake_stack, thread_stack_bottom_, thread_stack_size_);
    switch_race_context(thread_race_context_);
    fiber->loop = std::move(fiber->loop).resume();
    finish_switch(fiber->fake_stack, &thread_stack_bottom_, &thread_stack_size_);
}

void EventLoop::sleep(int ms) {
    Fiber* fiber = running_;
    fiber->fd = -1;
    add_timeout(fiber, ms);
    suspend();
}

bool EventLoop::park(int timeout_ms) {
    Fiber* fiber = running_;
    fiber->fd = -1;
    fiber->timed_out = false;
    fiber->wakeable = true;
    if (timeout_ms >= 0)
        add_timeout(fiber, timeout_ms);
    suspend();
    return !fiber->timed_out;
}

void EventLoop::wake_up(Fiber* fiber) {
    if (!fiber->wakeable)
        return;
    fiber->wakeable = false;
    if (fiber->fd >= 0)
        waiting_on_fd_[fiber->fd] = nullptr;
    forget_timeout(fiber);
    fiber->timed_out = false;
    ready_.push_back(fiber);
}

bool EventLoop::wait(int fd, std::uint32_t events, int timeout_ms) {
    Fiber* fiber = running_;
    epoll_event event{};
    // One-shot: each wait arms the socket once, so no event arrives for a socket nobody waits on,
    // and a socket closed and reopened under the same number needs nothing forgotten.
    event.events = events | EPOLLONESHOT;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) < 0 &&
        (errno != ENOENT || ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) < 0)) {
        // Not something epoll watches: wait the blocking way rather than spin.
        pollfd ready{fd, static_cast<short>(events), 0};
        return ::poll(&ready, 1, timeout_ms) != 0;
    }
    suspend_on(fd, events, timeout_ms);
    return !fiber->timed_out;
}

const std::shared_ptr<EpollSet>& EventLoop::watch(int fd) {
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) < 0 && errno == EEXIST)
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event);  // left by a one-shot wait
    make_room_for(fd);
    // Whatever was kept belongs to an earlier socket of the same number.
    readiness_[fd] = 0;
    hang_up_[fd] = nullptr;
    return epoll_;
}

bool EventLoop::wait_watched(int fd, std::uint32_t events, int timeout_ms) {
    std::uint32_t& ready = readiness_[fd];
    if (ready & ends_wait_for(events)) {
        ready &= ~events;  // an error or hang-up stays: every later wait sees it at once
        return true;
    }
    Fiber* fiber = running_;
    suspend_on(fd, events, timeout_ms);
    return !fiber->timed_out;
}

void EventLoop::forget_readable(int fd) {
    readiness_[fd] &= ~std::uint32_t{EPOLLIN};
}

void EventLoop::on_hang_up(int fd, HangUpListener* listener) {
    if (listener && (readiness_[fd] & kHangUp)) {
        hang_up_[fd] = nullptr;
        listener->hung_up();
        return;
    }
    hang_up_[fd] = listener;
}

void EventLoop::make_room_for(int fd) {
    if (static_cast<std::size_t>(fd) < waiting_on_fd_.size())
        return;
    std::size_t size = static_cast<std::size_t>(fd) + 64;
    waiting_on_fd_.resize(size, nullptr);
    readiness_.resize(size, 0);
    hang_up_.resize(size, nullptr);
}

void EventLoop::suspend_on(int fd, std::uint32_t events, int timeout_ms) {
    make_room_for(fd);
    Fiber* fiber = running_;
    waiting_on_fd_[fd] = fiber;
    fiber->fd = fd;
    fiber->events = events;
    fiber->timed_out = false;
    fiber->wakeable = true;
    if (timeout_ms >= 0)
        add_timeout(fiber, timeout_ms);
    suspend();
}

void EventLoop::add_timeout(Fiber* fiber, int timeout_ms) {
    TimeoutList& list = timeouts_[(timeout_ms + kTimeoutGrainMs - 1) / kTimeoutGrainMs];
    fiber->deadline_ms = now_ms() + timeout_ms;
    fiber->timeout_list = &list;
    fiber->previous_timed = list.last;
    fiber->next_timed = nullptr;
    (list.last ? list.last->next_timed : list.first) = fiber;
    list.last = fiber;
    next_deadline_ms_ = std::min(next_deadline_ms_, fiber->deadline_ms);
}

void EventLoop::forget_timeout(Fiber* fiber) {
    TimeoutList* list = fiber->timeout_list;
    if (!list)
        return;
    (fiber->previous_timed ? fiber->previous_timed->next_timed : list->first) = fiber->next_timed;
    (fiber->next_timed ? fiber->next_timed->previous_timed : list->last) = fiber->previous_timed;
    fiber->previous_timed = fiber->next_timed = nullptr;
    fiber->timeout_list = nullptr;
    fiber->deadline_ms = -1;
}

int EventLoop::epoll_timeout_ms() const {
    if (!ready_.empty())
        return 0;
    if (next_deadline_ms_ == kNoDeadline)
        return -1;
    std::int64_t left = next_deadline_ms_ - now_ms();
    return static_cast<int>(std::clamp<std::int64_t>(left + 1, 0, INT_MAX));
}

void EventLoop::expire_timeouts() {
    std::int64_t now = now_ms();
    if (now < next_deadline_ms_)
        return;
    next_deadline_ms_ = kNoDeadline;
    for (auto it = timeouts_.begin(); it != timeouts_.end();) {
        TimeoutList& list = it->second;
        while (list.first && list.first->deadline_ms <= now) {
            Fiber* fiber = list.first;
            forget_timeout(fiber);
            if (fiber->fd >= 0)
                waiting_on_fd_[fiber->fd] = nullptr;
            fiber->timed_out = true;
            fiber->wakeable = false;
            ready_.push_back(fiber);
        }
        if (!list.first) {
            it = timeouts_.erase(it);
            continue;
        }
        next_deadline_ms_ = std::min(next_deadline_ms_, list.first->deadline_ms);
        ++it;
    }
}

void EventLoop::run_elsewhere(const std::function<void()>& work) {
    Fiber* fiber = running_;
    // The fiber cannot be resumed before it has suspended: resumes are taken on this thread.
    if (!blocking_.submit([this, fiber, &work] {
            work();
            post_resume(fiber);
        })) {
        work();  // no thread could start: blocking this loop beats failing the request
        return;
    }
    suspend();
}

}  // namespace llmproxy

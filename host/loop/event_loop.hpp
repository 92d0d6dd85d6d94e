// One thread serving many connections. Each connection runs on a fiber: a stack of its own,
// switched in user space (Boost.Context), which suspends whenever a socket would block and is
// resumed when the thread's epoll set reports the socket ready. The HTTP reader, the request flow,
// plugin hooks and side calls stay plain sequential code, while the thread relays for thousands
// of connections without the kernel switching threads twice per request.
//
// Fibers never move between threads, so thread-local state stays valid on them; a fiber runs
// until it waits (wait(), wait_watched(), sleep(), run_elsewhere()) or ends. Code on a fiber must
// not block the thread: sockets are non-blocking and their waits go through loop/wait.hpp
// (SocketWait for connections, wait_ready() for the rest).
#pragma once

#include <atomic>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace llmproxy {

class TaskThreads;

// Told, on the loop's thread, that the peer of a watched socket has hung up.
class HangUpListener {
  public:
    virtual void hung_up() = 0;

  protected:
    ~HangUpListener() = default;
};

// An epoll set, closed when its loop and every socket still in it are gone.
struct EpollSet {
    explicit EpollSet(int descriptor) : fd(descriptor) {}
    ~EpollSet();
    EpollSet(const EpollSet&) = delete;
    EpollSet& operator=(const EpollSet&) = delete;
    const int fd;
};

class EventLoop {
  public:
    struct Fiber;

    // stack_bytes: the stack of each fiber (a guard page below it turns an overflow into a
    // crash, not corruption). blocking runs the work given to run_elsewhere(); it must outlive
    // the loop. Throws std::system_error when the epoll set cannot be created.
    EventLoop(std::size_t stack_bytes, TaskThreads& blocking);
    // Stops (see stop()).
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Starts the loop's thread.
    void start();
    // [thread-safe] Runs task on a new fiber of this loop. task must not throw (an exception is
    // logged and ends the fiber). False once the loop is stopping: task will not run. Cheapest
    // from one of the loop's own fibers (no hand-over between threads).
    bool spawn(std::function<void()> task);
    // [thread-safe] Fibers spawned and not yet ended.
    int fibers() const { return fibers_; }
    // Takes no new fibers, waits until every fiber has ended, then ends the thread. The caller
    // makes the fibers end (e.g. by shutting their sockets down).
    void stop();

    // The loop whose fiber is running on this thread; nullptr when the caller is not on a fiber.
    static EventLoop* current();

    // [on a fiber of this loop] Suspends the fiber until fd is ready for events (EPOLLIN or
    // EPOLLOUT; a hang-up or an error counts as ready) or timeout_ms passes (negative: no
    // limit). True when ready, false on timeout. Call it only after the I/O itself reported
    // EAGAIN: readiness that came before the call is seen, none is lost.
    bool wait(int fd, std::uint32_t events, int timeout_ms);
    // Sockets a connection waits on again and again are watched instead (SocketWait in
    // loop/wait.hpp): they stay in the epoll set, edge-triggered, so a wait costs no system call.
    // [on a fiber of this loop] Adds fd for good; returns the set it is now in.
    const std::shared_ptr<EpollSet>& watch(int fd);
    const EpollSet* epoll_set() const { return epoll_.get(); }
    // [on a fiber of this loop] As wait(), for a watched fd.
    bool wait_watched(int fd, std::uint32_t events, int timeout_ms);
    // [on a fiber of this loop] The events of the watched fd that came while no fiber waited for
    // them (EPOLLIN, EPOLLRDHUP, ...): what happened to an idle connection, known without a system
    // call. A close (EPOLLRDHUP, EPOLLHUP, EPOLLERR) stays for good; EPOLLIN until a wait takes
    // it or forget_readable().
    std::uint32_t kept_events(int fd) const { return readiness_[fd]; }
    // [on a fiber of this loop] The reader has taken everything the watched fd had (a read came
    // back short): the EPOLLIN kept for it is stale.
    void forget_readable(int fd);
    // [on a fiber of this loop] Until cleared with nullptr, a hang-up of the watched fd (its
    // peer closing, or an error) is told to listener, whatever the fiber waits on meanwhile; at
    // once when it has already happened.
    void on_hang_up(int fd, HangUpListener* listener);

    // [on a fiber of this loop] Suspends the fiber for ms milliseconds.
    void sleep(int ms);
    // [on a fiber of this loop] The fiber running now: what wake_up() takes.
    Fiber* running_fiber() const { return running_; }
    // [on a fiber of this loop] Suspends the fiber until another fiber of this loop passes it to
    // wake_up(), or timeout_ms passes (negative: no limit). True when woken.
    bool park(int timeout_ms);
    // [on this loop's thread] Ends the wait of a fiber suspended in park(), wait() or
    // wait_watched(), at the loop's next round; a socket wait then returns true as if the socket
    // were ready, and its caller finds out what it is ready for by trying. Nothing for a fiber
    // that is not waiting (running, ready, or asleep).
    void wake_up(Fiber* fiber);
    // [on a fiber of this loop] Runs work on a task thread while the fiber waits, so that
    // blocking calls (DNS, connect, TLS handshake) do not stop the loop. work must not throw.
    void run_elsewhere(const std::function<void()>& work);

  private:
    struct Stacks;

    void run();
    void take_incoming();
    void run_ready();
    void resume(Fiber* fiber);
    void suspend();
    void expire_timeouts();
    int epoll_timeout_ms() const;
    void post_resume(Fiber* fiber);  // [thread-safe]
    void wake();                     // [thread-safe]
    Fiber* new_fiber(std::function<void()> task);
    void add_timeout(Fiber* fiber, int timeout_ms);
    void forget_timeout(Fiber* fiber);

    void suspend_on(int fd, std::uint32_t events, int timeout_ms);
    void make_room_for(int fd);  // in the tables indexed by fd

    TaskThreads& blocking_;
    std::unique_ptr<Stacks> stacks_;
    std::shared_ptr<EpollSet> epoll_;
    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    std::thread thread_;
    std::atomic<int> fibers_{0};
    std::atomic<bool> stopping_{false};
    std::atomic<bool> wake_pending_{false};

    std::mutex incoming_mutex_;  // guards the two lists below, filled by other threads
    std::vector<std::function<void()>> new_tasks_;
    std::vector<Fiber*> resumed_;

    // Loop thread only.
    Fiber* running_ = nullptr;
    std::vector<Fiber*> ready_;
    std::vector<Fiber*> round_;             // the fibers being resumed by run_ready()
    std::vector<Fiber*> waiting_on_fd_;     // indexed by fd
    std::vector<std::uint32_t> readiness_;  // of watched fds: edges nobody waited for yet
    std::vector<HangUpListener*> hang_up_;  // of watched fds
    // Fibers waiting with a deadline, one list per timeout length (rounded): a fiber joins the
    // end of its list, so each list is in deadline order and expiring takes from the front.
    struct TimeoutList {
        Fiber* first = nullptr;
        Fiber* last = nullptr;
    };
    std::map<int, TimeoutList> timeouts_;
    std::int64_t next_deadline_ms_ = kNoDeadline;  // no later than the earliest deadline
    static constexpr std::int64_t kNoDeadline = INT64_MAX;
    // The loop thread's own stack and context, for the sanitizers' fiber switch annotations.
    const void* thread_stack_bottom_ = nullptr;
    std::size_t thread_stack_size_ = 0;
    void* thread_fake_stack_ = nullptr;
    void* thread_race_context_ = nullptr;
};

}  // namespace llmproxy

// A unit of work for a Pool: a move-only `void()` callable. Unlike std::function, a callable
// that holds a few shared_ptrs (the engine's request hand-off holds two) is stored inside the
// object instead of on the heap, so handing a request to a handler allocates nothing.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace kinako::margo {

class Task {
  public:
    static constexpr size_t kInline = 48;

    Task() = default;
    Task(std::nullptr_t) {}
    template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Task>>>
    Task(F&& f) {  // NOLINT: implicit, like std::function
        using Fn = std::decay_t<F>;
        if constexpr (sizeof(Fn) <= kInline && alignof(Fn) <= alignof(std::max_align_t) &&
                      std::is_nothrow_move_constructible_v<Fn>) {
            new (storage_) Fn(std::forward<F>(f));
            ops_ = &inline_ops<Fn>;
        } else {
            *reinterpret_cast<Fn**>(storage_) = new Fn(std::forward<F>(f));
            ops_ = &heap_ops<Fn>;
        }
    }
    Task(Task&& o) noexcept { take(o); }
    Task& operator=(Task&& o) noexcept {
        if (this != &o) {
            reset();
            take(o);
        }
        return *this;
    }
    Task& operator=(std::nullptr_t) {
        reset();
        return *this;
    }
    ~Task() { reset(); }

    explicit operator bool() const { return ops_ != nullptr; }
    void operator()() { ops_->call(storage_); }
    void reset() {
        if (ops_) {
            ops_->destroy(storage_);
            ops_ = nullptr;
        }
    }

  private:
    struct Ops {
        void (*call)(void*);
        void (*move)(void* from, void* to);  // move-constructs at `to`, destroys at `from`
        void (*destroy)(void*);
    };
    template <class Fn>
    static constexpr Ops inline_ops = {
        [](void* p) { (*static_cast<Fn*>(p))(); },
        [](void* from, void* to) {
            new (to) Fn(std::move(*static_cast<Fn*>(from)));
            static_cast<Fn*>(from)->~Fn();
        },
        [](void* p) { static_cast<Fn*>(p)->~Fn(); },
    };
    template <class Fn>
    static constexpr Ops heap_ops = {
        [](void* p) { (**static_cast<Fn**>(p))(); },
        [](void* from, void* to) { *static_cast<Fn**>(to) = *static_cast<Fn**>(from); },
        [](void* p) { delete *static_cast<Fn**>(p); },
    };
    void take(Task& o) {
        if (o.ops_) {
            o.ops_->move(o.storage_, storage_);
            ops_ = o.ops_;
            o.ops_ = nullptr;
        }
    }

    alignas(std::max_align_t) unsigned char storage_[kInline];
    const Ops* ops_ = nullptr;
};

}  // namespace kinako::margo

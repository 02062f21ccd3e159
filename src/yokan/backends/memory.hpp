// In-memory backends over standard containers: map and set (sorted), unordered_map and
// unordered_set (hashed). One template; the four types differ in the container and whether
// values are stored. Each pair lives in one Entry block; the container maps a view of the
// entry's key to the entry.
#pragma once

#include <mochi/yokan/backend.hpp>
#include <mochi/yokan/config_check.hpp>

#include "key_order.hpp"
#include "memory_entry.hpp"

#include <map>
#include <memory_resource>
#include <shared_mutex>
#include <string>
#include <type_traits>
#include <unordered_map>

namespace mochi::yokan::backends {

// The containers: sorted (map, set) or hashed (unordered_map, unordered_set), from a key
// view into its entry to the entry that owns both (see memory_entry.hpp). Their nodes come
// from the backend's pools, like the entries.
template <bool Sorted>
using EntryIndex = std::conditional_t<Sorted, std::pmr::map<std::string_view, EntryPtr, KeyLess>,
                                      std::pmr::unordered_map<std::string_view, EntryPtr>>;

// HasValues: map and unordered_map; set and unordered_set store keys only.
template <bool Sorted, bool HasValues>
class MemoryBackend : public Backend {
    using Container = EntryIndex<Sorted>;
    struct K {
        static constexpr bool has_values = HasValues, sorted = Sorted;
        template <typename It> static std::string_view value(It it) { return it->second->value(); }
        template <typename It> static std::string_view key(It it) { return it->first; }
    };

  public:
    MemoryBackend(std::string type, nlohmann::json cfg, bool use_lock, size_t buckets = 0)
    : type_(std::move(type)), cfg_(std::move(cfg)), use_lock_(use_lock), data_(memory_.resource()) {
        if constexpr (!Sorted) data_.reserve(buckets);
    }

    std::string type() const override { return type_; }
    nlohmann::json config() const override { return cfg_; }
    bool is_sorted() const override { return K::sorted; }
    bool supports_documents() const override { return K::has_values; }

    // Nothing on disk: destroying the database gives its memory back.
    void destroy() override {
        auto l = exclusive();
        data_.clear();
    }

    Status count(uint64_t& n) override {
        auto l = shared();
        n = data_.size();
        return Status::Success;
    }

    Status exists(KeySpan keys, std::vector<uint8_t>& found) override {
        auto l = shared();
        auto finger = data_.end();
        for (size_t i = 0; i < keys.size(); ++i) found[i] = find(keys[i], finger) != data_.end();
        return Status::Success;
    }

    Status length(KeySpan keys, std::vector<uint64_t>& sizes) override {
        auto l = shared();
        auto finger = data_.end();
        for (size_t i = 0; i < keys.size(); ++i) {
            auto it = find(keys[i], finger);
            sizes[i] = it == data_.end() ? YOKAN_KEY_NOT_FOUND : K::value(it).size();
        }
        return Status::Success;
    }

    Status put(int32_t mode, KeySpan keys, KeySpan values) override {
        if constexpr (!K::has_values) {
            for (auto v : values)
                if (!v.empty()) return Status::InvalidArgs;  // sets store keys only
        }
        auto l = exclusive();
        bool single = keys.size() == 1;
        auto finger = data_.end();
        for (size_t i = 0; i < keys.size(); ++i) {
            // At most one tree walk per key: the lower bound both answers "present?" and is the
            // insertion hint (large maps are cache-miss bound, so walks are what costs); keys
            // in ascending order mostly skip the walk (see locate).
            auto it = locate(keys[i], finger);
            finger = it;
            bool present = it != data_.end() && K::key(it) == keys[i];
            if ((mode & YOKAN_MODE_NEW_ONLY) && present) {
                if (single) return Status::KeyExists;
                continue;
            }
            if ((mode & YOKAN_MODE_EXIST_ONLY) && !present) {
                if (single) return Status::NotFound;
                continue;
            }
            if (!present) finger = insert(it, keys[i], values[i]);
            else if constexpr (K::has_values) finger = update(it, values[i], mode & YOKAN_MODE_APPEND);
        }
        return Status::Success;
    }

    Status get(int32_t mode, KeySpan keys, const GetVisitor& visit) override {
        if (mode & YOKAN_MODE_CONSUME) {
            auto l = exclusive();
            for (size_t i = 0; i < keys.size(); ++i) {
                auto it = find(keys[i]);
                if (it == data_.end()) continue;
                visit(i, K::value(it));
                data_.erase(it);
            }
            return Status::Success;
        }
        auto l = shared();
        auto finger = data_.end();
        for (size_t i = 0; i < keys.size(); ++i) {
            auto it = find(keys[i], finger);
            if (it != data_.end()) visit(i, K::value(it));
        }
        return Status::Success;
    }

    Status erase(KeySpan keys) override {
        auto l = exclusive();
        for (auto k : keys) {
            auto it = find(k);
            if (it != data_.end()) data_.erase(it);
        }
        return Status::Success;
    }

    Status list(std::string_view from_key, bool inclusive, std::string_view prefix, bool with_values,
                const ListVisitor& visit) override {
        if constexpr (!K::sorted) {
            return Status::OpUnsupported;
        } else {
            auto l = shared();
            auto it = from_key.empty() ? data_.begin()
                                       : (inclusive ? data_.lower_bound(from_key) : data_.upper_bound(from_key));
            // Skip straight to the prefix when it sorts after the start key.
            if (!prefix.empty() && (it == data_.end() || K::key(it) < prefix)) {
                if (from_key.empty() || std::string_view(from_key) < prefix) it = data_.lower_bound(prefix);
            }
            for (; it != data_.end(); ++it) {
                std::string_view k = K::key(it);
                if (!prefix.empty() && k.compare(0, prefix.size(), prefix) != 0) {
                    if (k > prefix) break;  // past every key with the prefix
                    continue;
                }
                if (!visit(k, with_values ? K::value(it) : std::string_view())) break;
            }
            return Status::Success;
        }
    }

    // One walk under the shared lock (writers wait meanwhile). Hashed containers cannot
    // resume a walk from a key, so this is how their whole contents are read.
    Status visit_all(const ListVisitor& visit) override {
        auto l = shared();
        for (auto it = data_.begin(); it != data_.end(); ++it)
            if (!visit(K::key(it), K::value(it))) break;
        return Status::Success;
    }

  private:
    using Iterator = typename Container::iterator;
    // How far a batch walks forward from the previous key's position before it descends the
    // tree instead: far enough for keys in ascending order with a few others in between.
    static constexpr int kFingerSteps = 4;

    // Sorted: the first element not before k; hashed: the element or end(). `finger` is where
    // the previous key of the batch landed: when k sorts after it, the answer is usually a few
    // steps ahead (batches of ascending keys, the common case for ranges), which saves a walk
    // of ~log2(n) nodes, each a cache miss on a large map. Any order stays correct.
    Iterator locate(std::string_view k, Iterator finger) {
        if constexpr (K::sorted) {
            if (finger != data_.end() && KeyLess()(K::key(finger), k)) {
                // Past the last key: the answer is end(). Checked first because stepping
                // off the rightmost node climbs the whole right spine of the tree, and
                // appending ascending keys (the common batch) lands there every time.
                if (finger == std::prev(data_.end())) return data_.end();
                for (int step = 0; step < kFingerSteps; ++step) {
                    ++finger;
                    if (finger == data_.end() || !KeyLess()(K::key(finger), k)) return finger;
                }
            }
            return data_.lower_bound(k);
        } else {
            return data_.find(k);
        }
    }
    Iterator insert(Iterator hint, std::string_view k, std::string_view v) {
        EntryPtr e(Entry::create(memory_, k, v), EntryFree{&memory_});
        std::string_view key = e->key();  // the index's key views the entry's own bytes
        if constexpr (K::sorted) return data_.emplace_hint(hint, key, std::move(e));
        else return data_.emplace(key, std::move(e)).first;
    }
    // Overwrites or appends to a present key's value: in place when the entry has room,
    // otherwise a larger entry takes the old one's place in the same index node (APPEND
    // grows geometrically so repeated appends stay amortized O(1) per byte).
    Iterator update(Iterator it, std::string_view v, bool append) {
        Entry& old = *it->second;
        if (append ? old.append(v) : old.assign(v)) return it;
        std::string_view kept = append ? old.value() : std::string_view();
        size_t need = kept.size() + v.size();
        EntryPtr e(Entry::create(memory_, old.key(), kept, append ? need + need / 2 : need), EntryFree{&memory_});
        e->append(v);
        auto node = data_.extract(it);
        node.key() = e->key();
        node.mapped() = std::move(e);
        return data_.insert(std::move(node)).position;
    }
    Iterator find(std::string_view k) { return data_.find(k); }
    // find() for batches: moves `finger` to where k landed (see locate).
    Iterator find(std::string_view k, Iterator& finger) {
        if constexpr (K::sorted) {
            finger = locate(k, finger);
            return finger != data_.end() && K::key(finger) == k ? finger : data_.end();
        } else {
            return data_.find(k);
        }
    }
    std::shared_lock<std::shared_mutex> shared() {
        return use_lock_ ? std::shared_lock<std::shared_mutex>(mutex_) : std::shared_lock<std::shared_mutex>();
    }
    std::unique_lock<std::shared_mutex> exclusive() {
        return use_lock_ ? std::unique_lock<std::shared_mutex>(mutex_) : std::unique_lock<std::shared_mutex>();
    }

    std::string type_;
    nlohmann::json cfg_;
    bool use_lock_;
    std::shared_mutex mutex_;
    EntryMemory memory_;  // before data_: destroyed after it
    Container data_;
};

}  // namespace mochi::yokan::backends

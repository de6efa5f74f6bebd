// An open-addressing map from strings to uint32 values, keyed by string_view so lookups build
// no temporary strings. Keys live in insertion order; a key's position is its id.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace ltrr {

inline uint64_t mix64(uint64_t x) {
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return x;
}

inline uint64_t hash_bytes(std::string_view s) {
    const char* p = s.data();
    size_t n = s.size();
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xC2B2AE3D27D4EB4Full);
    while (n >= 8) {
        uint64_t word;
        std::memcpy(&word, p, 8);
        h = (h ^ mix64(word)) * 0x9FB21C651E98DF25ull;
        p += 8;
        n -= 8;
    }
    uint64_t tail = 0;
    std::memcpy(&tail, p, n);
    h = (h ^ mix64(tail ^ (uint64_t{n} << 56))) * 0x9FB21C651E98DF25ull;
    return h ^ (h >> 32);
}

class StringMap {
public:
    static constexpr uint32_t kMissing = UINT32_MAX;

    StringMap() { rehash(16); }

    size_t size() const { return m_keys.size(); }
    const std::vector<std::string>& keys() const { return m_keys; }
    const std::string& key(uint32_t id) const { return m_keys[id]; }
    uint32_t value(uint32_t id) const { return m_values[id]; }

    // Id of key, or kMissing.
    uint32_t find(std::string_view key) const {
        const uint64_t h = hash_bytes(key);
        const uint64_t tag = h >> 32;
        for (size_t slot = h & m_mask;; slot = (slot + 1) & m_mask) {
            const uint64_t entry = m_slots[slot];
            if (entry == kEmpty) return kMissing;
            const uint32_t id = static_cast<uint32_t>(entry);
            if ((entry >> 32) == tag && m_keys[id] == key) return id;
        }
    }

    // Value stored for key, or kMissing.
    uint32_t get(std::string_view key) const {
        const uint32_t id = find(key);
        return id == kMissing ? kMissing : m_values[id];
    }

    // Id of key, inserting it with value when absent; inserted tells which happened.
    uint32_t insert(std::string_view key, uint32_t value, bool* inserted = nullptr) {
        const uint64_t h = hash_bytes(key);
        const uint64_t tag = h >> 32;
        size_t slot = h & m_mask;
        for (;; slot = (slot + 1) & m_mask) {
            const uint64_t entry = m_slots[slot];
            if (entry == kEmpty) break;
            const uint32_t id = static_cast<uint32_t>(entry);
            if ((entry >> 32) == tag && m_keys[id] == key) {
                if (inserted != nullptr) *inserted = false;
                return id;
            }
        }
        const uint32_t id = static_cast<uint32_t>(m_keys.size());
        m_keys.emplace_back(key);
        m_values.push_back(value);
        m_hashes.push_back(h);
        m_slots[slot] = (tag << 32) | id;
        if (m_keys.size() * 2 > m_slots.size()) rehash(m_slots.size() * 2);
        if (inserted != nullptr) *inserted = true;
        return id;
    }

    void reserve(size_t n) {
        size_t capacity = m_slots.size();
        while (n * 2 > capacity) capacity *= 2;
        if (capacity != m_slots.size()) rehash(capacity);
    }

private:
    // Slots hold the key's id in the low half and the hash's high half as a tag, so most
    // probes that miss never touch the key itself.
    static constexpr uint64_t kEmpty = UINT64_MAX;

    void rehash(size_t capacity) {
        m_slots.assign(capacity, kEmpty);
        m_mask = capacity - 1;
        for (uint32_t id = 0; id < m_keys.size(); ++id) {
            size_t slot = m_hashes[id] & m_mask;
            while (m_slots[slot] != kEmpty) slot = (slot + 1) & m_mask;
            m_slots[slot] = ((m_hashes[id] >> 32) << 32) | id;
        }
    }

    std::vector<std::string> m_keys;
    std::vector<uint32_t> m_values;
    std::vector<uint64_t> m_hashes;
    std::vector<uint64_t> m_slots;
    size_t m_mask = 0;
};

}  // namespace ltrr

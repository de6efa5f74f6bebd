// Posting storage: per (field, term) a CRoaring bitmap of doc ids with term frequencies alongside.
#pragma once

#include <roaring/roaring.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace ltrr {

// Owning handle for a CRoaring bitmap.
class Bitmap {
public:
    Bitmap() : m_bitmap(roaring_bitmap_create()) { check(); }
    explicit Bitmap(roaring_bitmap_t* owned) : m_bitmap(owned) { check(); }
    ~Bitmap() {
        if (m_bitmap != nullptr) roaring_bitmap_free(m_bitmap);
    }
    Bitmap(Bitmap&& other) noexcept : m_bitmap(other.m_bitmap) { other.m_bitmap = nullptr; }
    Bitmap& operator=(Bitmap&& other) noexcept {
        std::swap(m_bitmap, other.m_bitmap);
        return *this;
    }
    Bitmap(const Bitmap&) = delete;
    Bitmap& operator=(const Bitmap&) = delete;

    Bitmap copy() const { return Bitmap(roaring_bitmap_copy(m_bitmap)); }
    roaring_bitmap_t* get() { return m_bitmap; }
    const roaring_bitmap_t* get() const { return m_bitmap; }
    uint64_t cardinality() const { return roaring_bitmap_get_cardinality(m_bitmap); }
    bool contains(uint32_t x) const { return roaring_bitmap_contains(m_bitmap, x); }
    void add(uint32_t x) { roaring_bitmap_add(m_bitmap, x); }
    void remove(uint32_t x) { roaring_bitmap_remove(m_bitmap, x); }

private:
    void check() const {
        if (m_bitmap == nullptr) throw std::bad_alloc();
    }
    roaring_bitmap_t* m_bitmap;
};

// The docs of one (field, term) pair, ascending. `docs` and `tfs` are the scoring view; `bitmap`
// holds the same set for set algebra (document frequency, filters) and persistence. Deleted docs
// stay until the next compaction: scoring skips them and counts exclude them.
struct Posting {
    std::vector<uint32_t> docs;
    std::vector<uint32_t> tfs;
    Bitmap bitmap;
    size_t n_in_bitmap = 0;  // docs[0, n_in_bitmap) are already in the bitmap
    uint32_t max_tf = 0;     // bounds over every doc listed, for pruning
    uint32_t min_len = UINT32_MAX;

    void append(uint32_t doc_id, uint32_t tf, uint32_t doc_len) {
        docs.push_back(doc_id);
        tfs.push_back(tf);
        if (tf > max_tf) max_tf = tf;
        if (doc_len < min_len) min_len = doc_len;
    }

    // Brings the bitmap up to date with docs appended since the last call.
    void sync_bitmap() {
        if (n_in_bitmap == docs.size()) return;
        roaring_bitmap_add_many(bitmap.get(), docs.size() - n_in_bitmap,
                                docs.data() + n_in_bitmap);
        n_in_bitmap = docs.size();
    }
};

}  // namespace ltrr

// Posting storage: per (field, term) a CRoaring bitmap of doc ids with term frequencies alongside.
#pragma once

#include <roaring/roaring.h>

#include <algorithm>
#include <array>
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

// Upper bound on a term's score over a set of docs, under any BM25 parameters. The score grows
// with term frequency and shrinks with doc length, so its maximum over the set is reached at a
// (tf, length) pair that no other pair beats on both: those pairs are kept, up to N of them.
// Past N, the two lowest-tf pairs merge into one (higher tf, shorter length) pair, which still
// bounds both, only less tightly.
template <size_t N>
struct ParetoBound {
    std::array<uint32_t, N> tf{};  // ascending; 0 marks an unused slot at the end
    std::array<uint32_t, N> len{};

    void insert(uint32_t new_tf, uint32_t new_len) {
        size_t n = 0;
        for (size_t i = 0; i < N && tf[i] != 0; ++i) {
            if (tf[i] >= new_tf && len[i] <= new_len) return;    // already bounded
            if (tf[i] <= new_tf && len[i] >= new_len) continue;  // new pair bounds it
            tf[n] = tf[i];
            len[n] = len[i];
            ++n;
        }
        if (n == N) {
            tf[0] = tf[1];
            len[0] = std::min(len[0], len[1]);
            for (size_t i = 1; i + 1 < N; ++i) {
                tf[i] = tf[i + 1];
                len[i] = len[i + 1];
            }
            --n;
        }
        size_t at = n;
        while (at > 0 && tf[at - 1] > new_tf) {
            tf[at] = tf[at - 1];
            len[at] = len[at - 1];
            --at;
        }
        tf[at] = new_tf;
        len[at] = new_len;
        for (size_t i = n + 1; i < N; ++i) tf[i] = 0;
    }

    // Largest weight * tf / norm(length) over the kept pairs.
    template <class Norm>
    double max_pseudo_tf(double weight, const Norm& norm) const {
        double best = 0.0;
        for (size_t i = 0; i < N && tf[i] != 0; ++i) {
            best = std::max(best, weight * tf[i] / norm(len[i]));
        }
        return best;
    }
};

// The docs of one (field, term) pair, ascending. `docs`, `tfs` and `lens` (each doc's length in
// this field, copied here so scoring reads it sequentially) are the scoring view; `bitmap`
// holds the same set for set algebra (document frequency, filters) and persistence. Deleted docs
// stay until the next compaction: scoring skips them and counts exclude them.
//
// Postings are cut into blocks of kBlockSize; each block keeps its last doc id and a score
// bound valid under any BM25 parameters, which lets top-k search skip whole blocks.
struct Posting {
    static constexpr size_t kBlockShift = 6;
    static constexpr size_t kBlockSize = size_t{1} << kBlockShift;

    std::vector<uint32_t> docs;
    std::vector<uint32_t> tfs;
    std::vector<uint32_t> lens;
    std::vector<uint32_t> block_last;
    std::vector<ParetoBound<4>> block_bound;
    ParetoBound<8> bound;  // over every doc listed
    Bitmap bitmap;
    size_t n_in_bitmap = 0;  // docs[0, n_in_bitmap) are already in the bitmap

    void append(uint32_t doc_id, uint32_t tf, uint32_t doc_len) {
        if ((docs.size() & (kBlockSize - 1)) == 0) {
            block_last.push_back(doc_id);
            block_bound.emplace_back();
        } else {
            block_last.back() = doc_id;
        }
        block_bound.back().insert(tf, doc_len);
        bound.insert(tf, doc_len);
        docs.push_back(doc_id);
        tfs.push_back(tf);
        lens.push_back(doc_len);
    }

    void reserve_more(size_t n) {
        // Grow geometrically even when called once per batch with a small n.
        const size_t want = docs.size() + n;
        if (want > docs.capacity()) {
            const size_t capacity = std::max(want, docs.capacity() + docs.capacity() / 2);
            docs.reserve(capacity);
            tfs.reserve(capacity);
            lens.reserve(capacity);
        }
    }

    // Rebuilds blocks and bounds from docs and tfs; lengths[doc] gives each doc's length.
    void rebuild_bounds(const std::vector<uint32_t>& lengths) {
        std::vector<uint32_t> d = std::move(docs);
        std::vector<uint32_t> t = std::move(tfs);
        docs.clear();
        tfs.clear();
        lens.clear();
        block_last.clear();
        block_bound.clear();
        bound = ParetoBound<8>();
        docs.reserve(d.size());
        tfs.reserve(t.size());
        lens.reserve(d.size());
        for (size_t i = 0; i < d.size(); ++i) append(d[i], t[i], lengths[d[i]]);
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

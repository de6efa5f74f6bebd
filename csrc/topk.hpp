// Bounded top-k of (score, doc id): higher score first, then smaller doc id.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

namespace ltrr {

// Docs are pushed in ascending id order, so a doc that ties the current k-th score never wins.
//
// Small k keeps a binary heap of the k best. Large k keeps an unsorted buffer of up to 2k
// entries above the threshold and, when it fills, cuts it back to the best k with a selection
// pass: constant work per push instead of a heap's log k, at the price of a threshold that
// rises in steps.
class TopK {
public:
    static constexpr size_t kHeapLimit = 128;

    explicit TopK(size_t k) : m_k(k), m_use_heap(k < kHeapLimit) {
        m_entries.reserve(std::min<size_t>(m_use_heap ? k : 2 * k, 1 << 20));
    }

    // True once threshold() is meaningful: only docs scoring above it can enter.
    bool full() const { return m_full; }
    double threshold() const { return m_threshold; }

    // Returns true when the doc was kept (it may still be dropped later by better docs).
    bool push(double score, uint32_t doc) {
        if (m_full && score <= m_threshold) return false;
        if (m_use_heap) {
            if (m_entries.size() < m_k) {
                m_entries.push_back({score, doc});
                std::push_heap(m_entries.begin(), m_entries.end(), better);
                if (m_entries.size() == m_k) set_threshold(m_entries.front().score);
                return true;
            }
            std::pop_heap(m_entries.begin(), m_entries.end(), better);
            m_entries.back() = {score, doc};
            std::push_heap(m_entries.begin(), m_entries.end(), better);
            set_threshold(m_entries.front().score);
            return true;
        }
        m_entries.push_back({score, doc});
        if (m_entries.size() >= 2 * m_k) cut();
        return true;
    }

    struct Entry {
        double score;
        uint32_t doc;
    };
    static bool better(const Entry& a, const Entry& b) {
        return a.score > b.score || (a.score == b.score && a.doc < b.doc);
    }

    // Moves the results out, best first.
    void drain(std::vector<uint32_t>& docs, std::vector<float>& scores) {
        select(m_entries, m_k, docs, scores);
    }

    // Best k of entries given in any order, best first; entries is reordered and cleared.
    static void select(std::vector<Entry>& entries, size_t k, std::vector<uint32_t>& docs,
                       std::vector<float>& scores) {
        if (entries.size() > k) {
            std::nth_element(entries.begin(), entries.begin() + k, entries.end(), better);
            entries.resize(k);
        }
        std::sort(entries.begin(), entries.end(), better);
        docs.resize(entries.size());
        scores.resize(entries.size());
        for (size_t i = 0; i < entries.size(); ++i) {
            docs[i] = entries[i].doc;
            scores[i] = static_cast<float>(entries[i].score);
        }
        entries.clear();
    }

private:
    void set_threshold(double score) {
        m_full = true;
        m_threshold = score;
    }

    // Keeps the best k of the buffer; the k-th best becomes the threshold.
    void cut() {
        std::nth_element(m_entries.begin(), m_entries.begin() + (m_k - 1), m_entries.end(),
                         better);
        m_entries.resize(m_k);
        double worst = m_entries.front().score;
        for (const Entry& e : m_entries) worst = std::min(worst, e.score);
        set_threshold(worst);
    }

    size_t m_k;
    bool m_use_heap;
    bool m_full = false;
    double m_threshold = -std::numeric_limits<double>::infinity();
    std::vector<Entry> m_entries;  // a heap (worst at the front) or an unsorted buffer
};

}  // namespace ltrr

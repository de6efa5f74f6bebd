// Bounded top-k of (score, doc id): higher score first, then smaller doc id.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

namespace ltrr {

class TopK {
public:
    explicit TopK(size_t k) : m_k(k) { m_heap.reserve(std::min<size_t>(k, 1 << 16)); }

    bool full() const { return m_heap.size() >= m_k; }
    // Score a new doc must beat; docs arrive in ascending id order, so a tie never wins.
    double threshold() const { return m_heap.front().score; }

    // Returns true when the doc entered the top k.
    bool push(double score, uint32_t doc) {
        if (m_heap.size() < m_k) {
            m_heap.push_back({score, doc});
            std::push_heap(m_heap.begin(), m_heap.end(), better);
            return true;
        }
        const Entry candidate{score, doc};
        if (!better(candidate, m_heap.front())) return false;
        std::pop_heap(m_heap.begin(), m_heap.end(), better);
        m_heap.back() = candidate;
        std::push_heap(m_heap.begin(), m_heap.end(), better);
        return true;
    }

    // Moves results out, best first.
    void drain(std::vector<uint32_t>& docs, std::vector<float>& scores) {
        std::sort(m_heap.begin(), m_heap.end(), better);
        docs.resize(m_heap.size());
        scores.resize(m_heap.size());
        for (size_t i = 0; i < m_heap.size(); ++i) {
            docs[i] = m_heap[i].doc;
            scores[i] = static_cast<float>(m_heap[i].score);
        }
        m_heap.clear();
    }

private:
    struct Entry {
        double score;
        uint32_t doc;
    };
    // Heap ordered so the worst entry sits at the front.
    static bool better(const Entry& a, const Entry& b) {
        return a.score > b.score || (a.score == b.score && a.doc < b.doc);
    }

    size_t m_k;
    std::vector<Entry> m_heap;
};

}  // namespace ltrr

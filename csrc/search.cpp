// BM25 / BM25F scoring with exact MaxScore top-k.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "index.hpp"
#include "scoring.hpp"
#include "topk.hpp"

namespace ltrr {

namespace {

constexpr uint32_t kEnd = UINT32_MAX;

// Pruning bounds are inflated by this much so rounding never prunes a doc that would enter.
constexpr double kBoundSlack = 1e-9;

// One field's postings of one query term, walked in doc order.
struct FieldCursor {
    const uint32_t* docs;
    const uint32_t* tfs;
    size_t n;
    size_t pos;
    const uint32_t* lengths;  // doc length in this field, by doc id
    LengthNorm norm;
    double weight;

    uint32_t doc() const { return pos < n ? docs[pos] : kEnd; }

    // Moves to the first doc >= target by galloping, then binary search.
    void seek(uint32_t target) {
        if (pos >= n || docs[pos] >= target) return;
        size_t lo = pos;
        size_t step = 1;
        size_t hi = pos + 1;
        while (hi < n && docs[hi] < target) {
            lo = hi;
            step <<= 1;
            hi = pos + step;
        }
        if (hi > n) hi = n;
        pos = static_cast<size_t>(std::lower_bound(docs + lo + 1, docs + hi, target) - docs);
    }
};

}  // namespace

struct Index::QueryTerm {
    std::vector<FieldCursor> fields;
    double weight = 0.0;  // query term count times idf
    double upper_bound = 0.0;
    uint32_t doc = kEnd;

    void refresh() {
        doc = kEnd;
        for (const auto& c : fields) doc = std::min(doc, c.doc());
    }
    void next() {
        for (auto& c : fields) {
            if (c.doc() == doc) ++c.pos;
        }
        refresh();
    }
    void seek(uint32_t target) {
        if (doc >= target) return;
        for (auto& c : fields) c.seek(target);
        refresh();
    }
    // Term score at the current doc: BM25F pseudo-frequency, then saturation.
    double score(const Saturation& saturation) const {
        double pseudo_tf = 0.0;
        for (const auto& c : fields) {
            if (c.doc() != doc) continue;
            pseudo_tf += c.weight * c.tfs[c.pos] / c.norm(c.lengths[doc]);
        }
        return weight * saturation(pseudo_tf);
    }
};

struct Index::QueryPlan {
    std::vector<QueryTerm> terms;  // ascending upper bound
    Saturation saturation;
    double prior_weight = 0.0;
    double prior_bound = 0.0;
};

void Index::check_params(const SearchParams& params) const {
    const size_t n_fields = m_fields.size();
    if (!std::isfinite(params.k1) || params.k1 < 0.0) {
        throw std::invalid_argument("k1 must be finite and >= 0, got " + std::to_string(params.k1));
    }
    if (params.b.size() != 1 && params.b.size() != n_fields) {
        throw std::invalid_argument("b needs 1 value or one per field (" +
                                    std::to_string(n_fields) + "), got " +
                                    std::to_string(params.b.size()));
    }
    for (double b : params.b) {
        if (!(b >= 0.0 && b <= 1.0)) {
            throw std::invalid_argument("b must be in [0, 1], got " + std::to_string(b));
        }
    }
    if (!params.field_weights.empty() && params.field_weights.size() != n_fields) {
        throw std::invalid_argument("field_weights needs one value per field (" +
                                    std::to_string(n_fields) + "), got " +
                                    std::to_string(params.field_weights.size()));
    }
    for (double w : params.field_weights) {
        if (!std::isfinite(w) || w < 0.0) {
            throw std::invalid_argument("field weights must be finite and >= 0, got " +
                                        std::to_string(w));
        }
    }
    if (!std::isfinite(params.prior_weight) || params.prior_weight < 0.0) {
        throw std::invalid_argument("prior_weight must be finite and >= 0, got " +
                                    std::to_string(params.prior_weight));
    }
}

Index::QueryPlan Index::plan(std::string_view query, const SearchParams& params) const {
    QueryPlan plan;
    plan.saturation = Saturation{params.variant, params.k1};
    if (m_n_live == 0) return plan;

    // Distinct query terms with their counts, in first-seen order.
    std::vector<std::pair<uint32_t, uint32_t>> counts;
    m_analyzer->tokenize(query, [&](std::string_view token) {
        const int64_t term_id = term_for_query(token);
        if (term_id < 0) return;
        for (auto& [id, count] : counts) {
            if (id == static_cast<uint32_t>(term_id)) {
                ++count;
                return;
            }
        }
        counts.emplace_back(static_cast<uint32_t>(term_id), 1);
    });

    const size_t n_fields = m_fields.size();
    const double n_docs = static_cast<double>(m_n_live);
    std::vector<const Posting*> postings;
    for (const auto& [term_id, count] : counts) {
        QueryTerm term;
        postings.clear();
        double bound_tf = 0.0;
        for (size_t f = 0; f < n_fields; ++f) {
            const double weight = params.field_weights.empty() ? 1.0 : params.field_weights[f];
            const Posting* p = posting(term_id, f);
            if (weight == 0.0 || p == nullptr || p->docs.empty()) continue;
            const double b = params.b.size() == 1 ? params.b[0] : params.b[f];
            const double avg_length = static_cast<double>(m_total_length[f]) / n_docs;
            LengthNorm norm = LengthNorm::make(b, avg_length);
            postings.push_back(p);
            term.fields.push_back(FieldCursor{p->docs.data(), p->tfs.data(), p->docs.size(), 0,
                                              m_lengths[f].data(), norm, weight});
            bound_tf += weight * p->max_tf / norm(p->min_len);
        }
        const uint64_t df = live_doc_freq(postings);
        if (df == 0) continue;
        term.weight = count * idf(params.variant, n_docs, static_cast<double>(df));
        term.upper_bound = term.weight * plan.saturation(bound_tf) * (1.0 + kBoundSlack);
        term.refresh();
        plan.terms.push_back(std::move(term));
    }
    std::stable_sort(plan.terms.begin(), plan.terms.end(),
                     [](const QueryTerm& a, const QueryTerm& b) {
                         return a.upper_bound < b.upper_bound;
                     });
    plan.prior_weight = params.prior_weight;
    plan.prior_bound = params.prior_weight * std::log1p(m_max_static) * (1.0 + kBoundSlack);
    return plan;
}

Hits Index::run(QueryPlan plan, size_t k, const SearchParams& params,
                const std::vector<uint64_t>* allowed) const {
    Hits hits;
    if (k == 0 || plan.terms.empty()) return hits;
    auto& terms = plan.terms;
    const size_t n_terms = terms.size();

    // bound[i]: the most that terms[0..i] and the prior can add to a doc's score.
    std::vector<double> bound(n_terms);
    double acc = plan.prior_bound;
    for (size_t i = 0; i < n_terms; ++i) {
        acc += terms[i].upper_bound;
        bound[i] = acc * (1.0 + kBoundSlack);
    }

    TopK top(k);
    std::vector<double> contribution(n_terms, 0.0);
    size_t first_essential = 0;
    const bool prune = !params.exhaustive;
    const uint8_t* alive = m_alive.data();
    const double* statics = m_static.data();

    auto next_candidate = [&]() {
        uint32_t doc = kEnd;
        for (size_t i = first_essential; i < n_terms; ++i) doc = std::min(doc, terms[i].doc);
        return doc;
    };

    for (uint32_t doc = next_candidate(); doc != kEnd; doc = next_candidate()) {
        const bool ok = alive[doc] &&
                        (allowed == nullptr || ((*allowed)[doc >> 6] >> (doc & 63)) & 1);
        if (!ok) {
            for (size_t i = first_essential; i < n_terms; ++i) {
                if (terms[i].doc == doc) terms[i].next();
            }
            continue;
        }

        // Score the essential terms; every candidate comes from one of them.
        std::fill(contribution.begin(), contribution.end(), 0.0);
        const double prior = plan.prior_weight > 0.0 ? plan.prior_weight * std::log1p(statics[doc])
                                                     : 0.0;
        double partial = prior;
        for (size_t i = first_essential; i < n_terms; ++i) {
            if (terms[i].doc != doc) continue;
            contribution[i] = terms[i].score(plan.saturation);
            partial += contribution[i];
            terms[i].next();
        }

        // Add non-essential terms, largest bound first, while the doc can still enter.
        bool pruned = false;
        for (size_t i = first_essential; i-- > 0;) {
            if (prune && top.full() && partial + bound[i] <= top.threshold()) {
                pruned = true;
                break;
            }
            terms[i].seek(doc);
            if (terms[i].doc == doc) {
                contribution[i] = terms[i].score(plan.saturation);
                partial += contribution[i];
            }
        }
        if (pruned) continue;

        // Sum in a fixed order so pruned and exhaustive runs give identical scores.
        double score = 0.0;
        for (size_t i = 0; i < n_terms; ++i) score += contribution[i];
        score += prior;
        if (!top.push(score, doc) || !prune || !top.full()) continue;
        while (first_essential < n_terms && bound[first_essential] <= top.threshold()) {
            ++first_essential;
        }
    }

    top.drain(hits.doc_ids, hits.scores);
    return hits;
}

Hits Index::search(std::string_view query, size_t k, const SearchParams& params,
                   const std::vector<FilterOp>* filter) const {
    check_params(params);
    std::shared_lock lock(m_mutex);
    std::vector<uint64_t> bits;
    if (filter != nullptr) bits = allowed_bits(*filter);
    return run(plan(query, params), k, params, filter != nullptr ? &bits : nullptr);
}

std::vector<Hits> Index::search_batch(const std::vector<std::string>& queries, size_t k,
                                      const SearchParams& params,
                                      const std::vector<FilterOp>* filter, int n_threads) const {
    check_params(params);
    std::shared_lock lock(m_mutex);
    std::vector<uint64_t> bits;
    if (filter != nullptr) bits = allowed_bits(*filter);
    const std::vector<uint64_t>* allowed = filter != nullptr ? &bits : nullptr;

    std::vector<Hits> results(queries.size());
    std::atomic<size_t> next{0};
    std::exception_ptr failure;
    std::mutex failure_mutex;
    auto worker = [&]() {
        try {
            for (size_t i = next++; i < queries.size(); i = next++) {
                results[i] = run(plan(queries[i], params), k, params, allowed);
            }
        } catch (...) {
            std::lock_guard guard(failure_mutex);
            if (!failure) failure = std::current_exception();
            next = queries.size();
        }
    };

    size_t threads = n_threads > 0 ? static_cast<size_t>(n_threads)
                                   : std::max(1u, std::thread::hardware_concurrency());
    threads = std::min(threads, std::max<size_t>(1, queries.size()));
    if (threads <= 1) {
        worker();
    } else {
        std::vector<std::thread> pool;
        for (size_t t = 0; t < threads; ++t) pool.emplace_back(worker);
        for (auto& t : pool) t.join();
    }
    if (failure) std::rethrow_exception(failure);
    return results;
}

}  // namespace ltrr

// BM25 / BM25F scoring with exact MaxScore top-k.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <type_traits>

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
    const uint32_t* block_last;
    const ParetoBound<4>* block_bound;
    const uint32_t* lens;  // doc length in this field, by posting
    LengthNorm norm;
    double field_weight;
    size_t pos = 0;
    size_t cached_block = SIZE_MAX;
    double cached_block_tf = 0.0;
    size_t shallow_block = 0;

    uint32_t doc() const { return pos < n ? docs[pos] : kEnd; }

    size_t n_blocks() const { return (n + Posting::kBlockSize - 1) >> Posting::kBlockShift; }

    // First block at or after `from` whose last doc is >= target, or n_blocks() if none:
    // gallop over block ends, then binary search the last stride.
    size_t find_block(size_t from, uint32_t target) const {
        const size_t count = n_blocks();
        if (from >= count || block_last[from] >= target) return from;
        size_t lo = from;
        size_t step = 1;
        size_t hi = from + 1;
        while (hi < count && block_last[hi] < target) {
            lo = hi;
            step <<= 1;
            hi = from + step;
        }
        if (hi >= count) hi = count - 1;
        if (block_last[hi] < target) return count;
        return static_cast<size_t>(
            std::lower_bound(block_last + lo + 1, block_last + hi + 1, target) - block_last);
    }

    // Moves to the first doc >= target: find its block, then binary search inside it.
    void seek(uint32_t target) {
        if (pos >= n || docs[pos] >= target) return;
        const size_t current = pos >> Posting::kBlockShift;
        const size_t block = find_block(current, target);
        if (block == n_blocks()) {
            pos = n;
            return;
        }
        if (block != current) pos = block << Posting::kBlockShift;
        const size_t block_stop = std::min(n, (block + 1) << Posting::kBlockShift);
        pos = static_cast<size_t>(std::lower_bound(docs + pos, docs + block_stop, target) - docs);
    }

    // Weighted, length-normalised term frequency at the current doc.
    double pseudo_tf() const { return field_weight * tfs[pos] / norm(lens[pos]); }

    uint32_t block_end() const { return pos < n ? block_last[pos >> Posting::kBlockShift] : kEnd; }

    // Bound on pseudo_tf() for every doc of the current block.
    double block_pseudo_tf() { return pseudo_tf_bound(pos >> Posting::kBlockShift); }

    // Bound on pseudo_tf() at doc, from the block that would hold it, found by moving a
    // separate block pointer forward: the postings themselves are not read.
    double block_pseudo_tf_at(uint32_t target) {
        shallow_block = find_block(std::max(shallow_block, pos >> Posting::kBlockShift), target);
        return shallow_block == n_blocks() ? 0.0 : pseudo_tf_bound(shallow_block);
    }

    double pseudo_tf_bound(size_t block) {
        if (block != cached_block) {
            cached_block = block;
            cached_block_tf = block_bound[block].max_pseudo_tf(field_weight, norm);
        }
        return cached_block_tf;
    }
};

// A query term found in one field: the common case, kept free of loops.
struct SingleFieldTerm {
    FieldCursor field;
    double weight;  // query count times idf
    double upper_bound;
    Saturation saturation;
    // score = scale * tf / (tf + k1_base + k1_slope * length), with tf already field-weighted:
    // the same value as weight * saturation(pseudo_tf) with one division instead of two.
    double scale = 0.0;
    double k1_base = 0.0;
    double k1_slope = 0.0;
    double m_limit_for = -1.0;  // skip_below's last max_score and its tf limit
    double m_tf_limit = 0.0;

    SingleFieldTerm(const FieldCursor& f, double w, double ub, const Saturation& sat)
        : field(f), weight(w), upper_bound(ub), saturation(sat) {
        scale = weight * (sat.variant == Variant::atire ? sat.k1 + 1.0 : 1.0);
        k1_base = sat.k1 * f.norm.base / f.field_weight;
        k1_slope = sat.k1 * f.norm.slope / f.field_weight;
    }

    uint32_t doc() const { return field.doc(); }
    void next() { ++field.pos; }
    void seek(uint32_t target) { field.seek(target); }
    double score() const {
        const double tf = field.tfs[field.pos];
        return scale * tf / (tf + k1_base + k1_slope * field.lens[field.pos]);
    }
    uint32_t block_end() const { return field.block_end(); }
    double block_bound() { return weight * saturation(field.block_pseudo_tf()); }
    double block_bound_at(uint32_t target) {
        return weight * saturation(field.block_pseudo_tf_at(target));
    }

    // Moves to the first doc whose score from this term may exceed max_score, skipping whole
    // blocks where it cannot. The score bound is turned into a bound on the pseudo frequency,
    // so each test is a multiply-add rather than a division.
    void skip_below(double max_score) {
        if (max_score < 0.0) return;
        if (max_score != m_limit_for) {
            m_limit_for = max_score;
            m_tf_limit = saturation.inverse(max_score / weight) * (1.0 - kBoundSlack);
        }
        const double tf_limit = m_tf_limit;
        if (tf_limit == std::numeric_limits<double>::infinity()) {
            field.pos = field.n;
            return;
        }
        const LengthNorm& norm = field.norm;
        const double w = field.field_weight;
        auto below = [&](uint32_t tf, uint32_t length) {
            return w * tf <= tf_limit * norm(length);
        };
        while (field.pos < field.n) {
            const size_t block = field.pos >> Posting::kBlockShift;
            const ParetoBound<4>& bound = field.block_bound[block];
            bool skip_block = true;
            for (size_t i = 0; i < 4 && bound.tf[i] != 0; ++i) {
                skip_block &= below(bound.tf[i], bound.len[i]);
            }
            const size_t block_stop = std::min(field.n, (block + 1) << Posting::kBlockShift);
            if (skip_block) {
                field.pos = block_stop;
                continue;
            }
            for (; field.pos < block_stop; ++field.pos) {
                if (!below(field.tfs[field.pos], field.lens[field.pos])) return;
            }
        }
    }
};

// A query term over several fields, scored as BM25F: weighted pseudo frequencies are summed
// across fields before saturation.
struct MultiFieldTerm {
    std::vector<FieldCursor> fields;
    double weight;
    double upper_bound;
    Saturation saturation;
    uint32_t current = kEnd;

    void refresh() {
        current = kEnd;
        for (const auto& f : fields) current = std::min(current, f.doc());
    }
    uint32_t doc() const { return current; }
    void next() {
        for (auto& f : fields) {
            if (f.doc() == current) ++f.pos;
        }
        refresh();
    }
    void seek(uint32_t target) {
        if (current >= target) return;
        for (auto& f : fields) f.seek(target);
        refresh();
    }
    double score() const {
        double tf = 0.0;
        for (const auto& f : fields) {
            if (f.doc() == current) tf += f.pseudo_tf();
        }
        return weight * saturation(tf);
    }
    uint32_t block_end() const {
        uint32_t end = kEnd;
        for (const auto& f : fields) end = std::min(end, f.block_end());
        return end;
    }
    double block_bound() {
        double tf = 0.0;
        for (auto& f : fields) {
            if (f.pos < f.n) tf += f.block_pseudo_tf();
        }
        return weight * saturation(tf);
    }
    double block_bound_at(uint32_t target) {
        double tf = 0.0;
        for (auto& f : fields) tf += f.block_pseudo_tf_at(target);
        return weight * saturation(tf);
    }
};

struct RunContext {
    size_t n_slots;
    const uint8_t* alive;
    const std::vector<uint64_t>* allowed;
    const double* statics;
    double prior_weight;
    double prior_bound;
    bool prune;
};

// Exact top-k by MaxScore with block-max skipping. Terms come sorted by ascending upper bound.
// Terms [0, first_essential) are non-essential: together with the prior they cannot lift a
// doc into the top k, so candidates come only from the others. Ranges of docs whose block
// bounds cannot beat the threshold are skipped without being scored.
template <class Term>
void maxscore(std::vector<Term>& term_list, TopK& top, const RunContext& ctx) {
    const size_t n_terms = term_list.size();
    Term* terms = term_list.data();
    std::vector<double> prefix(n_terms);  // bound of terms[0..i]
    std::vector<double> bound(n_terms);   // ... plus the prior
    double acc = 0.0;
    for (size_t i = 0; i < n_terms; ++i) {
        acc += terms[i].upper_bound;
        prefix[i] = acc * (1.0 + kBoundSlack);
        bound[i] = (acc + ctx.prior_bound) * (1.0 + kBoundSlack);
    }
    // Every entry a summed candidate uses is written while scoring it, so no reset is needed.
    std::vector<double> contribution(n_terms, 0.0);
    size_t first_essential = 0;
    uint32_t checked_until = 0;
    bool checked = false;

    // A doc must score above theta to enter; -inf until the top k is full (or when pruning is
    // off), so every "cannot beat theta" test below fails and nothing is skipped.
    constexpr double kNoThreshold = -std::numeric_limits<double>::infinity();
    double theta = kNoThreshold;
    // The most the non-essential terms and the prior can add.
    auto rest_bound = [&]() {
        return first_essential > 0 ? bound[first_essential - 1] : ctx.prior_bound;
    };

    while (true) {
        // With one essential term left, jump straight to its next doc that can compete.
        if constexpr (std::is_same_v<Term, SingleFieldTerm>) {
            if (theta != kNoThreshold && first_essential + 1 == n_terms) {
                terms[first_essential].skip_below(theta / (1.0 + kBoundSlack) - rest_bound());
            }
        }
        uint32_t doc = kEnd;
        for (size_t i = first_essential; i < n_terms; ++i) doc = std::min(doc, terms[i].doc());
        if (doc == kEnd) break;

        // Block-max check over the docs up to the nearest block end of the essential terms.
        if (theta != kNoThreshold && (!checked || doc > checked_until)) {
            uint32_t range_end = kEnd;
            for (size_t i = first_essential; i < n_terms; ++i) {
                range_end = std::min(range_end, terms[i].block_end());
            }
            double range_bound = rest_bound();
            for (size_t i = first_essential; i < n_terms; ++i) {
                if (terms[i].doc() <= range_end) range_bound += terms[i].block_bound();
            }
            if (range_bound * (1.0 + kBoundSlack) <= theta) {
                if (range_end == kEnd) break;
                for (size_t i = first_essential; i < n_terms; ++i) terms[i].seek(range_end + 1);
                checked = false;
                continue;
            }
            checked = true;
            checked_until = range_end;
        }

        bool skip = (ctx.alive != nullptr && !ctx.alive[doc]) ||
                    (ctx.allowed != nullptr && !(((*ctx.allowed)[doc >> 6] >> (doc & 63)) & 1));
        // Cheap per-doc bound from the blocks of the terms present here (a lone essential term
        // has already been filtered more tightly above).
        if (!skip && theta != kNoThreshold && first_essential + 1 < n_terms) {
            double doc_bound = rest_bound();
            for (size_t i = first_essential; i < n_terms; ++i) {
                if (terms[i].doc() == doc) doc_bound += terms[i].block_bound();
            }
            skip = doc_bound * (1.0 + kBoundSlack) <= theta;
        }
        if (skip) {
            for (size_t i = first_essential; i < n_terms; ++i) {
                if (terms[i].doc() == doc) terms[i].next();
            }
            continue;
        }

        // Score the essential terms; every candidate comes from one of them.
        const double prior =
            ctx.prior_weight > 0.0 ? ctx.prior_weight * std::log1p(ctx.statics[doc]) : 0.0;
        double partial = prior;
        for (size_t i = first_essential; i < n_terms; ++i) {
            if (terms[i].doc() == doc) {
                contribution[i] = terms[i].score();
                partial += contribution[i];
                terms[i].next();
            } else {
                contribution[i] = 0.0;
            }
        }

        // Add non-essential terms, largest bound first, while the doc can still enter.
        bool pruned = false;
        for (size_t i = first_essential; i-- > 0;) {
            if (partial + prefix[i] <= theta) {
                pruned = true;
                break;
            }
            // Tighter: this term's block bound at doc in place of its global bound.
            if (theta != kNoThreshold) {
                const double below = i > 0 ? prefix[i - 1] : 0.0;
                if (partial + terms[i].block_bound_at(doc) * (1.0 + kBoundSlack) + below <=
                    theta) {
                    pruned = true;
                    break;
                }
            }
            terms[i].seek(doc);
            contribution[i] = terms[i].doc() == doc ? terms[i].score() : 0.0;
            partial += contribution[i];
        }
        if (pruned) continue;

        // Sum in a fixed order so pruned and exhaustive runs give identical scores.
        double score = 0.0;
        for (size_t i = 0; i < n_terms; ++i) score += contribution[i];
        score += prior;
        if (!top.push(score, doc) || !ctx.prune || !top.full()) continue;
        theta = top.threshold();
        while (first_essential < n_terms && bound[first_essential] <= theta) ++first_essential;
    }
}

// When there are few postings per result wanted (large k on a small index), pruning skips
// little and scoring every posting term by term beats MaxScore's per-candidate bookkeeping.
constexpr size_t kAccumulatePerResult = 128;
constexpr size_t kAccumulateLimit = size_t{1} << 18;

// Exhaustive term-at-a-time scoring into a per-thread dense accumulator, then selection of the
// best k. Terms are added in the same order MaxScore sums them (and a missing term adds an
// exact 0.0 there), so the scores are bit-identical to the exhaustive path.
inline void accumulate(std::vector<SingleFieldTerm>& terms, size_t k, const RunContext& ctx,
                       Hits& hits) {
    constexpr double kUntouched = -1.0;  // scores are never negative
    thread_local std::vector<double> acc;
    thread_local std::vector<uint32_t> touched;
    if (acc.size() < ctx.n_slots) acc.resize(ctx.n_slots, kUntouched);
    touched.clear();

    for (SingleFieldTerm& term : terms) {
        FieldCursor& f = term.field;
        for (f.pos = 0; f.pos < f.n; ++f.pos) {
            const uint32_t doc = f.docs[f.pos];
            const double contribution = term.score();
            if (acc[doc] == kUntouched) {
                acc[doc] = 0.0 + contribution;
                touched.push_back(doc);
            } else {
                acc[doc] += contribution;
            }
        }
    }

    thread_local std::vector<TopK::Entry> entries;
    entries.clear();
    for (uint32_t doc : touched) {
        const double sum = acc[doc];
        acc[doc] = kUntouched;
        if (ctx.alive != nullptr && !ctx.alive[doc]) continue;
        if (ctx.allowed != nullptr && !(((*ctx.allowed)[doc >> 6] >> (doc & 63)) & 1)) continue;
        const double prior =
            ctx.prior_weight > 0.0 ? ctx.prior_weight * std::log1p(ctx.statics[doc]) : 0.0;
        entries.push_back({sum + prior, doc});
    }
    TopK::select(entries, k, hits.doc_ids, hits.scores);
}

}  // namespace

struct Index::QueryTerm {
    std::vector<FieldCursor> fields;
    double weight = 0.0;
    double upper_bound = 0.0;
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
        throw std::invalid_argument("k1 must be finite and >= 0, got " +
                                    std::to_string(params.k1));
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

    // Distinct query terms with their counts.
    std::vector<uint32_t> ids;
    m_analyzer->tokenize(query, [&](std::string_view token) {
        const int64_t term_id = term_for_query(token);
        if (term_id >= 0) ids.push_back(static_cast<uint32_t>(term_id));
    });
    std::sort(ids.begin(), ids.end());
    std::vector<std::pair<uint32_t, uint32_t>> counts;
    for (uint32_t id : ids) {
        if (!counts.empty() && counts.back().first == id) {
            ++counts.back().second;
        } else {
            counts.emplace_back(id, 1);
        }
    }

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
            term.fields.push_back(FieldCursor{p->docs.data(), p->tfs.data(), p->docs.size(),
                                              p->block_last.data(), p->block_bound.data(),
                                              p->lens.data(), norm, weight});
            bound_tf += p->bound.max_pseudo_tf(weight, norm);
        }
        const uint64_t df = live_doc_freq(postings);
        if (df == 0) continue;
        term.weight = count * idf(params.variant, n_docs, static_cast<double>(df));
        term.upper_bound = term.weight * plan.saturation(bound_tf) * (1.0 + kBoundSlack);
        plan.terms.push_back(std::move(term));
    }
    std::stable_sort(
        plan.terms.begin(), plan.terms.end(),
        [](const QueryTerm& a, const QueryTerm& b) { return a.upper_bound < b.upper_bound; });
    plan.prior_weight = params.prior_weight;
    plan.prior_bound = params.prior_weight * std::log1p(m_max_static) * (1.0 + kBoundSlack);
    return plan;
}

Hits Index::run(QueryPlan plan, size_t k, const SearchParams& params,
                const std::vector<uint64_t>* allowed) const {
    Hits hits;
    k = std::min<size_t>(k, m_n_live);  // never more results than live docs
    if (k == 0 || plan.terms.empty()) return hits;
    TopK top(k);
    // Postings list deleted docs only until compaction; with none, skip the liveness check.
    const uint8_t* alive = m_n_dead > 0 ? m_alive.data() : nullptr;
    const RunContext ctx{
        m_ext_ids.size(),  alive, allowed, m_static.data(), plan.prior_weight, plan.prior_bound,
        !params.exhaustive};

    const bool single_field = std::all_of(plan.terms.begin(), plan.terms.end(),
                                          [](const QueryTerm& t) { return t.fields.size() == 1; });
    if (single_field) {
        std::vector<SingleFieldTerm> terms;
        terms.reserve(plan.terms.size());
        for (const auto& t : plan.terms) {
            terms.emplace_back(t.fields[0], t.weight, t.upper_bound, plan.saturation);
        }
        size_t n_postings = 0;
        for (const auto& t : terms) n_postings += t.field.n;
        if (ctx.prune && n_postings <= kAccumulateLimit &&
            n_postings <= kAccumulatePerResult * k) {
            accumulate(terms, k, ctx, hits);
            return hits;
        }
        maxscore(terms, top, ctx);
    } else {
        std::vector<MultiFieldTerm> terms;
        terms.reserve(plan.terms.size());
        for (const auto& t : plan.terms) {
            terms.push_back(MultiFieldTerm{t.fields, t.weight, t.upper_bound, plan.saturation});
            terms.back().refresh();
        }
        maxscore(terms, top, ctx);
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
    Hits hits = run(plan(query, params), k, params, filter != nullptr ? &bits : nullptr);
    for (uint32_t doc : hits.doc_ids) hits.ids.push_back(m_ext_ids[doc]);
    return hits;
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
                for (uint32_t doc : results[i].doc_ids) results[i].ids.push_back(m_ext_ids[doc]);
            }
        } catch (...) {
            std::lock_guard guard(failure_mutex);
            if (!failure) failure = std::current_exception();
            next = queries.size();
        }
    };

    size_t threads = n_threads > 0 ? static_cast<size_t>(n_threads)
                                   : std::max(1u, std::thread::hardware_concurrency());
    // A thread costs tens of microseconds to start: give each at least a few queries.
    constexpr size_t kQueriesPerThread = 8;
    threads = std::min(threads, std::max<size_t>(1, queries.size() / kQueriesPerThread));
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

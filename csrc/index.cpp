#include "index.hpp"

#include <cmath>
#include <mutex>
#include <stdexcept>

namespace ltrr {

namespace {

constexpr char kAttributeSeparator = '\x1f';

std::string attribute_key(const std::string& key, const std::string& value) {
    std::string out;
    out.reserve(key.size() + value.size() + 1);
    out += key;
    out += kAttributeSeparator;
    out += value;
    return out;
}

}  // namespace

Variant parse_variant(const std::string& name) {
    if (name == "lucene") return Variant::lucene;
    if (name == "robertson") return Variant::robertson;
    if (name == "atire") return Variant::atire;
    throw std::invalid_argument("unknown BM25 variant '" + name +
                                "'; expected one of 'lucene', 'robertson', 'atire'");
}

const char* variant_name(Variant v) {
    switch (v) {
        case Variant::lucene:
            return "lucene";
        case Variant::robertson:
            return "robertson";
        case Variant::atire:
            return "atire";
    }
    return "unknown";
}

Index::Index(std::vector<std::string> fields, AnalyzerConfig config)
    : m_fields(std::move(fields)), m_analyzer(std::make_unique<Analyzer>(std::move(config))) {
    if (m_fields.empty()) throw std::invalid_argument("an index needs at least one field");
    if (m_fields.size() > kMaxFields) {
        throw std::invalid_argument("an index holds at most " + std::to_string(kMaxFields) +
                                    " fields, got " + std::to_string(m_fields.size()));
    }
    for (size_t i = 0; i < m_fields.size(); ++i) {
        if (m_fields[i].empty()) throw std::invalid_argument("field names must not be empty");
        for (size_t j = 0; j < i; ++j) {
            if (m_fields[i] == m_fields[j]) {
                throw std::invalid_argument("field '" + m_fields[i] + "' is listed twice");
            }
        }
    }
    m_lengths.resize(m_fields.size());
    m_total_length.assign(m_fields.size(), 0);
}

Index::~Index() = default;

uint32_t Index::term_for_add(std::string_view token, Stemmer* stemmer) {
    if (stemmer == nullptr) {
        bool inserted = false;
        const uint32_t term_id = m_terms.insert(token, 0, &inserted);
        if (inserted) m_postings.resize(m_postings.size() + m_fields.size());
        return term_id;
    }
    const uint32_t known = m_token_terms.get(token);
    if (known != StringMap::kMissing) return known;
    bool inserted = false;
    const uint32_t term_id = m_terms.insert(stemmer->stem(token), 0, &inserted);
    if (inserted) m_postings.resize(m_postings.size() + m_fields.size());
    m_token_terms.insert(token, term_id);
    return term_id;
}

int64_t Index::term_for_query(std::string_view token) const {
    auto as_result = [](uint32_t id) {
        return id == StringMap::kMissing ? int64_t{-1} : int64_t{id};
    };
    if (!m_analyzer->stems()) return as_result(m_terms.find(token));
    const uint32_t known = m_token_terms.get(token);
    if (known != StringMap::kMissing) return known;
    // A token never seen at add time may still stem to a known term.
    return as_result(m_terms.find(thread_stemmer(m_analyzer->config().stemmer).stem(token)));
}

void Index::add_batch(const std::vector<DocInput>& docs) {
    // Check everything before storing anything, so a bad row leaves the index untouched.
    for (size_t i = 0; i < docs.size(); ++i) {
        const DocInput& doc = docs[i];
        if (doc.id.empty()) {
            throw std::invalid_argument("document " + std::to_string(i) + " has an empty id");
        }
        if (doc.fields.size() != m_fields.size()) {
            throw std::invalid_argument("document '" + doc.id + "' has " +
                                        std::to_string(doc.fields.size()) + " fields, expected " +
                                        std::to_string(m_fields.size()));
        }
        if (!std::isfinite(doc.static_score) || doc.static_score < 0.0) {
            throw std::invalid_argument("document '" + doc.id +
                                        "': static score must be finite and >= 0, got " +
                                        std::to_string(doc.static_score));
        }
        for (const auto& [key, value] : doc.attributes) {
            if (key.empty() || key.find(kAttributeSeparator) != std::string::npos ||
                value.find(kAttributeSeparator) != std::string::npos) {
                throw std::invalid_argument("document '" + doc.id + "': attribute key '" + key +
                                            "' must be non-empty and free of \\x1f");
            }
        }
    }

    std::unique_lock lock(m_mutex);
    if (m_ext_ids.size() + docs.size() > kMaxDocs) {
        throw std::length_error("the index holds at most " + std::to_string(kMaxDocs) +
                                " documents over its lifetime (deleted ones included)");
    }
    Stemmer* stemmer =
        m_analyzer->stems() ? &thread_stemmer(m_analyzer->config().stemmer) : nullptr;

    const size_t n_fields = m_fields.size();
    std::vector<uint32_t> tf_scratch(m_terms.size(), 0);
    std::vector<uint32_t> touched_terms;

    // Postings are gathered per batch and appended posting by posting, so each posting's
    // memory is touched once per batch rather than once per document that holds its term.
    std::vector<PendingPosting> pending;
    std::vector<PendingPosting> sorted;  // reused by every flush of this batch
    pending.reserve(std::min<size_t>(kFlushPostings, docs.size() * 64));

    for (const DocInput& doc : docs) {
        auto existing = m_id_map.find(doc.id);
        if (existing != m_id_map.end()) remove_locked(existing->second);
        const uint32_t doc_id = static_cast<uint32_t>(m_ext_ids.size());

        for (size_t f = 0; f < n_fields; ++f) {
            // Count term frequencies for this field.
            uint32_t length = 0;
            m_analyzer->tokenize(doc.fields[f], [&](std::string_view token) {
                const uint32_t term_id = term_for_add(token, stemmer);
                if (term_id >= tf_scratch.size()) tf_scratch.resize(m_terms.size(), 0);
                if (tf_scratch[term_id]++ == 0) touched_terms.push_back(term_id);
                ++length;
            });

            for (uint32_t term_id : touched_terms) {
                pending.push_back({static_cast<uint32_t>(term_id * n_fields + f), doc_id,
                                   tf_scratch[term_id], length});
                tf_scratch[term_id] = 0;
            }
            touched_terms.clear();
            m_lengths[f].push_back(length);
            m_total_length[f] += length;
        }

        m_ext_ids.push_back(doc.id);
        m_id_map[doc.id] = doc_id;
        m_alive.push_back(1);
        m_alive_bitmap.add(doc_id);
        m_static.push_back(doc.static_score);
        if (doc.static_score > m_max_static) m_max_static = doc.static_score;
        ++m_n_live;
        for (const auto& [key, value] : doc.attributes) {
            m_attributes[attribute_key(key, value)].add(doc_id);
        }
        if (pending.size() >= kFlushPostings) flush_postings(pending, sorted);
    }
    flush_postings(pending, sorted);
    if (m_n_dead >= 64 && m_n_dead * 4 >= m_n_live) compact_locked();
}

void Index::flush_postings(std::vector<PendingPosting>& pending,
                           std::vector<PendingPosting>& sorted) {
    if (pending.empty()) return;
    // Counting sort by posting; stable, so each posting's docs stay ascending.
    std::vector<uint32_t> start(m_postings.size() + 1, 0);
    for (const auto& p : pending) ++start[p.posting + 1];
    for (size_t i = 1; i < start.size(); ++i) start[i] += start[i - 1];
    sorted.resize(pending.size());
    {
        std::vector<uint32_t> next(start.begin(), start.end() - 1);
        for (const auto& p : pending) sorted[next[p.posting]++] = p;
    }
    for (size_t i = 0; i + 1 < start.size(); ++i) {
        if (start[i] == start[i + 1]) continue;
        auto& slot = m_postings[i];
        if (!slot) slot = std::make_unique<Posting>();
        Posting& posting = *slot;
        posting.reserve_more(start[i + 1] - start[i]);
        for (uint32_t j = start[i]; j < start[i + 1]; ++j) {
            posting.append(sorted[j].doc, sorted[j].tf, sorted[j].length);
        }
        posting.sync_bitmap();
    }
    pending.clear();
}

bool Index::remove(const std::string& id) {
    std::unique_lock lock(m_mutex);
    auto it = m_id_map.find(id);
    if (it == m_id_map.end()) return false;
    remove_locked(it->second);
    if (m_n_dead >= 64 && m_n_dead * 4 >= m_n_live) compact_locked();
    return true;
}

void Index::remove_locked(uint32_t doc_id) {
    m_alive[doc_id] = 0;
    m_alive_bitmap.remove(doc_id);
    for (size_t f = 0; f < m_fields.size(); ++f) m_total_length[f] -= m_lengths[f][doc_id];
    --m_n_live;
    ++m_n_dead;
    m_id_map.erase(m_ext_ids[doc_id]);
    m_ext_ids[doc_id].clear();
}

void Index::compact() {
    std::unique_lock lock(m_mutex);
    compact_locked();
}

void Index::compact_locked() {
    if (m_n_dead == 0) return;
    for (auto& slot : m_postings) {
        if (!slot) continue;
        Posting& p = *slot;
        size_t out = 0;
        for (size_t i = 0; i < p.docs.size(); ++i) {
            if (!m_alive[p.docs[i]]) continue;
            p.docs[out] = p.docs[i];
            p.tfs[out] = p.tfs[i];
            ++out;
        }
        p.docs.resize(out);
        p.tfs.resize(out);
        const size_t field = static_cast<size_t>(&slot - m_postings.data()) % m_fields.size();
        p.rebuild_bounds(m_lengths[field]);
        p.docs.shrink_to_fit();
        p.tfs.shrink_to_fit();
        p.lens.shrink_to_fit();
        p.bitmap = Bitmap();
        p.n_in_bitmap = 0;
        p.sync_bitmap();
        roaring_bitmap_run_optimize(p.bitmap.get());
    }
    for (auto& [key, bitmap] : m_attributes) {
        roaring_bitmap_and_inplace(bitmap.get(), m_alive_bitmap.get());
    }
    m_n_dead = 0;
}

std::vector<std::string> Index::tokenize(std::string_view text) const {
    std::vector<std::string> out;
    Stemmer* stemmer =
        m_analyzer->stems() ? &thread_stemmer(m_analyzer->config().stemmer) : nullptr;
    m_analyzer->tokenize(text, [&](std::string_view token) {
        out.push_back(stemmer != nullptr ? stemmer->stem(token) : std::string(token));
    });
    return out;
}

std::vector<std::string> Index::external_ids(const uint32_t* doc_ids, size_t n) const {
    std::shared_lock lock(m_mutex);
    std::vector<std::string> out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        if (doc_ids[i] >= m_ext_ids.size()) {
            throw std::out_of_range("doc id " + std::to_string(doc_ids[i]) +
                                    " is out of range; the index has " +
                                    std::to_string(m_ext_ids.size()) + " slots");
        }
        out.push_back(m_ext_ids[doc_ids[i]]);
    }
    return out;
}

int64_t Index::internal_id(const std::string& id) const {
    std::shared_lock lock(m_mutex);
    auto it = m_id_map.find(id);
    return it == m_id_map.end() ? int64_t{-1} : int64_t{it->second};
}

size_t Index::size() const {
    std::shared_lock lock(m_mutex);
    return m_n_live;
}

size_t Index::n_slots() const {
    std::shared_lock lock(m_mutex);
    return m_ext_ids.size();
}

size_t Index::n_terms() const {
    std::shared_lock lock(m_mutex);
    return m_terms.size();
}

uint64_t Index::doc_freq(const std::string& field, const std::string& term) const {
    std::shared_lock lock(m_mutex);
    size_t f = 0;
    while (f < m_fields.size() && m_fields[f] != field) ++f;
    if (f == m_fields.size()) throw std::invalid_argument("unknown field '" + field + "'");
    const uint32_t term_id = m_terms.find(term);
    if (term_id == StringMap::kMissing) return 0;
    const Posting* p = posting(term_id, f);
    if (p == nullptr) return 0;
    return live_doc_freq({p});
}

uint64_t Index::live_doc_freq(const std::vector<const Posting*>& postings) const {
    if (postings.empty()) return 0;
    if (postings.size() == 1) {
        const Posting* p = postings[0];
        if (m_n_dead == 0) return p->docs.size();
        return roaring_bitmap_and_cardinality(p->bitmap.get(), m_alive_bitmap.get());
    }
    std::vector<const roaring_bitmap_t*> parts;
    for (const Posting* p : postings) parts.push_back(p->bitmap.get());
    Bitmap any(roaring_bitmap_or_many(parts.size(), parts.data()));
    if (m_n_dead == 0) return any.cardinality();
    return roaring_bitmap_and_cardinality(any.get(), m_alive_bitmap.get());
}

Bitmap Index::evaluate_filter(const std::vector<FilterOp>& filter) const {
    std::vector<Bitmap> stack;
    for (const FilterOp& op : filter) {
        switch (op.kind) {
            case FilterOp::Kind::attr: {
                auto it = m_attributes.find(attribute_key(op.key, op.value));
                stack.push_back(it == m_attributes.end() ? Bitmap() : it->second.copy());
                break;
            }
            case FilterOp::Kind::all:
                stack.push_back(m_alive_bitmap.copy());
                break;
            case FilterOp::Kind::and_:
            case FilterOp::Kind::or_: {
                if (op.n_args < 1 || op.n_args > stack.size()) {
                    throw std::invalid_argument("malformed filter: and/or needs " +
                                                std::to_string(op.n_args) + " operands, have " +
                                                std::to_string(stack.size()));
                }
                Bitmap acc = std::move(stack[stack.size() - op.n_args]);
                for (size_t i = stack.size() - op.n_args + 1; i < stack.size(); ++i) {
                    if (op.kind == FilterOp::Kind::and_) {
                        roaring_bitmap_and_inplace(acc.get(), stack[i].get());
                    } else {
                        roaring_bitmap_or_inplace(acc.get(), stack[i].get());
                    }
                }
                stack.resize(stack.size() - op.n_args);
                stack.push_back(std::move(acc));
                break;
            }
            case FilterOp::Kind::not_: {
                if (stack.empty())
                    throw std::invalid_argument("malformed filter: 'not' of nothing");
                Bitmap negated(roaring_bitmap_andnot(m_alive_bitmap.get(), stack.back().get()));
                stack.back() = std::move(negated);
                break;
            }
        }
    }
    if (stack.size() != 1) {
        throw std::invalid_argument("malformed filter: program leaves " +
                                    std::to_string(stack.size()) + " results, expected 1");
    }
    roaring_bitmap_and_inplace(stack[0].get(), m_alive_bitmap.get());
    return std::move(stack[0]);
}

std::vector<uint32_t> Index::filter_doc_ids(const std::vector<FilterOp>& filter) const {
    std::shared_lock lock(m_mutex);
    Bitmap allowed = evaluate_filter(filter);
    std::vector<uint32_t> out(allowed.cardinality());
    roaring_bitmap_to_uint32_array(allowed.get(), out.data());
    return out;
}

std::vector<uint64_t> Index::allowed_bits(const std::vector<FilterOp>& filter) const {
    Bitmap allowed = evaluate_filter(filter);
    std::vector<uint64_t> bits((m_ext_ids.size() + 63) / 64, 0);
    roaring_iterate(
        allowed.get(),
        [](uint32_t value, void* data) {
            auto* words = static_cast<uint64_t*>(data);
            words[value >> 6] |= uint64_t{1} << (value & 63);
            return true;
        },
        bits.data());
    return bits;
}

}  // namespace ltrr

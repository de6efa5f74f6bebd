// The lexical index: documents with named text fields, a static score and keyword attributes.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "analyzer.hpp"
#include "postings.hpp"
#include "string_map.hpp"

namespace ltrr {

enum class Variant : uint8_t { lucene = 0, robertson = 1, atire = 2 };

Variant parse_variant(const std::string& name);
const char* variant_name(Variant v);

struct SearchParams {
    Variant variant = Variant::lucene;
    double k1 = 1.2;
    std::vector<double> b{0.75};        // per field; one value means every field
    std::vector<double> field_weights;  // per field; empty means 1 for every field
    double prior_weight = 0.0;          // adds prior_weight * log1p(static score)
    bool exhaustive = false;            // score every match, no pruning (reference path)
};

// A filter as a postfix program over attribute bitmaps.
struct FilterOp {
    enum class Kind : uint8_t { attr, all, and_, or_, not_ } kind;
    std::string key;
    std::string value;
    uint32_t n_args = 0;  // for and / or
};

struct Hits {
    std::vector<uint32_t> doc_ids;
    std::vector<float> scores;
    std::vector<std::string> ids;  // external ids, read under the same lock as the search
};

struct DocInput {
    std::string id;
    std::vector<std::string_view> fields;  // one text per field
    double static_score = 0.0;
    std::vector<std::pair<std::string, std::string>> attributes;
};

class Index {
public:
    static constexpr uint32_t kFormatVersion = 1;
    static constexpr uint32_t kMaxDocs = UINT32_MAX - 1;
    static constexpr size_t kMaxFields = 256;

    Index(std::vector<std::string> fields, AnalyzerConfig config);
    ~Index();

    const std::vector<std::string>& fields() const { return m_fields; }
    const Analyzer& analyzer() const { return *m_analyzer; }

    // Adds documents; an id already present is replaced. All-or-nothing: inputs are checked
    // before anything is stored.
    void add_batch(const std::vector<DocInput>& docs);
    bool remove(const std::string& id);
    void compact();

    Hits search(std::string_view query, size_t k, const SearchParams& params,
                const std::vector<FilterOp>* filter) const;
    // Runs queries on n_threads threads; results in query order.
    std::vector<Hits> search_batch(const std::vector<std::string>& queries, size_t k,
                                   const SearchParams& params, const std::vector<FilterOp>* filter,
                                   int n_threads) const;

    std::vector<std::string> tokenize(std::string_view text) const;
    std::vector<std::string> external_ids(const uint32_t* doc_ids, size_t n) const;
    int64_t internal_id(const std::string& id) const;
    // Live doc ids matching a filter, ascending.
    std::vector<uint32_t> filter_doc_ids(const std::vector<FilterOp>& filter) const;

    size_t size() const;
    size_t n_slots() const;
    size_t n_terms() const;
    // Number of live docs containing the term (given as text, analysed) in a field.
    uint64_t doc_freq(const std::string& field, const std::string& term) const;

    void save(const std::string& path) const;
    static std::unique_ptr<Index> load(const std::string& path);

private:
    struct QueryTerm;
    struct QueryPlan;
    // One (posting, doc) pair waiting to be appended.
    struct PendingPosting {
        uint32_t posting;  // term_id * n_fields + field
        uint32_t doc;
        uint32_t tf;
        uint32_t length;
    };
    static constexpr size_t kFlushPostings = size_t{1} << 23;

    Posting* posting(uint32_t term_id, size_t field) const {
        return m_postings[static_cast<size_t>(term_id) * m_fields.size() + field].get();
    }
    uint32_t term_for_add(std::string_view token, Stemmer* stemmer);
    int64_t term_for_query(std::string_view token) const;
    void flush_postings(std::vector<PendingPosting>& pending, std::vector<PendingPosting>& sorted);
    void remove_locked(uint32_t doc_id);
    void compact_locked();
    Bitmap evaluate_filter(const std::vector<FilterOp>& filter) const;
    uint64_t live_doc_freq(const std::vector<const Posting*>& postings) const;
    QueryPlan plan(std::string_view query, const SearchParams& params) const;
    Hits run(QueryPlan plan, size_t k, const SearchParams& params,
             const std::vector<uint64_t>* allowed) const;
    std::vector<uint64_t> allowed_bits(const std::vector<FilterOp>& filter) const;
    void check_params(const SearchParams& params) const;

    std::vector<std::string> m_fields;
    std::unique_ptr<Analyzer> m_analyzer;

    // Terms: a term's id is its position in m_terms. With stemming, m_token_terms maps each
    // unstemmed token seen at add time to its stem's id, so each distinct token is stemmed once.
    StringMap m_terms;
    StringMap m_token_terms;
    std::vector<std::unique_ptr<Posting>> m_postings;  // [term_id * n_fields + field]

    // Documents, by internal id. Ids are never reused; a replaced doc gets a new id.
    std::vector<std::string> m_ext_ids;
    std::unordered_map<std::string, uint32_t> m_id_map;
    std::vector<uint8_t> m_alive;
    Bitmap m_alive_bitmap;
    std::vector<std::vector<uint32_t>> m_lengths;  // [field][doc]
    std::vector<double> m_static;
    double m_max_static = 0.0;
    std::vector<uint64_t> m_total_length;  // per field, live docs only
    uint64_t m_n_live = 0;
    uint64_t m_n_dead = 0;  // deleted docs still listed in postings

    std::unordered_map<std::string, Bitmap> m_attributes;  // "key\x1fvalue" -> docs

    mutable std::shared_mutex m_mutex;

    friend class IndexIO;
};

}  // namespace ltrr

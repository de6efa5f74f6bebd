// Saving and loading an Index. Layout (little-endian):
//   header: magic "LTRRLEXI", u32 format version, u32 reserved, u64 payload size, u32 crc32
//   payload: config, documents, terms, postings, attributes. Doc id lists are stored as gaps
//            in LEB128 varints and term frequencies as varints; bitmaps are rebuilt on load,
//            so a damaged file is caught by our own checks before any bitmap code reads it.
// Deleted docs are left out of postings on save; their id slots are kept so ids stay stable.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "index.hpp"
#include "persist.hpp"

namespace ltrr {

namespace {

constexpr char kMagic[8] = {'L', 'T', 'R', 'R', 'L', 'E', 'X', 'I'};
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 + 4;

}  // namespace

void Index::save(const std::string& path) const {
    // The header is patched in front of the payload once its size and checksum are known, so
    // the payload is never copied.
    Writer w;
    w.bytes().assign(kHeaderBytes, '\0');
    {
        std::shared_lock lock(m_mutex);
        const size_t n_fields = m_fields.size();
        const AnalyzerConfig& config = m_analyzer->config();

        w.put<uint32_t>(static_cast<uint32_t>(n_fields));
        for (const auto& f : m_fields) w.put_string(f);
        w.put<uint8_t>(config.fold_accents);
        w.put<uint8_t>(config.cjk_bigrams);
        w.put_string(config.stemmer);
        w.put<uint64_t>(config.stopwords.size());
        for (const auto& s : config.stopwords) w.put_string(s);

        w.put<uint64_t>(m_ext_ids.size());
        for (size_t d = 0; d < m_ext_ids.size(); ++d) {
            w.put_string(m_ext_ids[d]);
            w.put<uint8_t>(m_alive[d]);
            w.put<double>(m_static[d]);
            for (size_t f = 0; f < n_fields; ++f) w.put<uint32_t>(m_lengths[f][d]);
        }

        w.put<uint64_t>(m_terms.size());
        for (const auto& t : m_terms.keys()) w.put_string(t);

        uint64_t n_postings = 0;
        for (const auto& slot : m_postings) n_postings += slot ? 1 : 0;
        w.put<uint64_t>(n_postings);
        std::vector<uint32_t> docs;
        std::vector<uint32_t> tfs;
        for (size_t i = 0; i < m_postings.size(); ++i) {
            const Posting* p = m_postings[i].get();
            if (p == nullptr) continue;
            docs.clear();
            tfs.clear();
            for (size_t j = 0; j < p->docs.size(); ++j) {
                if (!m_alive[p->docs[j]]) continue;
                docs.push_back(p->docs[j]);
                tfs.push_back(p->tfs[j]);
            }
            w.put<uint32_t>(static_cast<uint32_t>(i / n_fields));
            w.put<uint32_t>(static_cast<uint32_t>(i % n_fields));
            w.put_doc_list(docs.data(), docs.size());
            for (uint32_t tf : tfs) w.put_varint(tf);
        }

        // Sorted, so saving the same index twice writes the same bytes.
        std::vector<const std::pair<const std::string, Bitmap>*> attributes;
        for (const auto& entry : m_attributes) attributes.push_back(&entry);
        std::sort(attributes.begin(), attributes.end(),
                  [](const auto* a, const auto* b) { return a->first < b->first; });
        w.put<uint64_t>(attributes.size());
        for (const auto* entry : attributes) {
            const std::string& key = entry->first;
            const Bitmap& bitmap = entry->second;
            Bitmap live(roaring_bitmap_and(bitmap.get(), m_alive_bitmap.get()));
            std::vector<uint32_t> members(live.cardinality());
            roaring_bitmap_to_uint32_array(live.get(), members.data());
            w.put_string(key);
            w.put_doc_list(members.data(), members.size());
        }
    }

    std::string& file = w.bytes();
    const uint64_t payload_size = file.size() - kHeaderBytes;
    Writer header;
    header.put_bytes(kMagic, sizeof(kMagic));
    header.put<uint32_t>(kFormatVersion);
    header.put<uint32_t>(0);
    header.put<uint64_t>(payload_size);
    header.put<uint32_t>(crc32(file.data() + kHeaderBytes, payload_size));
    file.replace(0, kHeaderBytes, header.bytes());
    write_file_atomic(path, file);
}

std::unique_ptr<Index> Index::load(const std::string& path) {
    const std::string file = read_file(path);
    if (file.size() < kHeaderBytes || std::memcmp(file.data(), kMagic, sizeof(kMagic)) != 0) {
        throw FormatError("'" + path + "' is not an ltrr_fast lexical index file");
    }
    Reader header(file.data() + sizeof(kMagic), kHeaderBytes - sizeof(kMagic));
    const uint32_t version = header.get<uint32_t>();
    header.get<uint32_t>();
    const uint64_t payload_size = header.get<uint64_t>();
    const uint32_t checksum = header.get<uint32_t>();
    if (version != kFormatVersion) {
        throw FormatError("index file format version " + std::to_string(version) +
                          " is not supported; this build reads version " +
                          std::to_string(kFormatVersion));
    }
    if (payload_size != file.size() - kHeaderBytes) {
        throw FormatError("index file '" + path + "' is truncated or has trailing data");
    }
    const char* payload = file.data() + kHeaderBytes;
    if (crc32(payload, payload_size) != checksum) {
        throw FormatError("index file '" + path + "' is corrupt (checksum mismatch)");
    }
    Reader r(payload, payload_size);

    const uint32_t n_fields = r.get<uint32_t>();
    if (n_fields == 0 || n_fields > kMaxFields || n_fields > r.remaining() / 4) {
        throw FormatError("corrupt index file: bad field count");
    }
    std::vector<std::string> fields;
    for (uint32_t f = 0; f < n_fields; ++f) fields.push_back(r.get_string());
    AnalyzerConfig config;
    config.fold_accents = r.get<uint8_t>() != 0;
    config.cjk_bigrams = r.get<uint8_t>() != 0;
    config.stemmer = r.get_string();
    const uint64_t n_stop = r.get_count(4);
    for (uint64_t i = 0; i < n_stop; ++i) config.stopwords.push_back(r.get_string());

    std::unique_ptr<Index> index;
    try {
        index = std::make_unique<Index>(std::move(fields), std::move(config));
    } catch (const std::invalid_argument& e) {
        throw FormatError(std::string("corrupt index file: ") + e.what());
    }
    Index& ix = *index;

    const uint64_t n_slots = r.get_count(4 + 1 + 8 + 4 * n_fields);
    if (n_slots > kMaxDocs) throw FormatError("corrupt index file: too many documents");
    ix.m_ext_ids.reserve(n_slots);
    for (auto& lengths : ix.m_lengths) lengths.reserve(n_slots);
    for (uint64_t d = 0; d < n_slots; ++d) {
        std::string id = r.get_string();
        const bool alive = r.get<uint8_t>() != 0;
        const double static_score = r.get<double>();
        if (!std::isfinite(static_score) || static_score < 0.0) {
            throw FormatError("corrupt index file: bad static score");
        }
        for (uint32_t f = 0; f < n_fields; ++f) ix.m_lengths[f].push_back(r.get<uint32_t>());
        if (alive) {
            if (id.empty() || !ix.m_id_map.emplace(id, static_cast<uint32_t>(d)).second) {
                throw FormatError("corrupt index file: empty or repeated document id");
            }
            ix.m_alive_bitmap.add(static_cast<uint32_t>(d));
            for (uint32_t f = 0; f < n_fields; ++f) ix.m_total_length[f] += ix.m_lengths[f][d];
            ix.m_max_static = std::max(ix.m_max_static, static_score);
            ++ix.m_n_live;
        } else {
            id.clear();
        }
        ix.m_ext_ids.push_back(std::move(id));
        ix.m_alive.push_back(alive ? 1 : 0);
        ix.m_static.push_back(static_score);
    }

    const uint64_t n_terms = r.get_count(4);
    ix.m_terms.reserve(n_terms);
    for (uint64_t t = 0; t < n_terms; ++t) {
        bool inserted = false;
        ix.m_terms.insert(r.get_string(), 0, &inserted);
        if (!inserted) throw FormatError("corrupt index file: repeated term");
    }
    // Every term has at least one posting entry, which bounds the posting table by the file.
    const uint64_t n_postings = r.get_count(9);
    if (n_terms > n_postings) throw FormatError("corrupt index file: terms without postings");
    ix.m_postings.resize(n_terms * n_fields);

    for (uint64_t i = 0; i < n_postings; ++i) {
        const uint32_t term_id = r.get<uint32_t>();
        const uint32_t field = r.get<uint32_t>();
        if (term_id >= n_terms || field >= n_fields) {
            throw FormatError("corrupt index file: posting for an unknown term or field");
        }
        auto& slot = ix.m_postings[static_cast<size_t>(term_id) * n_fields + field];
        if (slot) throw FormatError("corrupt index file: repeated posting");
        slot = std::make_unique<Posting>();
        Posting& p = *slot;
        p.docs = r.get_doc_list(n_slots);
        const size_t n = p.docs.size();
        p.tfs.resize(n);
        for (size_t j = 0; j < n; ++j) p.tfs[j] = r.get_varint32();
        for (size_t j = 0; j < n; ++j) {
            if (!ix.m_alive[p.docs[j]] || p.tfs[j] == 0) {
                throw FormatError("corrupt index file: posting lists a deleted doc or tf 0");
            }
        }
        p.rebuild_bounds(ix.m_lengths[field]);
        p.sync_bitmap();
    }

    const uint64_t n_attributes = r.get_count(4 + 1);
    for (uint64_t i = 0; i < n_attributes; ++i) {
        std::string key = r.get_string();
        const std::vector<uint32_t> members = r.get_doc_list(n_slots);
        Bitmap bitmap;
        roaring_bitmap_add_many(bitmap.get(), members.size(), members.data());
        if (!ix.m_attributes.emplace(std::move(key), std::move(bitmap)).second) {
            throw FormatError("corrupt index file: repeated attribute");
        }
    }
    if (r.remaining() != 0) throw FormatError("corrupt index file: trailing bytes");
    return index;
}

}  // namespace ltrr
